"""Workspaces: list, create and delete the knowledge bases one server hosts.

``GET /workspaces`` lists those the caller's key may use; ``POST /workspaces``
(``{"name": ...}``) and ``DELETE /workspaces/{name}?confirm=<name>`` need an admin
key (``server.api_key``, an account without a ``workspaces`` list, or open mode).
Deleting drops every record of the workspace in every storage; its input files
(``<input_dir>/<name>/``) are kept. The configured default workspace cannot be
deleted (``DELETE /documents`` empties it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lightrag.config.models import WORKSPACE_NAME_PATTERN
from lightrag.server.auth import WorkspaceScope, request_scope
from lightrag.server.deps import PoolDep
from lightrag.server.schemas import error_response
from lightrag.server.workspace_registry import InvalidWorkspaceNameError
from lightrag.server.workspaces import (
    DefaultWorkspaceError,
    UnknownWorkspaceError,
    WorkspaceBusyError,
)

__all__ = ["router"]

router = APIRouter(tags=["workspaces"], responses={503: error_response("The server is starting")})


class CreateWorkspaceRequest(BaseModel):
    # The route answers 400 for a name off the pattern (the registry checks it), not 422.
    name: str = Field(
        description="1 to 48 of a-z, 0-9 and '_', starting with a letter or digit",
        json_schema_extra={"pattern": WORKSPACE_NAME_PATTERN},
    )


class WorkspaceInfo(BaseModel):
    name: str
    default: bool = False
    open: bool = False
    created_at: str | None = None


class WorkspaceList(BaseModel):
    default: str
    workspaces: list[WorkspaceInfo]


def _scope(request: Request) -> WorkspaceScope:
    scope = request_scope(request)
    if scope is None:  # /workspaces is not whitelisted: auth let it through only in open mode
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="No credentials")
    return scope


def _require_admin(request: Request, action: str) -> None:
    scope = _scope(request)
    if not scope.admin:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=f"{action} needs an admin key (server.api_key); this key may use only "
            f"{', '.join(sorted(scope.names or ()))}",
        )


@router.get("/workspaces")
async def list_workspaces(request: Request, pool: PoolDep) -> WorkspaceList:
    """The workspaces this key may use (the default first), and which are open."""
    scope = _scope(request)
    items = []
    for name in await pool.registry.names():
        if not scope.allows(name):
            continue
        record = await pool.registry.record(name)
        items.append(
            WorkspaceInfo(
                name=name,
                default=name == pool.default,
                open=pool.get_open(name) is not None,
                created_at=record.get("created_at") if record else None,
            )
        )
    return WorkspaceList(default=pool.default, workspaces=items)


@router.post(
    "/workspaces",
    status_code=status.HTTP_201_CREATED,
    responses={
        400: error_response("Not a valid workspace name"),
        409: error_response("The workspace exists"),
    },
)
async def create_workspace(
    body: CreateWorkspaceRequest, request: Request, pool: PoolDep
) -> dict[str, Any]:
    """Create an (empty) workspace; 409 when it exists, 400 for an invalid name."""
    _require_admin(request, "Creating a workspace")
    try:
        created = await pool.create(body.name)
    except InvalidWorkspaceNameError as exc:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    if not created:
        raise HTTPException(
            status_code=status.HTTP_409_CONFLICT,
            detail=f"Workspace {body.name!r} already exists",
        )
    return {"status": "created", "name": body.name}


@router.delete(
    "/workspaces/{name}",
    response_model=None,
    responses={
        400: error_response("No matching `confirm`, or not a valid workspace name"),
        404: error_response("Unknown workspace"),
        409: error_response("The default workspace, or one with running work"),
    },
)
async def delete_workspace(
    name: str,
    request: Request,
    pool: PoolDep,
    confirm: Annotated[str | None, Query(description="The workspace's name again")] = None,
) -> dict[str, Any] | JSONResponse:
    """Drop every record of workspace ``name`` in every storage and forget it.

    ``confirm`` must repeat the name (400 otherwise); 404 unknown, 409 for the default
    workspace or one with running work (cancel its pipeline first)."""
    _require_admin(request, "Deleting a workspace")
    if confirm != name:
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST,
            detail=f"Deleting drops all data of workspace {name!r}: repeat its name as "
            f"?confirm={name} to proceed",
        )
    try:
        await pool.delete(name)
    except InvalidWorkspaceNameError as exc:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    except UnknownWorkspaceError as exc:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except (DefaultWorkspaceError, WorkspaceBusyError) as exc:
        raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return {
        "status": "deleted",
        "name": name,
        "message": f"Workspace {name!r} and all its data are deleted; its input files are kept",
    }
