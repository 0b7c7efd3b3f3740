"""Knowledge-graph routes: labels, subgraphs, and entity / relation edits.

Paths follow upstream's latest generation; the 1.3.x deletion paths
(``DELETE /documents/delete_entity`` and ``/documents/delete_relation``) are
kept as aliases. Unknown entities or relations answer 404, name clashes 409,
invalid edits 400 — each with a message naming what was wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query, status

from lightrag.core.engine import GraphConflictError, GraphNotFoundError, LightRAG
from lightrag.server.deps import ConfigDep, RagDep
from lightrag.server.schemas import (
    DeleteEntityRequest,
    DeleteRelationRequest,
    EntityCreateRequest,
    EntityEditRequest,
    EntityMergeRequest,
    GraphEditResponse,
    RelationCreateRequest,
    RelationEditRequest,
    Responses,
    error_response,
)
from lightrag.vocabulary.types import KnowledgeGraph

__all__ = ["router"]

router = APIRouter(tags=["graph"])

_INVALID: Responses = {400: error_response("The edit is invalid (the message says why)")}
_UNKNOWN: Responses = {404: error_response("An entity or relation named does not exist")}
_TAKEN: Responses = {409: error_response("The name or relation already exists")}
_MODEL_FAILED: Responses = {
    502: error_response("The embedding model answered something unusable"),
    503: error_response("The embedding backend is down or too slow (`Retry-After` set)"),
}
_EDIT: Responses = {**_INVALID, **_UNKNOWN, **_TAKEN, **_MODEL_FAILED}
_DELETE: Responses = {**_INVALID, **_UNKNOWN}

T = TypeVar("T")


async def _edit(action: Awaitable[T]) -> T:
    """Run an engine edit, mapping its errors: unknown entity or relation -> 404, name
    taken -> 409, any other invalid edit (``ValueError``) -> 400. The engine matches
    names case-insensitively and checks under its edit lock, so the route does not."""
    try:
        return await action
    except GraphNotFoundError as exc:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except GraphConflictError as exc:
        raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc


def _not_found(what: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"{what} does not exist")


async def _require_entities(rag: LightRAG, *names: str) -> None:
    missing = [name for name in names if not await _edit(rag.entity_exists(name))]
    if missing:
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND,
            detail=f"Unknown entit{'y' if len(missing) == 1 else 'ies'}: {', '.join(missing)}",
        )


# reading -------------------------------------------------------------------------------


@router.get("/graph/label/list")
async def label_list(rag: RagDep) -> list[str]:
    """Every entity name, sorted."""
    return await rag.graph_labels()


@router.get("/graph/label/popular")
async def label_popular(
    rag: RagDep, limit: Annotated[int, Query(ge=1, le=1000)] = 300
) -> list[str]:
    """Entity names by number of relations, most connected first."""
    return await rag.popular_labels(limit)


@router.get("/graph/label/search")
async def label_search(
    rag: RagDep,
    q: Annotated[str, Query(min_length=1, description="Text the names must contain")],
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[str]:
    """Entity names containing ``q`` (case-insensitive), exact and prefix matches first."""
    return await rag.search_labels(q, limit)


@router.get("/graphs", responses={**_INVALID, **_UNKNOWN, **_TAKEN})
async def graphs(
    rag: RagDep,
    config: ConfigDep,
    label: Annotated[str, Query(min_length=1, description="Start entity, or * for all")],
    max_depth: Annotated[int, Query(ge=1, le=100)] = 3,
    max_nodes: Annotated[int | None, Query(ge=1)] = None,
) -> KnowledgeGraph:
    """The neighbourhood of ``label`` up to ``max_depth`` hops, at most ``max_nodes``
    nodes (capped by ``rag.max_graph_nodes``); ``is_truncated`` says if nodes were left out.
    ``label`` is matched case-insensitively, like every other entity name in this API."""
    cap = config.rag.max_graph_nodes
    limit = cap if max_nodes is None else min(max_nodes, cap)
    if label != "*" and label.strip():
        resolved = await _edit(rag.resolve_entity(label))
        label = resolved if resolved is not None else label
    return await rag.get_knowledge_graph(label, max_depth=max_depth, max_nodes=limit)


@router.get("/graph/entity/exists", responses=_INVALID)
async def entity_exists(rag: RagDep, name: Annotated[str, Query(min_length=1)]) -> dict[str, bool]:
    """Whether an entity of this name (case-insensitive) exists; 400 for a name that is
    empty once normalised (only punctuation or spaces)."""
    return {"exists": await _edit(rag.entity_exists(name))}


# editing -------------------------------------------------------------------------------


@router.post("/graph/entity/create", responses=_EDIT)
async def create_entity(body: EntityCreateRequest, rag: RagDep) -> GraphEditResponse:
    """Create an entity (409 when the name exists, in any letter case)."""
    data = await _edit(rag.create_entity(body.entity_name, body.entity_data))
    return GraphEditResponse(
        status="success", message=f"Entity {body.entity_name!r} created", data=data
    )


@router.post("/graph/entity/edit", responses=_EDIT)
async def edit_entity(body: EntityEditRequest, rag: RagDep) -> GraphEditResponse:
    """Update an entity's properties; renaming needs ``allow_rename``, renaming onto an
    existing entity needs ``allow_merge`` (the two are merged)."""
    await _require_entities(rag, body.entity_name)
    updates = dict(body.updated_data)
    requested = updates.get("entity_name")  # null means "keep the name", as in the engine
    new_name = body.entity_name.strip() if requested is None else str(requested).strip()
    renaming = new_name != body.entity_name.strip()
    if renaming and not body.allow_rename:
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST,
            detail="updated_data renames the entity; set allow_rename to true to allow it",
        )
    other_entity = new_name.casefold() != body.entity_name.strip().casefold()
    if renaming and other_entity and await _edit(rag.entity_exists(new_name)):
        if not body.allow_merge:
            raise HTTPException(
                status_code=status.HTTP_409_CONFLICT,
                detail=f"Entity {new_name!r} already exists; set allow_merge to merge into it",
            )
        updates.pop("entity_name")
        if updates:
            await _edit(rag.edit_entity(body.entity_name, updates, allow_rename=False))
        data = await _edit(rag.merge_entities([body.entity_name], new_name))
        return GraphEditResponse(
            status="success", message=f"Entity merged into {new_name!r}", data=data
        )
    data = await _edit(rag.edit_entity(body.entity_name, updates, allow_rename=renaming))
    return GraphEditResponse(status="success", message="Entity updated", data=data)


@router.post("/graph/relation/create", responses=_EDIT)
async def create_relation(body: RelationCreateRequest, rag: RagDep) -> GraphEditResponse:
    """Create a relation between two existing entities (404 when one is unknown, 409 when
    the relation exists)."""
    data = await _edit(
        rag.create_relation(body.source_entity, body.target_entity, body.relation_data)
    )
    return GraphEditResponse(status="success", message="Relation created", data=data)


@router.post("/graph/relation/edit", responses=_EDIT)
async def edit_relation(body: RelationEditRequest, rag: RagDep) -> GraphEditResponse:
    """Update a relation's properties (description, keywords, weight, ...); 404 when the
    relation or an entity is unknown."""
    data = await _edit(rag.edit_relation(body.source_id, body.target_id, body.updated_data))
    return GraphEditResponse(status="success", message="Relation updated", data=data)


@router.post("/graph/entities/merge", responses=_EDIT)
async def merge_entities(body: EntityMergeRequest, rag: RagDep) -> GraphEditResponse:
    """Merge entities into one (created if it does not exist); their relations move to it.
    404 naming the unknown ones (nothing is merged then)."""
    data = await _edit(rag.merge_entities(body.entities_to_change, body.entity_to_change_into))
    return GraphEditResponse(
        status="success",
        message=f"Merged {len(body.entities_to_change)} entities into "
        f"{body.entity_to_change_into!r}",
        data=data,
    )


async def _delete_entity(body: DeleteEntityRequest, rag: LightRAG) -> GraphEditResponse:
    if not await _edit(rag.delete_entity(body.entity_name)):
        raise _not_found(f"entity {body.entity_name!r}")
    return GraphEditResponse(
        status="success",
        message=f"Entity {body.entity_name!r} and its relations deleted",
        data={"entity_name": body.entity_name},
    )


async def _delete_relation(body: DeleteRelationRequest, rag: LightRAG) -> GraphEditResponse:
    if not await _edit(rag.delete_relation(body.source_entity, body.target_entity)):
        raise _not_found(f"relation {body.source_entity!r} -- {body.target_entity!r}")
    data: dict[str, Any] = {
        "source_entity": body.source_entity,
        "target_entity": body.target_entity,
    }
    return GraphEditResponse(status="success", message="Relation deleted", data=data)


@router.delete("/graph/entity/delete", responses=_DELETE)
async def delete_entity(body: DeleteEntityRequest, rag: RagDep) -> GraphEditResponse:
    """Delete an entity, its relations and its vectors."""
    return await _delete_entity(body, rag)


@router.delete("/graph/relation/delete", responses=_DELETE)
async def delete_relation(body: DeleteRelationRequest, rag: RagDep) -> GraphEditResponse:
    """Delete the relation between two entities."""
    return await _delete_relation(body, rag)


@router.delete("/documents/delete_entity", tags=["documents"], responses=_DELETE)
async def delete_entity_legacy(body: DeleteEntityRequest, rag: RagDep) -> GraphEditResponse:
    """1.3.x path of ``DELETE /graph/entity/delete``."""
    return await _delete_entity(body, rag)


@router.delete("/documents/delete_relation", tags=["documents"], responses=_DELETE)
async def delete_relation_legacy(body: DeleteRelationRequest, rag: RagDep) -> GraphEditResponse:
    """1.3.x path of ``DELETE /graph/relation/delete``."""
    return await _delete_relation(body, rag)
