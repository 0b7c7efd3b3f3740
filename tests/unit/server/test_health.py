"""Health, readiness, and redaction of secrets in the reported configuration."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from lightrag.core.engine import LightRAG
from lightrag.server.routers.health import redact
from lightrag.vocabulary.coordination import CoordinationUnavailableError

from .server_support import make_config, running_app


async def test_health_reports_status_versions_and_configuration(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    body = (await client.get("/health")).json()
    assert body["status"] == "healthy"
    assert body["core_version"] and body["api_version"]
    assert body["pipeline_busy"] in (True, False)
    assert body["configuration"]["llm_binding"] == "fake"
    assert body["configuration"]["kv_storage"] == "json"


async def test_health_hides_details_from_unauthenticated_callers(tmp_path: Path) -> None:
    async with running_app(make_config(tmp_path, api_key="sekrit-key")) as (client, _):
        anonymous = (await client.get("/health")).json()
        keyed = (await client.get("/health", headers={"X-API-Key": "sekrit-key"})).json()
    assert anonymous["status"] == "healthy" and "configuration" not in anonymous
    assert "configuration" in keyed
    assert "sekrit-key" not in str(keyed)


async def test_ready_is_503_with_the_reason_when_storage_fails(
    served: tuple[httpx.AsyncClient, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, app = served
    rag: LightRAG = app.state.rag

    async def database_down() -> dict[str, int]:
        raise RuntimeError("database is down")

    monkeypatch.setattr(rag.storages.doc_status, "status_counts", database_down)
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "database is down" in response.json()["reason"]


async def test_ready_is_200_once_started(served: tuple[httpx.AsyncClient, FastAPI]) -> None:
    client, _ = served
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_redact_masks_secret_fields_and_url_credentials() -> None:
    config = {
        "llm": {"type": "openai", "api_key": "sk-live", "model": "gpt", "max_tokens": 10},
        "storage": {"uri": "postgres://user:pw@db:5432/x", "password": "pw"},
        "server": {"token_secret": "t", "tokenizer_encoding": "cl100k"},
    }
    result = redact(config)
    assert result["llm"]["api_key"] == "**********"
    assert result["llm"]["max_tokens"] == 10
    assert result["storage"]["password"] == "**********"
    assert result["storage"]["uri"] == "postgres://**********@db:5432/x"
    assert result["server"]["token_secret"] == "**********"
    assert result["server"]["tokenizer_encoding"] == "cl100k"


async def test_health_shows_configuration_to_logged_in_accounts(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        accounts=[{"username": "ops", "password": "pw-for-ops"}],
        token_secret="a-long-random-token-secret-for-tests-only",
    )
    async with running_app(config) as (client, _):
        login = await client.post("/login", data={"username": "ops", "password": "pw-for-ops"})
        token = login.json()["access_token"]
        anonymous = (await client.get("/health")).json()
        logged_in = (
            await client.get("/health", headers={"Authorization": f"Bearer {token}"})
        ).json()
    assert anonymous["auth_mode"] == "enabled" and "configuration" not in anonymous
    assert logged_in["configuration"]["full"]["server"]["token_secret"] == "**********"
    assert "pw-for-ops" not in str(logged_in)


async def test_ready_is_503_when_coordination_is_lost(
    served: tuple[httpx.AsyncClient, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, app = served
    rag: LightRAG = app.state.rag

    async def coordination_down() -> None:
        raise CoordinationUnavailableError("postgres coordination at db:5432: connection lost")

    monkeypatch.setattr(rag.coordinator, "check", coordination_down)
    response = await client.get("/ready")
    assert response.status_code == 503
    assert "coordination at db:5432" in response.json()["reason"]
