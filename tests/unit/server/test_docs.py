"""OpenAPI docs render from packaged assets, never from a CDN."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

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


async def _openapi(tmp_path: Path) -> dict[str, Any]:
    async with app_without_lifespan(make_config(tmp_path)) as client:
        document: dict[str, Any] = (await client.get("/openapi.json")).json()
    return document


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


async def test_streaming_routes_declare_ndjson_and_json_errors(tmp_path: Path) -> None:
    paths = (await _openapi(tmp_path))["paths"]
    stream = paths["/query/stream"]["post"]["responses"]
    assert list(stream["200"]["content"]) == ["application/x-ndjson"]
    assert stream["200"]["content"]["application/x-ndjson"]["schema"] == {
        "$ref": "#/components/schemas/QueryStreamLine"
    }
    assert list(stream["502"]["content"]) == ["application/json"]
    for path in ("/api/chat", "/api/generate"):
        answers = paths[path]["post"]["responses"]["200"]["content"]
        assert set(answers) == {"application/x-ndjson", "application/json"}
    chat = paths["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert set(chat) == {"application/json", "text/event-stream"}


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/graph/entity/create", {"400", "409", "502"}),
        ("post", "/graph/entity/edit", {"400", "404", "409"}),
        ("post", "/graph/relation/create", {"404", "409"}),
        ("post", "/graph/entities/merge", {"404"}),
        ("delete", "/graph/entity/delete", {"404"}),
        ("delete", "/graph/relation/delete", {"404"}),
        ("delete", "/documents/delete_entity", {"404"}),
        ("delete", "/documents/delete_document", {"404"}),
        ("delete", "/workspaces/{name}", {"400", "404", "409"}),
        ("post", "/api/chat", {"400", "422", "502", "503"}),
        ("post", "/api/show", {"400", "404"}),
        ("get", "/v1/models/{model}", {"404"}),
        ("post", "/v1/chat/completions", {"400", "422", "502", "503"}),
        ("post", "/documents/upload", {"400", "413", "422"}),
        ("post", "/query", {"413", "422", "502", "503"}),
        ("get", "/ready", {"503"}),
        ("post", "/login", {"401", "429"}),
    ],
)
async def test_routes_declare_the_statuses_they_answer(
    tmp_path: Path, method: str, path: str, statuses: set[str]
) -> None:
    responses = (await _openapi(tmp_path))["paths"][path][method]["responses"]
    assert statuses <= set(responses), sorted(responses)


async def test_protected_routes_declare_401_and_403(tmp_path: Path) -> None:
    paths = (await _openapi(tmp_path))["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            if operation.get("security"):
                assert {"401", "403"} <= set(operation["responses"]), (method, path)


async def test_schemas_reject_what_the_routes_reject(tmp_path: Path) -> None:
    document = await _openapi(tmp_path)
    texts = _schema(document, "InsertTextsRequest")["properties"]["texts"]
    assert texts["minItems"] == 1
    assert texts["items"]["minLength"] == 1 and texts["items"]["pattern"] == r"\S"
    doc_ids = _schema(document, "DeleteDocumentsRequest")["properties"]["doc_ids"]
    assert doc_ids["minItems"] == 1 and doc_ids["items"]["pattern"] == r"\S"
    assert _schema(document, "QueryRequest")["properties"]["query"]["pattern"] == r"\S"
    for model in ("OllamaChatRequest", "ChatCompletionRequest"):
        assert _schema(document, model)["properties"]["messages"]["minItems"] == 1
    body = document["paths"]["/documents/batch"]["post"]["requestBody"]
    assert body["required"] is True
    form = body["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert _schema(document, form)["required"] == ["files"]


async def test_unauthenticated_requests_get_a_declared_401_or_403(tmp_path: Path) -> None:
    """Every route that declares a security requirement, and is not whitelisted, refuses
    a request without credentials with a status it declares."""
    config = make_config(tmp_path, api_key="k")
    whitelist = config.server.whitelist_paths
    async with app_without_lifespan(config) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
        for path, item in paths.items():
            url = re.sub(r"\{[^}]+\}", "x", path)
            if any(fnmatchcase(url, pattern) for pattern in whitelist):
                continue
            for method, operation in item.items():
                if not operation.get("security"):
                    continue
                response = await client.request(method.upper(), url)
                assert response.status_code in (401, 403), (method, path, response.text)
                assert str(response.status_code) in operation["responses"], (method, path)
