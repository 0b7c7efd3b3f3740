"""Graph storage on Neo4j (Community or Enterprise, 5.x), with the ``neo4j`` async driver.

Entities are ``LightRAGEntity`` nodes scoped by ``_workspace`` and ``_namespace``
properties (see ``graph_cypher``), relations ``DIRECTED`` relationships, undirected in
every read. Degrees are Neo4j's own relationship counts (no counter to keep in step).
Batches are one transaction each, written by ``UNWIND`` statements of ``batch_size``
rows; the driver retries a transaction on transient errors and lost connections.
Record properties are stored as Neo4j properties where Neo4j can hold them
(``properties``), the rest as JSON, so any JSON-compatible record round-trips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage._graph_args import check_node_id as _check_node_id
from lightrag.storage._graph_args import check_positive as _check_positive
from lightrag.storage._graph_args import stored_pair as _pair
from lightrag.storage._graph_args import unique as _unique
from lightrag.storage._graph_views import EDGE_TYPE
from lightrag.storage._params import parse_params
from lightrag.storage.neo4j import graph_cypher as cypher
from lightrag.storage.neo4j.client import (
    Neo4jClient,
    Neo4jConfig,
    effective_workspace,
    neo4j_client,
    release_neo4j_client,
)
from lightrag.storage.neo4j.properties import decode_properties, encode_properties
from lightrag.vocabulary.storage import StorageContext
from lightrag.vocabulary.types import KnowledgeGraph, KnowledgeGraphEdge, KnowledgeGraphNode

__all__ = ["Neo4jGraphStorage"]


_DROP_BATCH = 5000
_NO_RESERVED: frozenset[str] = frozenset()


class Neo4jGraphStorage:
    """Undirected property graph in Neo4j; ``(a, b)`` and ``(b, a)`` are one edge."""

    shared: ClassVar[bool] = True
    backend_name: ClassVar[str] = "neo4j graph storage"
    config_model: ClassVar[type[Neo4jConfig]] = Neo4jConfig

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(Neo4jConfig, params, self.backend_name)
        self.workspace = effective_workspace(ctx, self.config)
        self.namespace = ctx.namespace
        self._client: Neo4jClient | None = None

    @property
    def _scope(self) -> dict[str, str]:
        return {"ws": self.workspace, "ns": self.namespace}

    # lifecycle

    async def initialize(self) -> None:
        """Share the server's driver and create the constraint and index once. Idempotent.

        Raises ``StorageUnavailableError`` (host and port, never the password) when
        the server cannot be reached or refuses the credentials.
        """
        if self._client is not None:
            return
        client = await neo4j_client(self.ctx, self.config)
        try:
            await client.ensure_schema("graph", cypher.SCHEMA, cypher.SCHEMA_INDEXES)
        except BaseException:
            await release_neo4j_client(self.ctx, self.config)
            raise
        self._client = client

    async def finalize(self) -> None:
        """Give back the shared driver. Idempotent."""
        if self._client is None:
            return
        self._client = None
        await release_neo4j_client(self.ctx, self.config)

    async def index_done(self) -> None:
        """Nothing to flush: every write is committed when it returns."""

    async def drop(self) -> None:
        """Remove every node and edge of this workspace and namespace (in bounded
        transactions, so a big graph does not need one huge one)."""
        scope = self._scope

        async def work(tx: Any) -> int:
            result = await tx.run(cypher.DROP_BATCH, {"limit": _DROP_BATCH, **scope})
            record = await result.single()
            return 0 if record is None else int(record["deleted"])

        while await self._db.write(work, "drop"):
            pass

    @property
    def _db(self) -> Neo4jClient:
        if self._client is None:
            raise RuntimeError(f"{self.backend_name} is not initialised: await initialize()")
        return self._client

    async def _write_rows(self, statement: str, rows: Sequence[Any], what: str, name: str) -> None:
        """``statement`` over ``rows`` in ``batch_size`` slices, all in one transaction."""
        size, scope = self.config.batch_size, self._scope

        async def work(tx: Any) -> None:
            for start in range(0, len(rows), size):
                params = {name: list(rows[start : start + size]), **scope}
                await (await tx.run(statement, params)).consume()

        await self._db.write(work, what)

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
        ids = _unique(node_ids)
        if not ids:
            return {}
        records = await self._db.fetch(cypher.GET_NODES, "get nodes", ids=ids, **self._scope)
        return {r["id"]: decode_properties(r["props"], cypher.RESERVED) for r in records}

    async def get_edges(
        self, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Properties of known edges, keyed by the pair as asked."""
        wanted = _unique([_pair(source, target) for source, target in pairs])
        if not wanted:
            return {}
        records = await self._db.fetch(
            cypher.GET_EDGES, "get edges", pairs=[list(p) for p in wanted], **self._scope
        )
        found = {
            (r["source"], r["target"]): decode_properties(r["props"], _NO_RESERVED) for r in records
        }
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
        ids = _unique(node_ids)
        found: dict[str, int] = {}
        if ids:
            records = await self._db.fetch(
                cypher.NODE_DEGREES, "node degrees", ids=ids, **self._scope
            )
            found = {r["id"]: int(r["degree"]) for r in records}
        return {node_id: found.get(node_id, 0) for node_id in node_ids}

    async def edge_degree(self, source: str, target: str) -> int:
        """``node_degree(source) + node_degree(target)``."""
        degrees = await self.node_degrees([source, target])
        return degrees[source] + degrees[target]

    async def get_node_edges(self, node_id: str) -> list[tuple[str, str]]:
        """Edges at the node as ``(node_id, neighbour)``; empty for an unknown node."""
        return (await self.get_nodes_edges([node_id]))[node_id]

    async def get_nodes_edges(self, node_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """Edges per asked id (an empty list for unknown ids), each neighbour once."""
        neighbours: dict[str, set[str]] = {node_id: set() for node_id in node_ids}
        if neighbours:
            records = await self._db.fetch(
                cypher.NODE_EDGES, "node edges", ids=list(neighbours), **self._scope
            )
            for r in records:
                neighbours[r["id"]].add(r["other"])
        return {
            node_id: [(node_id, other) for other in sorted(others)]
            for node_id, others in neighbours.items()
        }

    async def node_count(self) -> int:
        records = await self._db.fetch(cypher.NODE_COUNT, "node count", **self._scope)
        return int(records[0]["count"])

    async def all_labels(self) -> list[str]:
        """Every node id, sorted (by code point, as Python sorts)."""
        records = await self._db.fetch(cypher.NODE_IDS, "all labels", **self._scope)
        return sorted(r["id"] for r in records)

    async def popular_labels(self, limit: int) -> list[str]:
        """Node ids by degree, highest first (ties by id)."""
        _check_positive(limit, "limit")
        records = await self._db.fetch(cypher.POPULAR, "popular labels", limit=limit, **self._scope)
        return [r["id"] for r in records]

    async def search_labels(self, query: str, limit: int) -> list[str]:
        """Node ids containing ``query`` case-insensitively: exact, then prefix, then others.

        Within a group shorter ids come first. An empty query finds nothing.
        """
        _check_positive(limit, "limit")
        needle = query.strip().casefold()
        if not needle:
            return []
        records = await self._db.fetch(
            cypher.SEARCH, "search labels", needle=needle, limit=limit, **self._scope
        )
        return [r["id"] for r in records]

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
        # one node more than wanted tells whether any were left out
        params: dict[str, Any] = {"limit": max_nodes + 1}
        if label == "*":
            statement = cypher.POPULAR
        else:
            statement = cypher.subgraph_walk(max_depth)
            params["label"] = label

        async def work(tx: Any) -> tuple[list[Any], list[Any]]:
            nodes = [r async for r in await tx.run(statement, {**params, **self._scope})]
            chosen = nodes[:max_nodes]
            if not chosen:
                return nodes, []
            eids = [r["eid"] for r in chosen]
            edges = [r async for r in await tx.run(cypher.EDGES_AMONG, {"eids": eids})]
            return nodes, edges

        nodes, edges = await self._db.read(work, "subgraph")
        truncated = len(nodes) > max_nodes
        return KnowledgeGraph(
            nodes=[
                KnowledgeGraphNode(
                    id=r["id"],
                    labels=[r["id"]],
                    properties=decode_properties(r["props"], cypher.RESERVED),
                )
                for r in nodes[:max_nodes]
            ],
            edges=[
                KnowledgeGraphEdge(
                    id=f"{r['source']}-{r['target']}",
                    type=EDGE_TYPE,
                    source=r["source"],
                    target=r["target"],
                    properties=decode_properties(r["props"], _NO_RESERVED),
                )
                for r in edges
            ],
            is_truncated=truncated,
        )

    # writes

    async def upsert_node(self, node_id: str, data: dict[str, Any]) -> None:
        """Create the node or replace its properties."""
        await self.upsert_nodes({node_id: data})

    async def upsert_nodes(self, nodes: Mapping[str, dict[str, Any]]) -> None:
        """Create or replace many nodes in one transaction (rows in id order, so that
        concurrent batches lock their nodes in one order).

        Raises ``ValueError`` for an empty or non-string id or properties that are
        not a JSON-compatible mapping (nothing is written then).
        """
        rows = []
        for node_id, data in nodes.items():
            _check_node_id(node_id)
            props = encode_properties(data, cypher.RESERVED, f"node {node_id!r}")
            props.update(
                _workspace=self.workspace,
                _namespace=self.namespace,
                _id=node_id,
                _search=node_id.casefold(),
            )
            rows.append((node_id, props))
        if not rows:
            return
        rows.sort(key=lambda row: row[0])
        await self._write_rows(
            cypher.UPSERT_NODES,
            [{"id": node_id, "props": props} for node_id, props in rows],
            "upsert nodes",
            "rows",
        )

    async def upsert_edge(self, source: str, target: str, data: dict[str, Any]) -> None:
        """Create the edge or replace its properties; ``KeyError`` when an endpoint is missing."""
        await self.upsert_edges([(source, target, data)])

    async def upsert_edges(self, edges: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Create or replace many edges in one transaction; a pair given twice keeps the last.

        Raises ``KeyError`` naming the missing nodes (and writes no edge of the
        batch) when an endpoint does not exist.
        """
        batch: dict[tuple[str, str], dict[str, Any]] = {}
        for source, target, data in edges:
            owner = f"edge ({source!r}, {target!r})"
            batch[_pair(source, target)] = encode_properties(data, _NO_RESERVED, owner)
        if not batch:
            return
        rows = [
            {"source": s, "target": t, "props": props} for (s, t), props in sorted(batch.items())
        ]
        endpoints = sorted({node for pair in batch for node in pair})
        scope = self._scope
        size = self.config.batch_size

        async def work(tx: Any) -> None:
            written = 0
            for start in range(0, len(rows), size):
                chunk = rows[start : start + size]
                record = await (
                    await tx.run(cypher.UPSERT_EDGES, {"rows": chunk, **scope})
                ).single()
                written += 0 if record is None else int(record["written"])
            if written == len(rows):
                return
            found: set[str] = set()
            for start in range(0, len(endpoints), size):
                ids = endpoints[start : start + size]
                found.update(
                    [r["id"] async for r in await tx.run(cypher.EXISTING, {"ids": ids, **scope})]
                )
            missing = [node for node in endpoints if node not in found] or ["?"]
            # raising rolls the transaction back: no edge of the batch is written
            raise KeyError(
                f"cannot add edges: no node {', '.join(map(repr, missing))} "
                f"({len(rows) - written} of {len(rows)} edges have a missing endpoint)"
            )

        await self._db.write(work, "upsert edges")

    async def delete_node(self, node_id: str) -> None:
        """Remove the node and its edges; unknown ids are ignored."""
        await self.delete_nodes([node_id])

    async def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Remove nodes and their edges in one transaction; unknown ids are ignored."""
        ids = sorted(set(node_ids))
        if ids:
            await self._write_rows(cypher.DELETE_NODES, ids, "delete nodes", "ids")

    async def delete_edges(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Remove edges in one transaction; unknown pairs are ignored."""
        wanted = [list(pair) for pair in sorted({_pair(s, t) for s, t in pairs})]
        if wanted:
            await self._write_rows(cypher.DELETE_EDGES, wanted, "delete edges", "pairs")
