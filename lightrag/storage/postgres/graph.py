"""Graph storage on plain PostgreSQL tables (no Apache AGE needed: runs on managed servers).

Nodes and edges live in two tables shared by every workspace and namespace (see
``graph_sql``); an undirected edge is one row with its endpoints in string order.
Each node keeps its degree, updated in the same transaction as the edge writes, so
degrees and popular labels are index reads. Writers lock the endpoint nodes in id
order (``SELECT ... FOR UPDATE``): an edge cannot land on a node being deleted, and
concurrent writers do not deadlock (a rare deadlock with a node deletion is retried).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import asyncpg
import numpy as np

from lightrag.storage._graph_args import check_positive as _check_positive
from lightrag.storage._graph_args import stored_pair as _pair
from lightrag.storage._graph_args import unique as _unique
from lightrag.storage._graph_views import EDGE_TYPE
from lightrag.storage._params import parse_params
from lightrag.storage.postgres import graph_sql as sql
from lightrag.storage.postgres.client import (
    PostgresClient,
    PostgresConfig,
    effective_workspace,
    postgres_client,
    release_postgres_client,
)
from lightrag.vocabulary.storage import StorageContext
from lightrag.vocabulary.types import KnowledgeGraph, KnowledgeGraphEdge, KnowledgeGraphNode

__all__ = ["PostgresGraphStorage"]

T = TypeVar("T")

_DEADLOCK_RETRIES = 3


class PostgresGraphStorage:
    """Undirected property graph in PostgreSQL; ``(a, b)`` and ``(b, a)`` are one edge."""

    shared: ClassVar[bool] = True
    backend_name: ClassVar[str] = "postgres graph storage"
    config_model: ClassVar[type[PostgresConfig]] = PostgresConfig

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(PostgresConfig, params, self.backend_name)
        self.workspace = effective_workspace(ctx, self.config)
        self._scope = (self.workspace, ctx.namespace)
        self._client: PostgresClient | None = None

    # lifecycle

    async def initialize(self) -> None:
        """Connect (the shared pool) and create the tables if missing. Idempotent."""
        if self._client is not None:
            return
        client = await postgres_client(self.ctx, self.config)
        try:
            await client.migrate("graph", sql.SCHEMA)
        except BaseException:
            await release_postgres_client(self.ctx, self.config)
            raise
        self._client = client

    async def finalize(self) -> None:
        """Give back the shared pool. Idempotent."""
        if self._client is None:
            return
        self._client = None
        await release_postgres_client(self.ctx, self.config)

    async def index_done(self) -> None:
        """Nothing to flush: every write is committed when it returns."""

    async def drop(self) -> None:
        """Remove every node and edge of this workspace and namespace."""

        async def op(conn: asyncpg.Connection) -> None:
            async with conn.transaction():
                for statement in sql.DROP:
                    await conn.execute(statement, *self._scope)

        await self._db.run(op)

    @property
    def _db(self) -> PostgresClient:
        if self._client is None:
            raise RuntimeError(f"{self.backend_name} is not initialised: await initialize()")
        return self._client

    # reads

    async def has_node(self, node_id: str) -> bool:
        return bool(await self.get_nodes([node_id]))

    async def has_edge(self, source: str, target: str) -> bool:
        return bool(await self.get_edges([(source, target)]))

    async def get_node(self, node_id: str) -> dict[str, Any] | None:
        return (await self.get_nodes([node_id])).get(node_id)

    async def get_edge(self, source: str, target: str) -> dict[str, Any] | None:
        return (await self.get_edges([(source, target)])).get((source, target))

    async def get_nodes(self, node_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Properties of the known nodes among ``node_ids`` (unknown ones are left out)."""
        rows = await self._db.fetch(
            "SELECT id, props FROM lightrag_graph_nodes"
            " WHERE workspace = $1 AND namespace = $2 AND id = ANY($3::text[])",
            *self._scope,
            _unique(node_ids),
        )
        return {row["id"]: row["props"] for row in rows}

    async def get_edges(
        self, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Properties of known edges, keyed by the pair as asked."""
        wanted = _unique([_pair(source, target) for source, target in pairs])
        if not wanted:
            return {}
        rows = await self._db.fetch(
            sql.GET_EDGES, *self._scope, [s for s, _ in wanted], [t for _, t in wanted]
        )
        found = {(row["source"], row["target"]): row["props"] for row in rows}
        result: dict[tuple[str, str], dict[str, Any]] = {}
        for source, target in pairs:
            props = found.get(_pair(source, target))
            if props is not None:
                result[(source, target)] = dict(props)
        return result

    async def node_degree(self, node_id: str) -> int:
        """Number of edges at the node; 0 for an unknown node."""
        return (await self.node_degrees([node_id]))[node_id]

    async def node_degrees(self, node_ids: Sequence[str]) -> dict[str, int]:
        """Degree per asked id (0 for unknown ids)."""
        rows = await self._db.fetch(
            "SELECT id, degree FROM lightrag_graph_nodes"
            " WHERE workspace = $1 AND namespace = $2 AND id = ANY($3::text[])",
            *self._scope,
            _unique(node_ids),
        )
        found = {row["id"]: int(row["degree"]) for row in rows}
        return {node_id: found.get(node_id, 0) for node_id in node_ids}

    async def edge_degree(self, source: str, target: str) -> int:
        """``node_degree(source) + node_degree(target)``."""
        degrees = await self.node_degrees([source, target])
        return degrees[source] + degrees[target]

    async def get_node_edges(self, node_id: str) -> list[tuple[str, str]]:
        """Edges at the node as ``(node_id, neighbour)``; empty for an unknown node."""
        return (await self.get_nodes_edges([node_id]))[node_id]

    async def get_nodes_edges(self, node_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """Edges per asked id (an empty list for unknown ids)."""
        result: dict[str, list[tuple[str, str]]] = {node_id: [] for node_id in node_ids}
        if not result:
            return result
        rows = await self._db.fetch(sql.NODE_EDGES, *self._scope, list(result))
        for row in rows:
            result[row["node"]].append((row["node"], row["other"]))
        for edges in result.values():
            edges.sort()
        return result

    async def node_count(self) -> int:
        count = await self._db.fetchval(
            "SELECT count(*) FROM lightrag_graph_nodes WHERE workspace = $1 AND namespace = $2",
            *self._scope,
        )
        return int(count)

    async def all_labels(self) -> list[str]:
        """Every node id, sorted (by code point)."""
        rows = await self._db.fetch(
            "SELECT id FROM lightrag_graph_nodes WHERE workspace = $1 AND namespace = $2"
            " ORDER BY id",
            *self._scope,
        )
        return [row["id"] for row in rows]

    async def popular_labels(self, limit: int) -> list[str]:
        """Node ids by degree, highest first (ties by id)."""
        _check_positive(limit, "limit")
        rows = await self._db.fetch(sql.POPULAR, *self._scope, limit)
        return [row["id"] for row in rows]

    async def search_labels(self, query: str, limit: int) -> list[str]:
        """Node ids containing ``query`` case-insensitively: exact, then prefix, then others.

        Within a group shorter ids come first. An empty query finds nothing.
        """
        _check_positive(limit, "limit")
        needle = _clean_text(query.strip().casefold())
        if not needle:
            return []
        found = [
            row["id"]
            for row in await self._db.fetch(sql.SEARCH_PREFIX, *self._scope, needle, limit)
        ]
        if len(found) < limit:
            rows = await self._db.fetch(
                sql.SEARCH_SUBSTRING, *self._scope, needle, limit - len(found)
            )
            found.extend(row["id"] for row in rows)
        return found

    async def subgraph(self, label: str, max_depth: int, max_nodes: int) -> KnowledgeGraph:
        """Breadth-first neighbourhood of ``label`` (``"*"``: the highest-degree nodes).

        Nodes nearer ``label`` come first, then higher degree, then id. At most
        ``max_nodes`` nodes; ``is_truncated`` says whether reachable nodes were left
        out. An unknown label gives an empty graph. Raises ``ValueError`` for
        ``max_depth < 0`` or ``max_nodes < 1``.
        """
        if max_depth < 0:
            raise ValueError(f"max_depth must be >= 0, got {max_depth}")
        _check_positive(max_nodes, "max_nodes")

        async def op(conn: asyncpg.Connection) -> KnowledgeGraph:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                # one node more than wanted tells whether any were left out
                if label == "*":
                    rows = await conn.fetch(sql.POPULAR, *self._scope, max_nodes + 1)
                else:
                    rows = await conn.fetch(
                        sql.SUBGRAPH_WALK, *self._scope, label, max_depth, max_nodes + 1
                    )
                truncated = len(rows) > max_nodes
                rows = rows[:max_nodes]
                if not rows:
                    return KnowledgeGraph()
                ids = [row["id"] for row in rows]
                edges = await conn.fetch(sql.EDGES_AMONG, *self._scope, ids)
            return KnowledgeGraph(
                nodes=[
                    KnowledgeGraphNode(id=row["id"], labels=[row["id"]], properties=row["props"])
                    for row in rows
                ],
                edges=[
                    KnowledgeGraphEdge(
                        id=f"{edge['source']}-{edge['target']}",
                        type=EDGE_TYPE,
                        source=edge["source"],
                        target=edge["target"],
                        properties=edge["props"],
                    )
                    for edge in edges
                ],
                is_truncated=truncated,
            )

        return await self._db.run(op)

    # writes

    async def upsert_node(self, node_id: str, data: dict[str, Any]) -> None:
        """Create the node or replace its properties."""
        await self.upsert_nodes({node_id: data})

    async def upsert_nodes(self, nodes: Mapping[str, dict[str, Any]]) -> None:
        """Create or replace many nodes in one statement.

        Raises ``ValueError`` for an empty or non-string id, an id holding a NUL
        character, or properties that are not a JSON object.
        """
        rows = sorted(
            (_check_node_id(node_id), _props_json(data, f"node {node_id!r}"))
            for node_id, data in nodes.items()
        )
        if not rows:
            return
        await self._db.execute(
            sql.UPSERT_NODES,
            *self._scope,
            [node_id for node_id, _ in rows],
            [node_id.casefold() for node_id, _ in rows],
            [props for _, props in rows],
        )

    async def upsert_edge(self, source: str, target: str, data: dict[str, Any]) -> None:
        """Create the edge or replace its properties; ``KeyError`` when an endpoint is missing."""
        await self.upsert_edges([(source, target, data)])

    async def upsert_edges(self, edges: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Create or replace many edges in one transaction; a pair given twice keeps the last.

        Raises ``KeyError`` naming the missing nodes (and writes no edge of the
        batch) when an endpoint does not exist.
        """
        batch: dict[tuple[str, str], str] = {}
        for source, target, data in edges:
            batch[_pair(source, target)] = _props_json(data, f"edge ({source!r}, {target!r})")
        if not batch:
            return
        rows = sorted(batch.items())
        endpoints = sorted({node for pair in batch for node in pair})

        async def op(conn: asyncpg.Connection) -> None:
            async with conn.transaction():
                locked = await conn.fetch(sql.LOCK_NODES, *self._scope, endpoints)
                missing = set(endpoints) - {row["id"] for row in locked}
                if missing:
                    raise KeyError(
                        f"cannot add edges: no node {', '.join(map(repr, sorted(missing)))}"
                    )
                await conn.execute(
                    sql.UPSERT_EDGES,
                    *self._scope,
                    [s for (s, _), _ in rows],
                    [t for (_, t), _ in rows],
                    [props for _, props in rows],
                )

        await self._write(op)

    async def delete_node(self, node_id: str) -> None:
        """Remove the node and its edges; unknown ids are ignored."""
        await self.delete_nodes([node_id])

    async def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Remove nodes and their edges in one transaction; unknown ids are ignored."""
        ids = sorted(set(node_ids))
        if not ids:
            return

        async def op(conn: asyncpg.Connection) -> None:
            async with conn.transaction():
                neighbours = await conn.fetch(sql.NEIGHBOURS, *self._scope, ids)
                affected = sorted({*ids, *(row["other"] for row in neighbours)})
                await conn.execute(sql.LOCK_NODES, *self._scope, affected)
                await conn.execute(sql.DELETE_NODE_EDGES, *self._scope, ids)
                await conn.execute(sql.DELETE_NODES, *self._scope, ids)

        await self._write(op)

    async def delete_edges(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Remove edges in one transaction; unknown pairs are ignored."""
        wanted = sorted({_pair(source, target) for source, target in pairs})
        if not wanted:
            return
        endpoints = sorted({node for pair in wanted for node in pair})

        async def op(conn: asyncpg.Connection) -> None:
            async with conn.transaction():
                await conn.execute(sql.LOCK_NODES, *self._scope, endpoints)
                await conn.execute(
                    sql.DELETE_EDGES,
                    *self._scope,
                    [s for s, _ in wanted],
                    [t for _, t in wanted],
                )

        await self._write(op)

    async def _write(self, op: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run a write transaction, again when PostgreSQL broke a deadlock by aborting it."""
        for _ in range(_DEADLOCK_RETRIES - 1):
            try:
                return await self._db.run(op)
            except asyncpg.exceptions.DeadlockDetectedError:
                continue
        return await self._db.run(op)


def _check_node_id(node_id: str) -> str:
    if not isinstance(node_id, str) or not node_id:
        raise ValueError(f"node id must be a non-empty string, got {node_id!r}")
    if "\x00" in node_id:
        raise ValueError(f"node id {node_id!r} holds a NUL character PostgreSQL cannot store")
    return node_id


def _clean_text(value: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL: it becomes U+FFFD
    return value.replace("\x00", "\ufffd")


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, np.generic) and np.ndim(value) == 0:
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _props_json(data: Mapping[str, Any], owner: str) -> str:
    """``data`` as a JSON object (``None`` values dropped, as the file backend does)."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{owner}: properties must be a mapping, got {type(data).__name__}")
    properties: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise ValueError(f"{owner}: property name {key!r} is not a string")
        if value is not None:
            properties[_clean_text(key)] = _json_value(value)
    try:
        return json.dumps(properties, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: properties are not JSON ({exc})") from None
