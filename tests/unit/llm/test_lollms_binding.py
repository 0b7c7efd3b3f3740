"""LoLLMs bindings against the protocol server."""

from __future__ import annotations

import numpy as np
import pytest
from model_protocol_server import FAST_RETRIES, ModelProtocolServer, Step, answer_for

from lightrag.llm.lollms import LollmsChatModel, LollmsEmbeddingModel
from lightrag.testing.fakes import HashingEmbeddingModel
from lightrag.vocabulary.models import ModelError


def chat(server: ModelProtocolServer, **extra: object) -> LollmsChatModel:
    return LollmsChatModel({"host": server.url, "model": "llama3", **FAST_RETRIES, **extra})


async def test_generate_lays_out_system_and_history_before_the_prompt(
    server: ModelProtocolServer,
) -> None:
    server.state.required_key = "lollms-key-9"
    llm = chat(server, api_key="lollms-key-9")
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    answer = await llm.complete("last?", system_prompt="sys", history=history, max_tokens=64)  # type: ignore[arg-type]
    assert answer == answer_for("last?")
    (body,) = server.state.bodies("/lollms_generate")
    assert body["prompt"] == "sys\nuser: hi\nassistant: hello\nlast?"
    assert body["model_name"] == "llama3"
    assert body["n_predict"] == 64
    assert body["stream"] is False
    assert body["personality"] == -1
    assert llm.identity == "lollms:llama3"
    await llm.aclose()


async def test_stream_returns_the_text_as_it_arrives(server: ModelProtocolServer) -> None:
    server.state.stream_pause = 0.05
    llm = chat(server)
    pieces = [piece async for piece in llm.stream("tell")]
    assert len(pieces) > 1
    assert "".join(pieces) == answer_for("tell")
    await llm.aclose()


async def test_connection_drop_mid_stream_raises(server: ModelProtocolServer) -> None:
    server.state.stream_break_after = 2
    llm = chat(server)
    with pytest.raises(ModelError, match=r"lollms chat model 'llama3'.*stream broke off"):
        async for _ in llm.stream("tell"):
            pass
    await llm.aclose()


async def test_embed_sends_one_text_per_request_concurrently(server: ModelProtocolServer) -> None:
    server.state.handler_delay = 0.1
    emb = LollmsEmbeddingModel({"host": server.url, "dim": 8, "max_async": 3, **FAST_RETRIES})
    texts = ["a b", "c", "d e f", "g"]
    vectors = await emb.embed(texts)
    hashing = HashingEmbeddingModel({"dim": 8})
    np.testing.assert_allclose(vectors, np.stack([hashing.embed_one(t) for t in texts]), rtol=1e-6)
    assert sorted(b["text"] for b in server.state.bodies("/lollms_embed")) == sorted(texts)
    assert server.state.max_in_flight == 3
    await emb.aclose()


async def test_embed_retries_a_5xx_batch_member(server: ModelProtocolServer) -> None:
    server.state.plan("/lollms_embed", Step(500))
    emb = LollmsEmbeddingModel({"host": server.url, "dim": 8, **FAST_RETRIES})
    assert (await emb.embed(["x"])).shape == (1, 8)
    assert len(server.state.seen) == 2
    await emb.aclose()
