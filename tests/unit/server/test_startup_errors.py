"""A start-up failure an operator can fix is reported as its own message, not a traceback."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from lightrag.compose import build_engine
from lightrag.config.models import BackendChoice
from lightrag.server.app import create_app
from lightrag.server.startup_errors import StartupErrorReport
from lightrag.testing.fakes import HashingEmbeddingModel

from .server_support import make_config
from .test_startup import LoadableChatModel


async def _startup_messages(app: Any) -> list[dict[str, Any]]:
    """Drive the ASGI lifespan start-up as uvicorn does; the messages the app sends."""
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "lifespan.startup"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0) if inbox else {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    # Starlette re-raises after reporting the failure; uvicorn swallows it the same way.
    with contextlib.suppress(Exception):
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    return sent


async def test_a_database_down_at_start_up_is_reported_by_host_and_port(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    down = {"host": "127.0.0.1", "port": 1, "user": "lightrag", "password": "s3cret-pw"}
    config.storage.kv = BackendChoice.model_validate({"type": "postgres", **down})
    app = StartupErrorReport(create_app(config))

    messages = await _startup_messages(app)

    failed = [m for m in messages if m["type"] == "lifespan.startup.failed"]
    assert len(failed) == 1
    report = failed[0]["message"]
    assert report.startswith("cannot start: postgres: cannot reach 127.0.0.1:1")
    assert "Traceback" not in report and "s3cret-pw" not in report


async def test_a_model_that_fails_to_load_is_reported_without_a_traceback(tmp_path: Path) -> None:
    from lightrag.vocabulary.models import ModelError

    config = make_config(tmp_path)
    llm = LoadableChatModel(ModelError("embedded: model file missing"))
    rag = build_engine(config, llm=llm, embedding=HashingEmbeddingModel())
    app = StartupErrorReport(create_app(config, rag=rag))

    messages = await _startup_messages(app)

    assert {
        "type": "lifespan.startup.failed",
        "message": "cannot start: embedded: model file missing",
    } in messages
