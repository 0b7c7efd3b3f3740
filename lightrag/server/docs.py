"""OpenAPI docs (``/docs`` Swagger UI, ``/redoc``) served from an installed package, and
the OpenAPI document completed with the answers shared machinery gives.

The JavaScript and CSS come from the ``fastapi-offline`` wheel's static folder,
so the pages render with no network (no CDN).

Each route declares its own error statuses (``responses=`` on the decorator);
``complete_openapi`` adds the ones that come from shared machinery, read off each
operation so the document cannot drift: 401/403 where a security requirement is
declared (authentication), 400/401/403/404/503 where the ``LIGHTRAG-WORKSPACE`` header
is (the workspace lease), 400/413 where there is a request body (an unparsable body,
the size limit), 404 where there is a path parameter (routing), and a
422 that is either FastAPI's validation error list or a limit's ``{"detail": ...}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from lightrag.server.deps import WORKSPACE_HEADER
from lightrag.server.schemas import ErrorResponse

__all__ = ["DOCS_ASSETS_PATH", "complete_openapi", "mount_offline_docs"]

DOCS_ASSETS_PATH = "/docs-assets"
_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"


def mount_offline_docs(app: FastAPI) -> None:
    """Add ``/docs``, ``/docs/oauth2-redirect``, ``/redoc`` and their static assets.

    The app must be built with ``docs_url=None, redoc_url=None``.
    """
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = "/docs/oauth2-redirect"
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=_ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - API docs",
            oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_PATH}/favicon.png",
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )


_ERROR_REF = "#/components/schemas/ErrorResponse"
_JSON = "application/json"

_AUTH_ANSWERS = {
    "401": "Credentials missing or invalid (`X-API-Key` or `Authorization: Bearer`)",
    "403": "The credentials do not allow this request",
}
_WORKSPACE_ANSWERS = {
    "400": "Invalid workspace name in the `LIGHTRAG-WORKSPACE` header",
    "401": "A workspace other than the default needs credentials",
    "403": "The credentials do not open that workspace",
    "404": "Unknown workspace (see `GET /workspaces`)",
    "503": "The server is starting",
}
_BODY_ANSWERS = {
    "400": "The body could not be parsed as its content type",
    "413": "Request body over `server.max_request_body` (`max_upload_size` for files)",
}
_PATH_ANSWERS = {"404": "No route matches the path (a parameter with a line break)"}


def _shared_answers(operation: dict[str, Any]) -> dict[str, str]:
    """The error statuses an operation gets from shared machinery, read off the operation:
    a request body (parsing, the size limit), a path parameter (routing), the workspace
    header (the workspace lease), a security requirement (authentication)."""
    answers: dict[str, str] = {}
    if "requestBody" in operation:
        answers.update(_BODY_ANSWERS)
    parameters = operation.get("parameters", [])
    if any(p.get("in") == "path" for p in parameters):
        answers.update(_PATH_ANSWERS)
    headers = {p.get("name", "").lower() for p in parameters if p.get("in") == "header"}
    if WORKSPACE_HEADER.lower() in headers:
        answers.update(_WORKSPACE_ANSWERS)
    if operation.get("security"):
        answers.update(_AUTH_ANSWERS)
    return answers


def _with_error_body(response: dict[str, Any]) -> None:
    """Let a declared answer also carry ``{"detail": ...}`` (dependencies answer so)."""
    media = response.setdefault("content", {}).setdefault(_JSON, {})
    schema = media.get("schema")
    if not schema:
        media["schema"] = {"$ref": _ERROR_REF}
        return
    choices = schema.get("anyOf", [schema])
    if {"$ref": _ERROR_REF} not in choices:
        media["schema"] = {"anyOf": [*choices, {"$ref": _ERROR_REF}]}


def _errors_as_json(responses: dict[str, Any]) -> None:
    """FastAPI files every answer of a streaming route under the stream's media type: the
    errors are JSON, and a success schema is its line model, not also ``type: string``."""
    for code, response in responses.items():
        content: dict[str, Any] = response.get("content", {})
        if code.startswith("2"):
            for media in content.values():
                schema = media.get("schema", {})
                if "$ref" in schema:
                    schema.pop("type", None)
            continue
        for media_type in [m for m in content if m != _JSON]:
            content.setdefault(_JSON, content.pop(media_type))


def _complete_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    _errors_as_json(responses)
    for code, description in _shared_answers(operation).items():
        if code in responses:
            _with_error_body(responses[code])
        else:
            responses[code] = {
                "description": description,
                "content": {_JSON: {"schema": {"$ref": _ERROR_REF}}},
            }
    if "422" in responses:
        # A limit (query length, texts per request, an unreadable file) answers 422 too.
        _with_error_body(responses["422"])
    operation["responses"] = dict(sorted(responses.items()))


def complete_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the statuses each operation gets from shared
    machinery (see the module docstring), whenever FastAPI (re)builds the document."""
    build = app.openapi
    completed: list[int] = []

    def openapi() -> dict[str, Any]:
        schema = build()
        if completed and completed[0] == id(schema):
            return schema
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorResponse", ErrorResponse.model_json_schema())
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    _complete_operation(operation)
        completed[:] = [id(schema)]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
