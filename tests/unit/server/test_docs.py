"""OpenAPI docs render from packaged assets, never from a CDN."""

from __future__ import annotations

from pathlib import Path

from .server_support import app_without_lifespan, make_config


async def test_swagger_page_loads_its_assets_from_this_server(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path)) as client:
        page = (await client.get("/docs")).text
        script = await client.get("/docs-assets/swagger-ui-bundle.js")
        css = await client.get("/docs-assets/swagger-ui.css")
    assert "/docs-assets/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    assert script.status_code == 200 and len(script.content) > 100_000
    assert css.status_code == 200


async def test_redoc_page_loads_its_script_from_this_server(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path)) as client:
        page = (await client.get("/redoc")).text
        script = await client.get("/docs-assets/redoc.standalone.js")
    assert "/docs-assets/redoc.standalone.js" in page
    assert "fonts.googleapis" not in page and "cdn" not in page.lower()
    assert script.status_code == 200


async def test_root_redirects_to_docs(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path, api_key="k")) as client:
        response = await client.get("/")
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/docs"


async def test_openapi_lists_every_core_route(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path)) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/query",
        "/query/stream",
        "/query/data",
        "/documents/text",
        "/documents/texts",
        "/documents/file",
        "/documents/batch",
        "/documents/file_batch",
        "/documents/upload",
        "/documents/scan",
        "/documents",
        "/documents/status_counts",
        "/documents/paginated",
        "/documents/track_status/{track_id}",
        "/documents/pipeline_status",
        "/documents/delete_document",
        "/documents/clear_cache",
        "/documents/reprocess_failed",
        "/documents/cancel_pipeline",
        "/documents/supported_file_types",
        "/graph/label/list",
        "/graph/label/popular",
        "/graph/label/search",
        "/graphs",
        "/graph/entity/exists",
        "/graph/entity/create",
        "/graph/entity/edit",
        "/graph/relation/create",
        "/graph/relation/edit",
        "/graph/entities/merge",
        "/graph/entity/delete",
        "/graph/relation/delete",
        "/health",
        "/ready",
        "/login",
        "/auth-status",
        "/auth/verify",
        "/documents/scan-progress",
        "/documents/scan/status/{track_id}",
        "/documents/delete_entity",
        "/documents/delete_relation",
    ):
        assert path in paths, path
