"""FastAPI dependencies: the request's workspace (its engine, scanner, input directory),
the config and background helpers held in the app's state.

A request names its workspace with the ``LIGHTRAG-WORKSPACE`` header (chat routes also
by their model name, ``<simulated_model_name>:<workspace>``); none means the server's
configured workspace. The workspace is leased from the pool for the whole request,
streamed responses included, so it is never closed under a running request.
Errors: 400 for an invalid name, 401/403 when the credentials do not open the
workspace, 404 for an unknown one (naming ``GET /workspaces``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status

from lightrag.config.models import AppConfig
from lightrag.core.engine import LightRAG
from lightrag.server.auth import request_scope
from lightrag.server.ingest import Scanner
from lightrag.server.jobs import BackgroundJobs
from lightrag.server.workspace_registry import InvalidWorkspaceNameError
from lightrag.server.workspaces import UnknownWorkspaceError, Workspace, WorkspacePool

__all__ = [
    "WORKSPACE_HEADER",
    "ChatRagDep",
    "ChatWorkspaceDep",
    "ConfigDep",
    "JobsDep",
    "PoolDep",
    "RagDep",
    "ScannerDep",
    "WorkspaceDep",
    "get_config",
    "get_jobs",
    "get_pool",
    "get_rag",
    "get_scanner",
    "model_workspace",
    "visible_workspaces",
]

WORKSPACE_HEADER = "LIGHTRAG-WORKSPACE"


# Dependencies are ``async def`` although none awaits: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop per dependency per request (12% of the
# interpreter's time with 20 clients querying, benchmarks/query_under_load.py).


def _config(request: Request) -> AppConfig:
    config: AppConfig = request.app.state.config
    return config


async def get_config(request: Request) -> AppConfig:
    return _config(request)


async def get_jobs(request: Request) -> BackgroundJobs:
    jobs: BackgroundJobs = request.app.state.jobs
    return jobs


def _pool(request: Request) -> WorkspacePool:
    """The app's workspace pool; 503 while the server is still starting."""
    pool: WorkspacePool | None = getattr(request.app.state, "pool", None)
    if pool is None:
        raise HTTPException(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE, detail="The server is starting"
        )
    return pool


async def get_pool(request: Request) -> WorkspacePool:
    """The app's workspace pool; 503 while the server is still starting."""
    return _pool(request)


def model_workspace(model: str, config: AppConfig) -> str | None:
    """The workspace a chat model name selects: ``lightrag:latest`` (the simulated name
    and tag) the default, ``lightrag:<workspace>`` that one; ``None`` for any other name."""
    name, sep, tag = model.strip().rpartition(":")
    server = config.server
    if not sep or name != server.simulated_model_name or not tag:
        return None
    return server.workspace if tag == server.simulated_model_tag else tag


async def visible_workspaces(request: Request) -> list[str]:
    """The workspaces the request's credentials may use (the default first)."""
    pool = _pool(request)
    scope = request_scope(request)
    names = await pool.registry.names()
    if scope is None:
        return [pool.default]
    return [name for name in names if scope.allows(name)]


def _header_workspace(request: Request, default: str) -> str | None:
    raw = request.headers.get(WORKSPACE_HEADER)
    if raw is None:
        return None
    name = raw.strip()
    return name if name else default


@asynccontextmanager
async def _lease(request: Request, name: str) -> AsyncIterator[Workspace]:
    pool = _pool(request)
    scope = request_scope(request)
    if scope is None and name != pool.default:
        # a whitelisted route reached without credentials: only the default workspace
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=f"Credentials are required to use workspace {name!r}",
        )
    if scope is not None and not scope.allows(name):
        allowed = ", ".join(sorted(scope.names or ())) or "none"
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=f"This key may not use workspace {name!r} (it may use: {allowed})",
        )
    try:
        space = await pool.acquire(name)
    except InvalidWorkspaceNameError as exc:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    except UnknownWorkspaceError as exc:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    try:
        yield space
    finally:
        await pool.release(space)


_WorkspaceHeader = Annotated[
    str | None,
    Header(
        alias=WORKSPACE_HEADER,
        description="The workspace (knowledge base) of this request; none: the server's own",
    ),
]


async def get_workspace(
    request: Request, _header: _WorkspaceHeader = None
) -> AsyncIterator[Workspace]:
    """The workspace of the ``LIGHTRAG-WORKSPACE`` header (or the default), leased."""
    pool = _pool(request)
    name = _header_workspace(request, pool.default)
    async with _lease(request, pool.default if name is None else name) as space:
        yield space


async def _body_model(request: Request) -> str:
    if request.method != "POST":
        return ""
    try:
        body: Any = await request.json()  # the route parses the same cached body
    except ValueError:
        return ""
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else ""


async def get_chat_workspace(
    request: Request, _header: _WorkspaceHeader = None
) -> AsyncIterator[Workspace]:
    """For chat front ends: the header's workspace, else the one the model name selects
    (``lightrag:<workspace>``), else the default; 400 when the two disagree."""
    pool = _pool(request)
    header = _header_workspace(request, pool.default)
    by_model = model_workspace(await _body_model(request), _config(request))
    if header is not None and by_model is not None and by_model not in (header, pool.default):
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST,
            detail=f"The {WORKSPACE_HEADER} header names workspace {header!r} but the model "
            f"name selects {by_model!r}; send one or make them agree",
        )
    name = header if header is not None else by_model if by_model is not None else pool.default
    async with _lease(request, name) as space:
        yield space


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]
ChatWorkspaceDep = Annotated[Workspace, Depends(get_chat_workspace)]


async def get_rag(space: WorkspaceDep) -> LightRAG:
    return space.engine


async def get_chat_rag(space: ChatWorkspaceDep) -> LightRAG:
    return space.engine


async def get_scanner(space: WorkspaceDep) -> Scanner:
    return space.scanner


RagDep = Annotated[LightRAG, Depends(get_rag)]
ChatRagDep = Annotated[LightRAG, Depends(get_chat_rag)]
ConfigDep = Annotated[AppConfig, Depends(get_config)]
JobsDep = Annotated[BackgroundJobs, Depends(get_jobs)]
ScannerDep = Annotated[Scanner, Depends(get_scanner)]
PoolDep = Annotated[WorkspacePool, Depends(get_pool)]
