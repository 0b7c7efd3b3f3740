"""Abandoned queries stop, slow ones answer 504: ``server.query_timeout`` and disconnects.

The disconnect tests run the real app under uvicorn on loopback with the fake chat
model doing ``work_units`` of CPU work per call (a unit hashes 1 MiB in a worker thread,
a few milliseconds, counted in ``work_done``). The client hangs up once the work has
begun; the work must stop: the model's call is cancelled and its counter stays put.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from lightrag.server.app import create_app
from lightrag.server.query_guard import QueryGuard, QueryTimeoutError
from lightrag.testing.fakes import FakeChatModel

from .server_support import make_config, running_app

CALL_UNITS = 100_000
"""Units a call would do if nobody stopped it (minutes of work)."""
UNITS_AFTER_LEAVING = 100
"""Most units a call may still do once its client has left: a fraction of a second's work."""

ROUTES: list[tuple[str, dict[str, Any]]] = [
    ("/query", {"query": "Where does Alice work?", "mode": "hybrid"}),
    ("/query/stream", {"query": "Where does Alice work?", "mode": "hybrid"}),
    ("/query/data", {"query": "Where does Alice work?", "mode": "local"}),
    ("/api/chat", {"model": "lightrag:latest", "messages": [{"role": "user", "content": "Hi?"}]}),
    (
        "/v1/chat/completions",
        {"model": "lightrag:latest", "messages": [{"role": "user", "content": "Hi?"}]},
    ),
]


@contextmanager
def _served(app: FastAPI) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start the app")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FakeChatModel]]:
    root = tmp_path_factory.mktemp("guard")
    app = create_app(make_config(root, llm={"work_units": CALL_UNITS}))
    with _served(app) as url:
        model = app.state.rag.ctx.llm
        assert isinstance(model, FakeChatModel)
        yield url, model


async def _poll(condition: Any, what: str, seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize(("path", "body"), ROUTES, ids=[path for path, _ in ROUTES])
async def test_a_client_that_disconnects_stops_its_query_work(
    busy_server: tuple[str, FakeChatModel], path: str, body: dict[str, Any]
) -> None:
    url, model = busy_server
    await _poll(lambda: model.in_flight == 0, "the previous test's call to end")
    before = model.work_done
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        request = asyncio.create_task(client.post(path, json=body))
        await _poll(lambda: model.work_done > before, "the query's model work to begin")
        request.cancel()  # the client hangs up: httpx closes the connection
        with pytest.raises(asyncio.CancelledError):
            await request
    left_at = model.work_done
    await _poll(lambda: model.in_flight == 0, "the model call to be cancelled")
    stopped_at = model.work_done
    await asyncio.sleep(0.2)  # a call still running would add units meanwhile
    assert model.work_done == stopped_at, "work went on after the call ended"
    assert stopped_at - left_at <= UNITS_AFTER_LEAVING
    assert stopped_at - before < CALL_UNITS


@pytest.fixture
async def slow_app(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, FakeChatModel]]:
    config = make_config(tmp_path, llm={"latency_ms": 5000}, query_timeout=0.3)
    async with running_app(config) as (client, app):
        yield client, app.state.rag.ctx.llm


@pytest.mark.parametrize(("path", "body"), ROUTES, ids=[path for path, _ in ROUTES])
async def test_a_query_past_query_timeout_answers_504_and_its_work_stops(
    slow_app: tuple[httpx.AsyncClient, FakeChatModel], path: str, body: dict[str, Any]
) -> None:
    client, model = slow_app
    response = await client.post(path, json=body)
    assert response.status_code == 504, response.text
    assert "server.query_timeout" in response.text and "0.3 s" in response.text
    assert model.in_flight == 0
    if path.startswith("/api/"):
        assert set(response.json()) == {"error"}
    elif path.startswith("/v1/"):
        assert response.json()["error"]["type"] == "timeout"
    else:
        assert "detail" in response.json()


async def test_a_stream_past_the_deadline_ends_with_a_timeout_error_and_closes_its_source() -> None:
    closed = False

    async def pieces() -> AsyncIterator[str]:
        nonlocal closed
        try:
            yield "first"
            await asyncio.sleep(30)
            yield "never"
        finally:
            closed = True

    guard = QueryGuard(None, 0.2)  # type: ignore[arg-type]  # streams never read the request
    relayed = guard.stream(pieces())
    assert await anext(relayed) == "first"
    with pytest.raises(QueryTimeoutError, match=r"within 0\.2 s \(server\.query_timeout\)"):
        await anext(relayed)
    assert closed


async def test_without_a_limit_a_stream_is_relayed_whole() -> None:
    async def pieces() -> AsyncIterator[str]:
        for piece in ("a", "b"):
            yield piece

    guard = QueryGuard(None, None)  # type: ignore[arg-type]
    assert [piece async for piece in guard.stream(pieces())] == ["a", "b"]
