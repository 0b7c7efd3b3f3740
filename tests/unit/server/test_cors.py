"""Cross-origin policy: any site may read, none may write unless ``cors_origins`` lists it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .server_support import (
    app_without_lifespan,
    insert_texts,
    make_config,
    running_app,
    wait_for_pipeline,
)

EVIL = "https://evil.example"
UI = "https://ui.example"


async def test_default_refuses_a_cross_origin_delete_and_keeps_the_documents(
    tmp_path: Path,
) -> None:
    async with running_app(make_config(tmp_path)) as (client, _app):
        await insert_texts(client, ["Alice works at Acme."], ["alice.txt"])
        await wait_for_pipeline(client)
        refused = await client.delete("/documents", headers={"Origin": EVIL})
        counts = await wait_for_pipeline(client)

    assert refused.status_code == 403
    detail = refused.json()["detail"]
    assert EVIL in detail and "server.cors_origins" in detail and "CORS_ORIGINS" in detail
    assert counts["processed"] == 1  # nothing was cleared


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_default_refuses_every_cross_origin_write_method(tmp_path: Path, method: str) -> None:
    async with app_without_lifespan(make_config(tmp_path)) as client:
        response = await client.request(
            method, "/documents/text", headers={"Origin": EVIL}, json={"text": "x"}
        )
    assert response.status_code == 403


async def test_default_refuses_a_form_post_that_needs_no_preflight(tmp_path: Path) -> None:
    """The classic cross-site form: urlencoded, no custom header, so no preflight."""
    async with app_without_lifespan(make_config(tmp_path)) as client:
        response = await client.post(
            "/documents/clear_cache",
            headers={"Origin": EVIL, "Content-Type": "application/x-www-form-urlencoded"},
            content=b"a=b",
        )
    assert response.status_code == 403


async def test_default_lets_any_origin_read_as_before(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path)) as client:
        response = await client.get("/documents/supported_file_types", headers={"Origin": EVIL})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


async def test_default_preflight_allows_reads_and_refuses_writes(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path)) as client:
        read = await client.options(
            "/documents", headers={"Origin": EVIL, "Access-Control-Request-Method": "GET"}
        )
        write = await client.options(
            "/documents", headers={"Origin": EVIL, "Access-Control-Request-Method": "DELETE"}
        )
    assert read.status_code == 200
    assert write.status_code == 400


async def test_default_allows_writes_without_origin_and_from_the_server_itself(
    tmp_path: Path,
) -> None:
    async with running_app(make_config(tmp_path)) as (client, _app):
        no_origin = await client.post("/documents/text", json={"text": "curl sends no Origin"})
        same_origin = await client.post(
            "/documents/text",
            headers={"Origin": "http://testserver"},  # the web UI served by this server
            json={"text": "the web UI posts from its own origin"},
        )
    assert no_origin.status_code == 200, no_origin.text
    assert same_origin.status_code == 200, same_origin.text


async def test_configured_origins_may_write_and_others_may_not(tmp_path: Path) -> None:
    config = make_config(tmp_path, cors_origins=[UI])
    async with running_app(config) as (client, _app):
        allowed = await client.post(
            "/documents/text", headers={"Origin": UI}, json={"text": "from the configured UI"}
        )
        refused = await client.post(
            "/documents/text", headers={"Origin": EVIL}, json={"text": "from elsewhere"}
        )
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == UI
    assert refused.status_code == 403


async def test_star_configured_explicitly_lets_every_origin_write(tmp_path: Path) -> None:
    config = make_config(tmp_path, cors_origins=["*"])
    async with running_app(config) as (client, _app):
        response = await client.post(
            "/documents/text", headers={"Origin": EVIL}, json={"text": "operator chose *"}
        )
    assert response.status_code == 200, response.text


async def test_cors_origins_env_value_configures_the_writers(tmp_path: Path) -> None:
    from lightrag.config.loader import ConfigRequest, load_config

    environ = {"CORS_ORIGINS": f"{UI}, http://localhost:5173"}
    loaded = load_config(ConfigRequest(environ=environ, cwd=tmp_path))
    assert loaded.config.server.cors_origins == [UI, "http://localhost:5173"]
    assert load_config(ConfigRequest(cwd=tmp_path)).config.server.cors_origins is None
