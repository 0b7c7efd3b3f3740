"""Start-up: models that can be loaded ahead are loaded before the server is ready."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from lightrag.compose import build_engine
from lightrag.server.app import create_app
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel
from lightrag.vocabulary.models import ModelError

from .server_support import make_config


class LoadableChatModel(FakeChatModel):
    """The fake chat model with the optional ``load()`` of the embedded models."""

    def __init__(self, error: Exception | None = None) -> None:
        super().__init__()
        self.loads = 0
        self.error = error

    async def load(self) -> None:
        self.loads += 1
        if self.error is not None:
            raise self.error


class LoadableEmbeddingModel(HashingEmbeddingModel):
    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    async def load(self) -> None:
        self.loads += 1


async def test_models_with_load_are_loaded_before_the_server_is_ready(tmp_path: Path) -> None:
    llm, embedding = LoadableChatModel(), LoadableEmbeddingModel()
    config = make_config(tmp_path)
    rag = build_engine(config, llm=llm, embedding=embedding)
    app = create_app(config, rag=rag)
    try:
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
            ) as client,
        ):
            assert (await client.get("/ready")).status_code == 200
            assert (llm.loads, embedding.loads) == (1, 1)
    finally:
        await rag.finalize()


async def test_a_model_that_fails_to_load_stops_the_start(tmp_path: Path) -> None:
    llm = LoadableChatModel(ModelError("model file model.onnx is corrupt"))
    config = make_config(tmp_path)
    rag = build_engine(config, llm=llm, embedding=HashingEmbeddingModel())
    app = create_app(config, rag=rag)
    try:
        with pytest.raises(ModelError, match="corrupt"):
            async with LifespanManager(app):
                pytest.fail("the app started although its model failed to load")
        assert app.state.ready is False
    finally:
        await rag.finalize()
