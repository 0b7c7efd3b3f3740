"""Knowledge-graph edits: create, edit (with rename), delete and merge entities and relations.

Every edit keeps the graph and the entity/relation vector stores in sync: what
changed is re-embedded (in one batch), what went away is deleted, renamed ids
move. The per-document indexes (``full_entities``, ``full_relations``) follow
renames and merges so that deleting a document later still finds its entities.
Names are matched case-insensitively (``ids.entity_key``). Edits are serialised
among themselves, hold the insert pipeline's per-entity locks of the names they
touch (when the engine shares them), and are persisted (``index_done``) when they
finish, because they are rare administrative writes that must survive a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from lightrag.core.context import EngineContext
from lightrag.core.graph_fields import DEFAULT_WEIGHT, UNKNOWN_TYPE
from lightrag.core.kg_doc_index import rename_in_doc_index
from lightrag.core.kg_records import (
    GraphEditError,
    entity_info,
    merge_edge_props,
    merge_node_props,
    relation_info,
    scalar_updates,
)
from lightrag.core.local_coordination import LocalCoordinator
from lightrag.core.vector_records import entity_vector_record, relation_vector_record, write_vectors
from lightrag.vocabulary.coordination import Coordinator
from lightrag.vocabulary.ids import (
    entity_key,
    entity_vector_id,
    normalize_entity_name,
    relation_vector_id,
)

__all__ = ["GraphConflictError", "GraphEditError", "GraphEditor", "GraphNotFoundError"]

_ENTITY_FORBIDDEN = ("entity_id",)
_RELATION_FORBIDDEN = ("src_id", "tgt_id", "source", "target")
_Edge = tuple[str, str, dict[str, Any]]


class GraphNotFoundError(GraphEditError, LookupError):
    """The entity or relation named does not exist."""


class GraphConflictError(GraphEditError):
    """The entity or relation to create (or rename to) already exists."""


def _clean_name(name: str, what: str = "entity name") -> str:
    cleaned = normalize_entity_name(name) if isinstance(name, str) else ""
    if not cleaned:
        raise GraphEditError(f"{what} must be a non-empty string, got {name!r}")
    return cleaned


def _other(edge: tuple[str, str], node: str) -> str:
    return edge[1] if edge[0] == node else edge[0]


class GraphEditor:
    """Entity and relation CRUD and merging on top of the engine's storages."""

    def __init__(self, ctx: EngineContext, *, locks: Coordinator | None = None) -> None:
        """``locks`` hold the insert pipeline's per-entity keys (across replicas when
        coordination is shared): sharing them keeps an edit and a concurrent document
        merge or deletion off the same entities."""
        self.ctx = ctx
        self._lock = asyncio.Lock()
        self._entity_locks: Coordinator = locks if locks is not None else LocalCoordinator()

    @asynccontextmanager
    async def _guard(self, *names: str) -> AsyncIterator[None]:
        """One edit at a time, holding the entity locks of ``names`` (case-insensitive)."""
        keys = {entity_key(name) for name in names if isinstance(name, str)}
        async with self._lock, self._entity_locks.hold(keys):
            yield

    # lookups -------------------------------------------------------------------------

    async def resolve(self, name: str) -> str | None:
        """The graph node id of entity ``name`` (matched case-insensitively), or ``None``."""
        cleaned = _clean_name(name)
        graph = self.ctx.storages.graph
        if await graph.has_node(cleaned):
            return cleaned
        (record,) = await self.ctx.storages.entities_vdb.get([entity_vector_id(cleaned)])
        stored = str(record.get("entity_name", "")) if record else ""
        if stored and entity_key(stored) == entity_key(cleaned) and await graph.has_node(stored):
            return stored
        # vectors out of step with the graph: the label search ranks exact matches first
        for label in await graph.search_labels(cleaned, 10):
            if entity_key(label) == entity_key(cleaned):
                return label
        return None

    async def _require(self, name: str) -> tuple[str, dict[str, Any]]:
        node = await self.resolve(name)
        props = await self.ctx.storages.graph.get_node(node) if node else None
        if node is None or props is None:
            raise GraphNotFoundError(f"entity {name!r} does not exist")
        return node, props

    async def _require_edge(self, source: str, target: str) -> tuple[str, str, dict[str, Any]]:
        first, _ = await self._require(source)
        second, _ = await self._require(target)
        props = await self.ctx.storages.graph.get_edge(first, second)
        if props is None:
            raise GraphNotFoundError(f"relation {source!r} -- {target!r} does not exist")
        return first, second, props

    async def entity_exists(self, name: str) -> bool:
        return await self.resolve(name) is not None

    # entities --------------------------------------------------------------------------

    async def create_entity(self, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create an entity (``description``, ``entity_type``, ``source_id``, ``file_path``...).

        Raises ``GraphConflictError`` when it exists, ``GraphEditError`` on bad data.
        """
        cleaned = _clean_name(name)
        fields = scalar_updates(data, (*_ENTITY_FORBIDDEN, "entity_name"), f"entity {cleaned!r}")
        async with self._guard(cleaned):
            if await self.resolve(cleaned) is not None:
                raise GraphConflictError(f"entity {cleaned!r} already exists")
            props = {
                "entity_type": UNKNOWN_TYPE,
                "description": "",
                "source_id": "",
                "file_path": "manual_creation",
                "created_at": int(time.time()),
                **fields,
                "entity_id": cleaned,
            }
            await self.ctx.storages.graph.upsert_node(cleaned, props)
            await self._reembed([(cleaned, props)], [])
            await self._persist()
        return entity_info(cleaned, props)

    async def edit_entity(
        self, name: str, updates: Mapping[str, Any], *, allow_rename: bool = True
    ) -> dict[str, Any]:
        """Update an entity's fields; ``updates["entity_name"]`` renames it (moving its
        relations and vectors). Raises ``GraphNotFoundError``, ``GraphConflictError`` when
        the new name is taken, ``GraphEditError`` when renaming is not allowed or data is bad.
        """
        fields = dict(updates)
        new_name = fields.pop("entity_name", None)
        checked = scalar_updates(fields, _ENTITY_FORBIDDEN, f"entity {name!r}")
        async with self._guard(name, *([str(new_name)] if new_name is not None else [])):
            old, props = await self._require(name)
            target = old if new_name is None else _clean_name(str(new_name), "new entity name")
            if target != old:
                if not allow_rename:
                    raise GraphEditError(f"renaming {old!r} to {target!r} needs allow_rename")
                taken = await self.resolve(target)
                if taken is not None and entity_key(taken) != entity_key(old):
                    raise GraphConflictError(f"cannot rename {old!r}: {taken!r} already exists")
            new_props = {**props, **checked, "entity_id": target}
            if target == old:
                await self.ctx.storages.graph.upsert_node(old, new_props)
                await self._reembed([(old, new_props)], [])
            else:
                await self._move_node(old, target, new_props)
            await self._persist()
        return entity_info(target, new_props)

    async def _move_node(self, old: str, new: str, props: dict[str, Any]) -> None:
        graph = self.ctx.storages.graph
        edge_props = await graph.get_edges(await graph.get_node_edges(old))
        await graph.upsert_node(new, props)
        moved: list[_Edge] = []
        for (first, second), edge in edge_props.items():
            a = new if first == old else first
            b = new if second == old else second
            await graph.upsert_edge(a, b, edge)
            moved.append((a, b, edge))
        await graph.delete_node(old)
        await self.ctx.storages.entities_vdb.delete([entity_vector_id(old)])
        await self.ctx.storages.relationships_vdb.delete(
            [relation_vector_id(a, b) for a, b in edge_props]
        )
        await self._reembed([(new, props)], moved)
        chunk_ids = [props.get("source_id")] + [e.get("source_id") for e in edge_props.values()]
        await self._rename_in_doc_index(chunk_ids, {entity_key(old): new})

    async def delete_entity(self, name: str) -> bool:
        """Delete an entity, its relations and their vectors; ``False`` when it is unknown."""
        async with self._guard(name):
            node = await self.resolve(name)
            if node is None:
                return False
            graph = self.ctx.storages.graph
            edges = await graph.get_node_edges(node)
            await graph.delete_node(node)
            await self.ctx.storages.entities_vdb.delete([entity_vector_id(node)])
            await self.ctx.storages.relationships_vdb.delete(
                [relation_vector_id(a, b) for a, b in edges]
            )
            await self._persist()
        return True

    async def merge_entities(self, sources: Sequence[str], target: str) -> dict[str, Any]:
        """Merge ``sources`` into ``target`` (created when missing): relations are re-pointed
        (parallel ones combined, weights summed, the ones between merged entities dropped),
        descriptions, source chunks and file paths united; the sources and their vectors go.

        Raises ``GraphNotFoundError`` naming missing sources, ``GraphEditError`` when there
        is nothing to merge.
        """
        target_name = _clean_name(target, "target entity name")
        if isinstance(sources, str) or not sources:
            raise GraphEditError("sources must be a non-empty list of entity names")
        async with self._guard(target_name, *sources):
            resolved = {entity_key(s): await self.resolve(s) for s in sources}
            missing = [s for s in sources if resolved[entity_key(s)] is None]
            if missing:
                raise GraphNotFoundError(f"entities to merge do not exist: {missing}")
            existing = await self.resolve(target_name)
            final = existing or target_name
            merged = sorted(
                {str(n) for n in resolved.values() if n and entity_key(n) != entity_key(final)}
            )
            if not merged:
                raise GraphEditError(f"nothing to merge into {final!r}")
            await self._merge(merged, final, existing is not None)
            await self._persist()
            props = await self.ctx.storages.graph.get_node(final) or {}
        return {**entity_info(final, props), "merged_entities": merged}

    async def _merge(self, merged: list[str], final: str, target_exists: bool) -> None:
        graph = self.ctx.storages.graph
        gone = {entity_key(n) for n in merged} | {entity_key(final)}
        nodes = await graph.get_nodes([*merged, final])
        node_props = merge_node_props(
            final, nodes.get(final) if target_exists else None, [nodes[n] for n in merged]
        )
        source_edges = await graph.get_edges(
            [edge for edges in (await graph.get_nodes_edges(merged)).values() for edge in edges]
        )
        groups: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        for (first, second), props in source_edges.items():
            other = first if entity_key(first) not in gone else second
            if entity_key(other) in gone:
                continue  # would become a self-loop on the merged entity
            groups.setdefault(entity_key(other), (other, []))[1].append(props)
        final_edges: list[_Edge] = []
        for other, props_list in groups.values():
            current = await graph.get_edge(final, other) if target_exists else None
            combined = merge_edge_props(([current] if current else []) + props_list)
            final_edges.append((final, other, combined))

        await graph.upsert_node(final, node_props)
        for a, b, props in final_edges:
            await graph.upsert_edge(a, b, props)
        for name in merged:
            await graph.delete_node(name)
        await self.ctx.storages.entities_vdb.delete([entity_vector_id(n) for n in merged])
        await self.ctx.storages.relationships_vdb.delete(
            [relation_vector_id(a, b) for a, b in source_edges]
        )
        await self._reembed([(final, node_props)], final_edges)
        chunk_ids = [nodes[n].get("source_id") for n in merged]
        chunk_ids += [p.get("source_id") for p in source_edges.values()]
        await self._rename_in_doc_index(chunk_ids, {entity_key(n): final for n in merged})

    # relations ----------------------------------------------------------------------------

    async def create_relation(
        self, source: str, target: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create a relation between two existing entities (``description``, ``keywords``,
        ``weight``...). Raises ``GraphNotFoundError``, ``GraphConflictError``, ``GraphEditError``.
        """
        fields = scalar_updates(data, _RELATION_FORBIDDEN, f"relation {source!r} -- {target!r}")
        async with self._guard(source, target):
            first, _ = await self._require(source)
            second, _ = await self._require(target)
            if entity_key(first) == entity_key(second):
                raise GraphEditError(f"a relation needs two different entities, got {first!r}")
            if await self.ctx.storages.graph.has_edge(first, second):
                raise GraphConflictError(f"relation {first!r} -- {second!r} already exists")
            props = {
                "description": "",
                "keywords": "",
                "weight": DEFAULT_WEIGHT,
                "source_id": "",
                "file_path": "manual_creation",
                "created_at": int(time.time()),
                **fields,
            }
            await self.ctx.storages.graph.upsert_edge(first, second, props)
            await self._reembed([], [(first, second, props)])
            await self._persist()
        return relation_info(first, second, props)

    async def edit_relation(
        self, source: str, target: str, updates: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Update a relation's fields (not its endpoints) and re-embed it."""
        what = f"relation {source!r} -- {target!r}"
        checked = scalar_updates(updates, _RELATION_FORBIDDEN, what)
        async with self._guard(source, target):
            first, second, props = await self._require_edge(source, target)
            new_props = {**props, **checked}
            await self.ctx.storages.graph.upsert_edge(first, second, new_props)
            await self._reembed([], [(first, second, new_props)])
            await self._persist()
        return relation_info(first, second, new_props)

    async def delete_relation(self, source: str, target: str) -> bool:
        """Delete a relation and its vector; ``False`` when it is unknown."""
        async with self._guard(source, target):
            first, second = await self.resolve(source), await self.resolve(target)
            graph = self.ctx.storages.graph
            if first is None or second is None or not await graph.has_edge(first, second):
                return False
            await graph.delete_edges([(first, second)])
            await self.ctx.storages.relationships_vdb.delete([relation_vector_id(first, second)])
            await self._persist()
        return True

    # shared steps ---------------------------------------------------------------------------

    async def _reembed(
        self, entities: list[tuple[str, dict[str, Any]]], relations: list[_Edge]
    ) -> None:
        """Upsert vectors for ``entities`` and ``relations`` in one embedding pass."""
        await write_vectors(
            self.ctx,
            entities_vdb=dict(entity_vector_record(n, p) for n, p in entities),
            relationships_vdb=dict(relation_vector_record(a, b, p) for a, b, p in relations),
        )

    async def _rename_in_doc_index(
        self, source_ids: Sequence[Any], renames: dict[str, str]
    ) -> None:
        """Rewrite entity names (by key) in the per-document indexes of the sourcing docs."""
        await rename_in_doc_index(self.ctx.storages, source_ids, renames)

    async def _persist(self) -> None:
        storages = self.ctx.storages
        await asyncio.gather(
            storages.graph.index_done(),
            storages.entities_vdb.index_done(),
            storages.relationships_vdb.index_done(),
            storages.full_entities.index_done(),
            storages.full_relations.index_done(),
        )
