"""Liveness (``/health``), readiness (``/ready``) and the root redirect.

``/health`` is whitelisted by default: anyone gets status, versions and whether
the pipeline is busy; authenticated callers (or everyone when auth is off) also
get directories and the configuration with every secret redacted.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse

import lightrag
from lightrag.compose import cosine_threshold
from lightrag.config.models import AppConfig
from lightrag.core.engine import LightRAG
from lightrag.registry.models import embedding_registry
from lightrag.server.auth import API_VERSION, Authenticator, request_is_authenticated
from lightrag.server.deps import ConfigDep, WorkspaceDep
from lightrag.server.schemas import ReadinessResponse

__all__ = ["redact", "router"]

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])

_SECRET_PARTS = frozenset(
    {"key", "apikey", "secret", "password", "passwd", "pwd", "credential", "credentials"}
)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][\w+.-]*://)[^/@\s]+@")
_REDACTED = "**********"
_READY_TIMEOUT_SECONDS = 5.0


def _is_secret_key(name: str) -> bool:
    parts = set(re.split(r"[_\-.]", name.lower()))
    return bool(parts & _SECRET_PARTS) or name.lower() == "token" or name.lower().endswith("_token")


def redact(value: Any) -> Any:
    """``value`` with secret-named fields masked and credentials removed from URLs."""
    if isinstance(value, dict):
        return {
            key: _REDACTED if _is_secret_key(str(key)) and item else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(r"\g<scheme>" + _REDACTED + "@", value)
    return value


def _configuration(config: AppConfig) -> dict[str, Any]:
    llm, embedding = config.llm.params(), config.embedding.params()
    summary = {
        "llm_binding": config.llm.type,
        "llm_binding_host": llm.get("host"),
        "llm_model": llm.get("model"),
        "embedding_binding": config.embedding.type,
        "embedding_binding_host": embedding.get("host"),
        "embedding_model": embedding.get("model"),
        "kv_storage": config.storage.kv.type,
        "doc_status_storage": config.storage.doc_status.type,
        "graph_storage": config.storage.graph.type,
        "vector_storage": config.storage.vector.type,
        "workspace": config.server.workspace,
        "max_graph_nodes": config.rag.max_graph_nodes,
        "max_async": config.rag.max_async,
        "max_parallel_insert": config.rag.max_parallel_insert,
        "cosine_threshold": cosine_threshold(
            config.rag.cosine_threshold, embedding_registry.load(config.embedding.type)
        ),
        "enable_llm_cache": config.rag.enable_llm_cache,
        "enable_llm_cache_for_extract": config.rag.enable_llm_cache_for_extract,
    }
    return redact({**summary, "full": config.model_dump(mode="json")})


@router.get("/health")
async def health(request: Request, space: WorkspaceDep, config: ConfigDep) -> dict[str, Any]:
    """Liveness: status, versions, auth mode, the request's workspace and whether its
    pipeline is busy (and details when allowed)."""
    rag = space.engine
    auth: Authenticator = request.app.state.auth
    payload: dict[str, Any] = {
        "status": "healthy",
        "core_version": lightrag.__version__,
        "api_version": API_VERSION,
        "auth_mode": auth.auth_mode,
        "pipeline_busy": rag.pipeline_status.busy,  # this replica (cheap: no database)
        "workspace": space.name,
    }
    if request_is_authenticated(request):
        # The configuration does not change while the app runs: redact it once.
        state = request.app.state
        if getattr(state, "health_configuration", None) is None:
            state.health_configuration = _configuration(config)
        payload |= {
            "working_directory": str(config.server.working_dir),
            "input_directory": str(space.input_dir),
            "configuration": state.health_configuration,
        }
    return payload


@router.get(
    "/ready",
    response_model=None,
    responses={
        200: {"model": ReadinessResponse},
        503: {"model": ReadinessResponse, "description": "Starting, or a storage fails"},
    },
)
async def ready(request: Request) -> JSONResponse | dict[str, str]:
    """Readiness: 200 once storages are open and answer; 503 (with the reason) otherwise.
    The default workspace's storages answer for the server (they share its databases)."""
    if not getattr(request.app.state, "ready", False):
        return JSONResponse({"status": "starting"}, status_code=503)
    rag: LightRAG = request.app.state.rag
    try:
        async with asyncio.timeout(_READY_TIMEOUT_SECONDS):
            await rag.check_ready()
    except Exception as exc:
        # Any storage failure means "not ready" (drivers raise their own error types,
        # e.g. redis or asyncpg errors that are not OSError): answer 503 with the reason.
        logger.warning("readiness check failed: %r", exc)
        return JSONResponse(
            {"status": "unavailable", "reason": f"storage or coordination: {exc!r}"},
            status_code=503,
        )
    return {"status": "ready"}


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse(url="/docs")
