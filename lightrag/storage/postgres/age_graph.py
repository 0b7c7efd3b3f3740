"""Graph storage on Apache AGE: openCypher on PostgreSQL, through the shared PostgreSQL pool.

Layout and Cypher: ``age_sql``. Every operation runs in a transaction that puts
``ag_catalog`` at the end of the search path (``SET LOCAL``: the pooled connection,
shared with the other PostgreSQL storages, keeps no session state) and, when the
server does not preload AGE, ``LOAD 'age'`` first. Writers of one namespace take a
transaction-scoped advisory lock, so a check-then-create (upserts, the endpoint
check of edges) is atomic across processes and edges never land on deleted nodes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import asyncpg
from pydantic import Field

from lightrag.storage._graph_views import EDGE_TYPE
from lightrag.storage._graph_walk import (
    check_node_id,
    check_positive,
    normalise_pair,
    props_json,
    rank_labels,
    rank_popular,
    walk_nearest,
)
from lightrag.storage._params import parse_params
from lightrag.storage.postgres import age_sql
from lightrag.storage.postgres.client import (
    PostgresClient,
    PostgresConfig,
    effective_workspace,
    postgres_client,
    release_postgres_client,
)
from lightrag.vocabulary.errors import StorageError
from lightrag.vocabulary.storage import StorageContext
from lightrag.vocabulary.types import KnowledgeGraph, KnowledgeGraphEdge, KnowledgeGraphNode

__all__ = ["AgeGraphConfig", "AgeGraphStorage"]

_BATCH = 2000
"""Rows per Cypher statement of the batch reads and writes."""


class AgeGraphConfig(PostgresConfig):
    """PostgreSQL connection parameters plus the AGE graph name (``AGE_GRAPH_NAME``)."""

    graph_name: str = Field("lightrag", min_length=1, max_length=40)
    """The AGE graph of the empty workspace; workspace ``w`` uses ``<graph_name>_w``."""


def _clean_text(value: str) -> str:
    # agtype strings, like jsonb, cannot hold NUL: it becomes U+FFFD
    return value.replace("\x00", "\ufffd")


def _chunks(items: Sequence[Any], size: int = _BATCH) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class AgeGraphStorage:
    """Undirected property graph in an Apache AGE graph; ``(a, b)`` and ``(b, a)`` are one edge."""

    shared: ClassVar[bool] = True
    backend_name: ClassVar[str] = "age graph storage"
    config_model: ClassVar[type[AgeGraphConfig]] = AgeGraphConfig

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(AgeGraphConfig, params, self.backend_name)
        self.workspace = effective_workspace(ctx, self.config)
        self.graph = age_sql.age_graph_name(self.config.graph_name, self.workspace)
        self.labels = age_sql.label_names(ctx.namespace)
        digest = hashlib.sha1(f"{self.graph}.{self.labels.vertex}".encode()).digest()
        self._write_lock_key = int.from_bytes(digest[:8], "big", signed=True)
        self._prelude = (
            "SELECT set_config('search_path', current_setting('search_path') || ', ag_catalog',"
            " true)"
        )
        self._client: PostgresClient | None = None

    # lifecycle

    async def initialize(self) -> None:
        """Connect (the shared pool), create the graph, labels and indexes once. Idempotent.

        Raises ``StorageError`` when the server has no Apache AGE extension.
        """
        if self._client is not None:
            return
        client = await postgres_client(self.ctx, self.config)
        try:
            available = await client.fetchval(
                "SELECT count(*) FROM pg_available_extensions WHERE name = 'age'"
            )
            if not available:
                raise StorageError(
                    f"age graph storage: PostgreSQL at {self.config.where()} has no Apache AGE "
                    "extension; install it, or choose the plain-table graph "
                    "(graph=postgres, LIGHTRAG_GRAPH_STORAGE=PGTableGraphStorage)"
                )
            await client.migrate(
                f"age:{self.graph}:{self.labels.vertex}",
                age_sql.schema_steps(self.graph, self.labels),
            )
            preloaded = await client.fetchval(
                "SELECT current_setting('shared_preload_libraries') || ','"
                " || current_setting('session_preload_libraries')"
            )
            if "age" not in {part.strip() for part in str(preloaded).split(",")}:
                self._prelude = "LOAD 'age'; " + self._prelude
        except BaseException:
            await release_postgres_client(self.ctx, self.config)
            raise
        self._client = client

    async def finalize(self) -> None:
        if self._client is None:
            return
        self._client = None
        await release_postgres_client(self.ctx, self.config)

    async def index_done(self) -> None:
        """Nothing to flush: every write is committed when it returns."""

    async def drop(self) -> None:
        """Remove every node and edge of this workspace and namespace."""
        await self._write([("drop", {})])

    @property
    def _db(self) -> PostgresClient:
        if self._client is None:
            raise RuntimeError(f"{self.backend_name} is not initialised: await initialize()")
        return self._client

    # running Cypher

    def _sql(self, name: str, columns: int) -> str:
        query = age_sql.CYPHER[name].format(v=self.labels.vertex, e=self.labels.edge)
        return age_sql.cypher_sql(self.graph, query, tuple(f"c{i}" for i in range(columns)))

    async def _cypher(
        self, conn: asyncpg.Connection, name: str, params: Mapping[str, Any], columns: int = 1
    ) -> list[tuple[Any, ...]]:
        payload = json.dumps(params, ensure_ascii=False, allow_nan=False)
        rows = await conn.fetch(self._sql(name, columns), payload)
        return [tuple(None if v is None else json.loads(v) for v in row) for row in rows]

    async def _read(
        self, name: str, params: Mapping[str, Any], columns: int = 1
    ) -> list[tuple[Any, ...]]:
        async def op(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
            async with conn.transaction(readonly=True):
                await conn.execute(self._prelude)
                return await self._cypher(conn, name, params, columns)

        return await self._db.run(op)

    async def _read_chunks(
        self, name: str, key: str, items: Sequence[Any], columns: int
    ) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for chunk in _chunks(list(items)):
            rows.extend(await self._read(name, {key: list(chunk)}, columns))
        return rows

    async def _write(self, statements: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Run Cypher write statements in one transaction under the namespace's write lock."""

        async def op(conn: asyncpg.Connection) -> None:
            async with conn.transaction():
                await conn.execute(self._prelude)
                await conn.execute("SELECT pg_advisory_xact_lock($1)", self._write_lock_key)
                for name, params in statements:
                    await self._cypher(conn, name, params)

        await self._db.run(op)

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
        rows = await self._read_chunks("get_nodes", "ids", list(dict.fromkeys(node_ids)), 2)
        return {node_id: props for node_id, props in rows}

    async def get_edges(
        self, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Properties of known edges, keyed by the pair as asked."""
        wanted = sorted({normalise_pair(s, t) for s, t in pairs})
        rows = await self._read_chunks("get_edges", "pairs", [list(p) for p in wanted], 3)
        found = {(s, t): props for s, t, props in rows}
        result: dict[tuple[str, str], dict[str, Any]] = {}
        for source, target in pairs:
            props = found.get(normalise_pair(source, target))
            if props is not None:
                result[(source, target)] = dict(props)
        return result

    async def node_degree(self, node_id: str) -> int:
        """Number of edges at the node; 0 for an unknown node."""
        return (await self.node_degrees([node_id]))[node_id]

    async def node_degrees(self, node_ids: Sequence[str]) -> dict[str, int]:
        """Degree per asked id (0 for unknown ids): one edge per pair, so the number of
        distinct neighbours (a self-loop counts once)."""
        found = await self._neighbours(node_ids)
        return {node_id: len(found.get(node_id, ())) for node_id in node_ids}

    async def edge_degree(self, source: str, target: str) -> int:
        degrees = await self.node_degrees([source, target])
        return degrees[source] + degrees[target]

    async def get_node_edges(self, node_id: str) -> list[tuple[str, str]]:
        """Edges at the node as ``(node_id, neighbour)``; empty for an unknown node."""
        return (await self.get_nodes_edges([node_id]))[node_id]

    async def _neighbours(self, node_ids: Sequence[str]) -> dict[str, list[str]]:
        ids = list(dict.fromkeys(node_ids))
        found: dict[str, set[str]] = {}
        for name in ("out_neighbours", "in_neighbours"):
            for node_id, other in await self._read_chunks(name, "ids", ids, 2):
                found.setdefault(node_id, set()).add(other)
        return {node_id: sorted(others) for node_id, others in found.items()}

    async def get_nodes_edges(self, node_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """Edges per asked id (an empty list for unknown ids)."""
        found = await self._neighbours(node_ids)
        return {n: [(n, other) for other in found.get(n, [])] for n in node_ids}

    async def node_count(self) -> int:
        ((count,),) = await self._read("count", {})
        return int(count)

    async def all_labels(self) -> list[str]:
        """Every node id, sorted (by code point)."""
        return sorted(node_id for (node_id,) in await self._read("ids", {}))

    async def _all_degrees(self) -> dict[str, int]:
        neighbours: dict[str, set[str]] = {
            node_id: set() for (node_id,) in await self._read("ids", {})
        }
        for source, target in await self._read("all_pairs", {}, 2):  # (a later read: a
            neighbours.setdefault(source, set()).add(target)  # node added meanwhile is kept)
            neighbours.setdefault(target, set()).add(source)
        return {node_id: len(others) for node_id, others in neighbours.items()}

    async def popular_labels(self, limit: int) -> list[str]:
        """Node ids by degree, highest first (ties by id)."""
        check_positive(limit, "limit")
        return rank_popular(await self._all_degrees(), limit)

    async def search_labels(self, query: str, limit: int) -> list[str]:
        """Node ids containing ``query`` case-insensitively: exact, then prefix, then others."""
        check_positive(limit, "limit")
        needle = _clean_text(query.strip().casefold())
        if not needle:
            return []
        ids = [node_id for (node_id,) in await self._read("search", {"needle": needle})]
        return rank_labels(ids, query, limit)

    async def subgraph(self, label: str, max_depth: int, max_nodes: int) -> KnowledgeGraph:
        """Breadth-first neighbourhood of ``label`` (``"*"``: the highest-degree nodes).

        Nodes nearer ``label`` come first, then higher degree, then id. At most
        ``max_nodes`` nodes; ``is_truncated`` says whether reachable nodes were left
        out. An unknown label gives an empty graph. Raises ``ValueError`` for
        ``max_depth < 0`` or ``max_nodes < 1``.
        """
        if max_depth < 0:
            raise ValueError(f"max_depth must be >= 0, got {max_depth}")
        check_positive(max_nodes, "max_nodes")
        if label == "*":
            degrees = await self._all_degrees()
            chosen = rank_popular(degrees, max_nodes)
            truncated = len(degrees) > max_nodes
        elif not await self.has_node(label):
            return KnowledgeGraph()
        else:
            chosen, truncated = await walk_nearest(
                label, max_depth, max_nodes, self._neighbours, self.node_degrees
            )
        props = await self.get_nodes(chosen)
        members = set(chosen)
        edges = sorted(
            (s, t, p)
            for s, t, p in await self._read_chunks("out_edges", "ids", chosen, 3)
            if t in members
        )
        return KnowledgeGraph(
            nodes=[
                KnowledgeGraphNode(id=n, labels=[n], properties=props[n])
                for n in chosen
                if n in props
            ],
            edges=[
                KnowledgeGraphEdge(id=f"{s}-{t}", type=EDGE_TYPE, source=s, target=t, properties=p)
                for s, t, p in edges
            ],
            is_truncated=truncated,
        )

    # writes

    async def upsert_node(self, node_id: str, data: dict[str, Any]) -> None:
        """Create the node or replace its properties."""
        await self.upsert_nodes({node_id: data})

    async def upsert_nodes(self, nodes: Mapping[str, dict[str, Any]]) -> None:
        """Create or replace many nodes in one transaction.

        Raises ``ValueError`` (writing nothing) for an empty or non-string id, an id
        holding NUL, or properties that are not a JSON object.
        """
        rows = {
            check_node_id(node_id, allow_nul=False): json.loads(
                props_json(data, f"node {node_id!r}", clean=_clean_text)
            )
            for node_id, data in nodes.items()
        }
        if not rows:
            return
        ids = sorted(rows)

        async def op(conn: asyncpg.Connection) -> None:
            async with conn.transaction():
                await conn.execute(self._prelude)
                await conn.execute("SELECT pg_advisory_xact_lock($1)", self._write_lock_key)
                existing: set[str] = set()
                for chunk in _chunks(ids):
                    batch = [{"id": n, "props": rows[n]} for n in chunk]
                    found = await self._cypher(conn, "update_nodes", {"rows": batch})
                    existing.update(node_id for (node_id,) in found)
                missing = [n for n in ids if n not in existing]
                for chunk in _chunks(missing):
                    batch = [{"id": n, "fold": n.casefold(), "props": rows[n]} for n in chunk]
                    await self._cypher(conn, "create_nodes", {"rows": batch})

        await self._db.run(op)

    async def upsert_edge(self, source: str, target: str, data: dict[str, Any]) -> None:
        """Create the edge or replace its properties; ``KeyError`` when an endpoint is missing."""
        await self.upsert_edges([(source, target, data)])

    async def upsert_edges(self, edges: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Create or replace many edges in one transaction; a pair given twice keeps the last.

        Raises ``KeyError`` naming the missing nodes (and writes no edge of the
        batch) when an endpoint does not exist.
        """
        batch: dict[tuple[str, str], Any] = {}
        for source, target, data in edges:
            owner = f"edge ({source!r}, {target!r})"
            batch[normalise_pair(source, target)] = json.loads(
                props_json(data, owner, clean=_clean_text)
            )
        if not batch:
            return
        pairs = sorted(batch)
        endpoints = sorted({node for pair in pairs for node in pair})

        async def op(conn: asyncpg.Connection) -> None:
            async with conn.transaction():
                await conn.execute(self._prelude)
                await conn.execute("SELECT pg_advisory_xact_lock($1)", self._write_lock_key)
                present: set[str] = set()
                for chunk in _chunks(endpoints):
                    found = await self._cypher(conn, "existing", {"ids": list(chunk)})
                    present.update(node_id for (node_id,) in found)
                missing = [node for node in endpoints if node not in present]
                if missing:
                    raise KeyError(f"cannot add edges: no node {', '.join(map(repr, missing))}")
                updated: set[tuple[str, str]] = set()
                for chunk in _chunks(pairs):
                    rows = [{"s": s, "t": t, "props": batch[(s, t)]} for s, t in chunk]
                    found = await self._cypher(conn, "update_edges", {"rows": rows}, 2)
                    updated.update((s, t) for s, t in found)
                new = [pair for pair in pairs if pair not in updated]
                for chunk in _chunks(new):
                    rows = [{"s": s, "t": t, "props": batch[(s, t)]} for s, t in chunk]
                    await self._cypher(conn, "create_edges", {"rows": rows})

        await self._db.run(op)

    async def delete_node(self, node_id: str) -> None:
        """Remove the node and its edges; unknown ids are ignored."""
        await self.delete_nodes([node_id])

    async def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Remove nodes and their edges in one transaction; unknown ids are ignored."""
        ids = sorted(set(node_ids))
        if ids:
            await self._write([("delete_nodes", {"ids": list(c)}) for c in _chunks(ids)])

    async def delete_edges(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Remove edges in one transaction; unknown pairs are ignored."""
        wanted = [list(p) for p in sorted({normalise_pair(s, t) for s, t in pairs})]
        if wanted:
            await self._write([("delete_edges", {"pairs": list(c)}) for c in _chunks(wanted)])
