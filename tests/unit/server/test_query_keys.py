"""Query keys (``server.query_api_keys``): read and query, never change anything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lightrag.config.models import AppConfig

from .server_support import CORPUS, CORPUS_SOURCES, make_config, running_app, wait_for_pipeline

ADMIN = {"X-API-Key": "admin-key-1"}
QUERY = {"X-API-Key": "query-key-1"}
MODEL = "lightrag:latest"


def _config(tmp_path: Path, **server: Any) -> AppConfig:
    return make_config(
        tmp_path, api_key="admin-key-1", query_api_keys=["query-key-1", "query-key-2"], **server
    )


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(_config(tmp_path)) as (http, _app):
        response = await http.post(
            "/documents/texts",
            headers=ADMIN,
            json={"texts": CORPUS, "file_sources": CORPUS_SOURCES},
        )
        assert response.status_code == 200, response.text
        http.headers.update(ADMIN)
        await wait_for_pipeline(http)
        del http.headers["X-API-Key"]
        yield http


QUERY_CALLS = [
    ("POST", "/query", {"query": "Where does Alice Smith work?"}),
    ("POST", "/query/stream", {"query": "Where does Alice Smith work?"}),
    ("POST", "/query/data", {"query": "Where does Alice Smith work?"}),
    ("POST", "/api/chat", {"model": MODEL, "messages": [{"role": "user", "content": "Alice?"}]}),
    ("POST", "/api/generate", {"model": MODEL, "prompt": "Say hi", "stream": False}),
    ("POST", "/api/show", {"model": MODEL}),
    (
        "POST",
        "/v1/chat/completions",
        {"model": MODEL, "messages": [{"role": "user", "content": "Alice?"}]},
    ),
    ("POST", "/documents/paginated", {"page": 1, "page_size": 10}),
    ("GET", "/documents", None),
    ("GET", "/documents/status_counts", None),
    ("GET", "/graph/label/list", None),
    ("GET", "/api/tags", None),
    ("GET", "/v1/models", None),
    ("GET", "/health", None),
]

WRITE_CALLS = [
    ("POST", "/documents/text", {"text": "a new document"}),
    ("POST", "/documents/texts", {"texts": ["a"], "file_sources": ["a.txt"]}),
    ("POST", "/documents/scan", None),
    ("POST", "/documents/clear_cache", {}),
    ("POST", "/documents/reprocess_failed", None),
    ("DELETE", "/documents", None),
    ("DELETE", "/documents/delete_document", {"doc_ids": ["doc-x"]}),
    ("POST", "/graph/entity/edit", {"entity_name": "Alice Smith", "updated_data": {}}),
    ("DELETE", "/graph/entity/delete", {"entity_name": "Alice Smith"}),
    ("POST", "/workspaces", {"name": "team_b"}),
]


@pytest.mark.parametrize(("method", "path", "body"), QUERY_CALLS, ids=lambda v: str(v))
async def test_a_query_key_may_read_query_and_chat(
    client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await client.request(method, path, headers=QUERY, json=body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "path", "body"), WRITE_CALLS, ids=lambda v: str(v))
async def test_a_query_key_may_not_write(
    client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await client.request(method, path, headers=QUERY, json=body)
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "query key" in detail and f"{method} {path}" in detail and "server.api_key" in detail


async def test_a_refused_write_changes_nothing(client: httpx.AsyncClient) -> None:
    before = (await client.get("/documents/status_counts", headers=QUERY)).json()
    await client.delete("/documents", headers=QUERY)
    await client.post(
        "/documents/text", headers={"Authorization": "Bearer query-key-2"}, json={"text": "x"}
    )
    after = (await client.get("/documents/status_counts", headers=QUERY)).json()
    assert after == before


async def test_the_admin_key_still_writes(client: httpx.AsyncClient) -> None:
    response = await client.post("/documents/text", headers=ADMIN, json={"text": "admin adds"})
    assert response.status_code == 200, response.text


async def test_a_query_key_works_as_a_bearer_token_for_openai_clients(
    client: httpx.AsyncClient,
) -> None:
    bearer = {"Authorization": "Bearer query-key-2"}
    models = await client.get("/v1/models", headers=bearer)
    write = await client.delete("/documents", headers=bearer)
    assert models.status_code == 200
    assert write.status_code == 403


async def test_unknown_keys_are_refused_as_before(client: httpx.AsyncClient) -> None:
    response = await client.get("/documents", headers={"X-API-Key": "query-key-3"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid API Key"}


async def test_query_keys_alone_make_a_read_only_server(tmp_path: Path) -> None:
    config = make_config(tmp_path, query_api_keys=["query-key-1"])
    async with running_app(config) as (client, _app):
        read = await client.get("/documents", headers=QUERY)
        write = await client.post("/documents/text", headers=QUERY, json={"text": "x"})
        anonymous = await client.get("/documents")
    assert read.status_code == 200
    assert write.status_code == 403
    assert anonymous.status_code == 403


def test_query_keys_come_from_lightrag_query_api_keys(tmp_path: Path) -> None:
    from lightrag.config.loader import ConfigRequest, load_config

    environ = {"LIGHTRAG_QUERY_API_KEYS": "q-one, q-two"}
    server = load_config(ConfigRequest(environ=environ, cwd=tmp_path)).config.server
    assert [key.get_secret_value() for key in server.query_api_keys] == ["q-one", "q-two"]
