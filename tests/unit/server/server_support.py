"""Helpers for server tests: configs with fake models, a running app, polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from lightrag.config.models import AppConfig, BackendChoice, ServerConfig
from lightrag.server.app import create_app

PIPELINE_DEADLINE_SECONDS = 60.0


def make_config(tmp_path: Path, *, llm: dict[str, Any] | None = None, **server: Any) -> AppConfig:
    """An app config with fake models and the default file storages under ``tmp_path``;
    ``llm`` adds options of the fake chat model, ``server`` sets server fields."""
    return AppConfig(
        server=ServerConfig(
            working_dir=tmp_path / "rag_storage", input_dir=tmp_path / "inputs", **server
        ),
        llm=BackendChoice.model_validate({"type": "fake", **(llm or {})}),
        embedding=BackendChoice(type="fake"),
    )


@asynccontextmanager
async def running_app(config: AppConfig) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """The app with its lifespan entered, and an ASGI client talking to it."""
    app = create_app(config)
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=60) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as client,
    ):
        yield client, app


@asynccontextmanager
async def app_without_lifespan(config: AppConfig) -> AsyncIterator[httpx.AsyncClient]:
    """A client for routes that need no engine (auth, docs, limits before the route)."""
    app = create_app(config)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def wait_until(
    check: Callable[[], Any], *, what: str, deadline: float = PIPELINE_DEADLINE_SECONDS
) -> Any:
    """Poll the async ``check`` until it returns something truthy; fail after ``deadline``."""
    end = time.monotonic() + deadline
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > end:
            pytest.fail(f"timed out after {deadline}s waiting for {what}")
        await asyncio.sleep(0.05)


async def wait_for_pipeline(client: httpx.AsyncClient) -> dict[str, int]:
    """Wait until no document is pending or processing and the pipeline is idle."""

    async def idle() -> dict[str, int] | None:
        status = (await client.get("/documents/pipeline_status")).json()
        counts = (await client.get("/documents/status_counts")).json()["status_counts"]
        if status["busy"] or counts.get("pending") or counts.get("processing"):
            return None
        return dict(counts)

    result: dict[str, int] = await wait_until(idle, what="the pipeline to finish")
    return result


async def insert_texts(client: httpx.AsyncClient, texts: list[str], sources: list[str]) -> str:
    response = await client.post("/documents/texts", json={"texts": texts, "file_sources": sources})
    assert response.status_code == 200, response.text
    track_id: str = response.json()["track_id"]
    return track_id


CORPUS = [
    "Alice Smith works at Acme Corporation in Berlin. Alice Smith leads the Robotics Lab.",
    "Bob Jones founded Acme Corporation. Bob Jones and Alice Smith met in Berlin.",
]
CORPUS_SOURCES = ["alice.txt", "bob.txt"]
