"""Shared by the workspace tests (file backends and PostgreSQL): two corpora that share
no word, and helpers that create, feed and poll workspaces over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from lightrag.server.workspaces import WorkspacePool

from .server_support import wait_until

__all__ = [
    "ALPHA",
    "ALPHA_ONLY",
    "ALPHA_WORDS",
    "BETA",
    "BETA_ONLY",
    "BETA_WORDS",
    "HEADER",
    "assert_only",
    "create",
    "ingest",
    "pool_of",
    "wait_idle",
    "ws",
]

HEADER = "LIGHTRAG-WORKSPACE"

ALPHA = [
    "Marie Curie studied radium at the Sorbonne in Paris. Marie Curie won two Nobel prizes.",
]
BETA = [
    "Tycho Brahe observed comets from Uraniborg on Hven. Tycho Brahe trained Johannes Kepler.",
]
ALPHA_WORDS = ("Curie", "radium", "Sorbonne")
BETA_WORDS = ("Tycho", "Uraniborg", "Kepler")
# words of the documents that the questions below do not contain (answers echo questions)
ALPHA_ONLY = ("radium", "Sorbonne", "curie.txt")
BETA_ONLY = ("Uraniborg", "Kepler", "brahe.txt")


def ws(name: str) -> dict[str, str]:
    return {HEADER: name}


async def create(client: httpx.AsyncClient, name: str, **kw: Any) -> None:
    response = await client.post("/workspaces", json={"name": name}, **kw)
    assert response.status_code == 201, response.text


async def ingest(client: httpx.AsyncClient, name: str, texts: list[str], source: str) -> None:
    response = await client.post(
        "/documents/texts",
        json={"texts": texts, "file_sources": [source] * len(texts)},
        headers=ws(name),
    )
    assert response.status_code == 200, response.text
    await wait_idle(client, name)


async def wait_idle(client: httpx.AsyncClient, name: str) -> dict[str, int]:
    async def idle() -> dict[str, int] | None:
        status = (await client.get("/documents/pipeline_status", headers=ws(name))).json()
        counts = (await client.get("/documents/status_counts", headers=ws(name))).json()
        counts = counts["status_counts"]
        if status["busy"] or counts.get("pending") or counts.get("processing"):
            return None
        return dict(counts)

    result: dict[str, int] = await wait_until(idle, what=f"workspace {name} to finish")
    return result


def pool_of(app: FastAPI) -> WorkspacePool:
    pool: WorkspacePool = app.state.pool
    return pool


def assert_only(text: str, present: tuple[str, ...], absent: tuple[str, ...]) -> None:
    assert any(word in text for word in present), text[:500]
    for word in absent:
        assert word not in text, f"{word!r} leaked: {text[:500]}"
