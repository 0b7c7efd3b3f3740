"""Graph storage on two plain Oracle tables (``lightrag_graph_nodes``, ``lightrag_graph_edges``).

An undirected edge is one row with its endpoints in string order. Degrees are
counted from the edge table when asked (an index range per node; popular labels
count the namespace's edges). Edge writes lock the endpoint nodes
(``SELECT ... FOR UPDATE``), so an edge cannot land on a node being deleted; a
deadlock Oracle breaks (ORA-00060) or a lost ``MERGE`` race (ORA-00001) is rolled
back and retried by the client. The subgraph walk is breadth first, one query per
level, inside a ``READ ONLY`` transaction (one consistent snapshot).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage._graph_args import check_positive, stored_pair, unique
from lightrag.storage._graph_views import EDGE_TYPE
from lightrag.storage._graph_walk import props_json, walk_nearest
from lightrag.storage.oracle import sql
from lightrag.storage.oracle._base import OracleStorageBase, write_rows
from lightrag.storage.oracle.client import fetch
from lightrag.storage.oracle.codec import checked_id, from_json, json_text
from lightrag.vocabulary.types import KnowledgeGraph, KnowledgeGraphEdge, KnowledgeGraphNode

__all__ = ["OracleGraphStorage", "edge_rows", "node_rows"]


def _props_text(data: Mapping[str, Any], owner: str) -> str:
    return json_text(json.loads(props_json(data, owner)), owner)


def node_rows(binds: dict[str, Any], nodes: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """MERGE binds of ``nodes`` in id order; ``ValueError`` for a bad id or properties."""
    return [
        {
            **binds,
            "id": checked_id(node_id, "node id"),
            "skey": node_id.casefold()[:1024],
            "props": _props_text(data, f"node {node_id!r}"),
        }
        for node_id, data in sorted(nodes.items())
    ]


def edge_rows(
    binds: dict[str, Any], edges: Sequence[tuple[str, str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """MERGE binds of ``edges`` as stored pairs in pair order; a pair given twice keeps
    the last data."""
    batch: dict[tuple[str, str], str] = {}
    for source, target, data in edges:
        pair = stored_pair(checked_id(source, "edge source"), checked_id(target, "edge target"))
        batch[pair] = _props_text(data, f"edge ({source!r}, {target!r})")
    return [{**binds, "src": s, "dst": t, "props": p} for (s, t), p in sorted(batch.items())]


class OracleGraphStorage(OracleStorageBase):
    """Undirected property graph in Oracle; ``(a, b)`` and ``(b, a)`` are one edge."""

    backend_name: ClassVar[str] = "oracle graph storage"
    schema_component: ClassVar[str] = "graph"
    schema_steps: ClassVar[tuple[str, ...]] = sql.GRAPH_SCHEMA

    async def drop(self) -> None:
        """Remove every node and edge of this workspace and namespace."""

        async def op(conn: Any) -> None:
            with conn.cursor() as cursor:
                for statement in sql.graph_drop():
                    await cursor.execute(statement, self.binds())

        await self.client.run(op, write=True)

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
        rows = await self.fetch_by_ids(sql.graph_nodes_by_ids, node_ids)
        return {row[0]: from_json(row[1]) for row in rows}

    async def get_edges(
        self, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Properties of known edges, keyed by the pair as asked."""
        wanted = unique([stored_pair(source, target) for source, target in pairs])
        if not wanted:
            return {}

        async def op(conn: Any) -> list[tuple[Any, ...]]:
            rows: list[tuple[Any, ...]] = []
            for chunk in sql.chunks(wanted, sql.MAX_IN // 2):
                binds = self.binds(**sql.pair_binds(chunk))
                rows.extend(await fetch(conn, sql.graph_edges_of_pairs(len(chunk)), binds))
            return rows

        found = {(row[0], row[1]): row[2] for row in await self.client.run(op)}
        result: dict[tuple[str, str], dict[str, Any]] = {}
        for source, target in pairs:
            props = found.get(stored_pair(source, target))
            if props is not None:
                result[(source, target)] = from_json(props)
        return result

    async def node_degree(self, node_id: str) -> int:
        """Number of edges at the node; 0 for an unknown node."""
        return (await self.node_degrees([node_id]))[node_id]

    async def node_degrees(self, node_ids: Sequence[str]) -> dict[str, int]:
        """Degree per asked id (0 for unknown ids)."""
        rows = await self.fetch_by_ids(sql.graph_node_degrees, node_ids)
        found = {row[0]: int(row[1]) for row in rows}
        return {node_id: found.get(node_id, 0) for node_id in node_ids}

    async def edge_degree(self, source: str, target: str) -> int:
        """``node_degree(source) + node_degree(target)``."""
        degrees = await self.node_degrees([source, target])
        return degrees[source] + degrees[target]

    async def get_node_edges(self, node_id: str) -> list[tuple[str, str]]:
        """Edges at the node as ``(node_id, neighbour)``; empty for an unknown node."""
        return (await self.get_nodes_edges([node_id]))[node_id]

    async def get_nodes_edges(self, node_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """Edges per asked id (an empty list for unknown ids), sorted."""
        result: dict[str, list[tuple[str, str]]] = {node_id: [] for node_id in node_ids}
        for node, other in await self.fetch_by_ids(sql.graph_node_edges, list(result)):
            result[node].append((node, other))
        for edges in result.values():
            edges.sort()
        return result

    async def node_count(self) -> int:
        row = await self.client.fetchone(sql.GRAPH_NODE_COUNT, self.binds())
        return int(row[0]) if row else 0

    async def all_labels(self) -> list[str]:
        """Every node id, sorted (by code point)."""
        return [row[0] for row in await self.client.fetchall(sql.GRAPH_ALL_LABELS, self.binds())]

    async def popular_labels(self, limit: int) -> list[str]:
        """Node ids by degree, highest first (ties by id)."""
        check_positive(limit, "limit")
        rows = await self.client.fetchall(sql.graph_popular(), self.binds(lim=limit))
        return [row[0] for row in rows]

    async def search_labels(self, query: str, limit: int) -> list[str]:
        """Node ids containing ``query`` case-insensitively: exact, then prefix, then others.

        Within a group shorter ids come first. An empty query finds nothing.
        """
        check_positive(limit, "limit")
        needle = query.strip().casefold()
        if not needle:
            return []
        found = [
            row[0]
            for row in await self.client.fetchall(
                sql.graph_search_prefix(),
                self.binds(needle=needle, pattern=sql.like_prefix(needle), lim=limit),
            )
        ]
        if len(found) < limit:
            rows = await self.client.fetchall(
                sql.graph_search_substring(), self.binds(needle=needle, lim=limit - len(found))
            )
            found.extend(row[0] for row in rows)
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
        check_positive(max_nodes, "max_nodes")

        async def by_ids(
            conn: Any, statement_for: Any, ids: Sequence[str]
        ) -> list[tuple[Any, ...]]:
            rows: list[tuple[Any, ...]] = []
            for chunk in sql.chunks(list(ids)):
                binds = self.binds(**sql.in_binds("k", chunk))
                rows.extend(await fetch(conn, statement_for(len(chunk)), binds))
            return rows

        async def op(conn: Any) -> KnowledgeGraph:
            with conn.cursor() as cursor:
                await cursor.execute(sql.GRAPH_READ_ONLY)
            try:
                if label == "*":
                    popular = await fetch(conn, sql.graph_popular(), self.binds(lim=max_nodes + 1))
                    truncated = len(popular) > max_nodes
                    chosen = [row[0] for row in popular[:max_nodes]]
                    props = {row[0]: row[1] for row in popular[:max_nodes]}
                else:
                    props = {
                        row[0]: row[1]
                        for row in await by_ids(conn, sql.graph_nodes_by_ids, [label])
                    }
                    if not props:
                        return KnowledgeGraph()

                    async def neighbours(ids: Sequence[str]) -> dict[str, list[str]]:
                        found: dict[str, list[str]] = {}
                        for node, other in await by_ids(conn, sql.graph_node_edges, ids):
                            found.setdefault(node, []).append(other)
                        return found

                    async def degrees(ids: Sequence[str]) -> dict[str, int]:
                        rows = await by_ids(conn, sql.graph_node_degrees, ids)
                        return {row[0]: int(row[1]) for row in rows}

                    chosen, truncated = await walk_nearest(
                        label, max_depth, max_nodes, neighbours, degrees
                    )
                    rows = await by_ids(conn, sql.graph_nodes_by_ids, chosen)
                    props = {row[0]: row[1] for row in rows}
                if not chosen:
                    return KnowledgeGraph()
                members = set(chosen)
                edges = sorted(
                    (row[0], row[1], row[2])
                    for row in await by_ids(conn, sql.edges_from, chosen)
                    if row[1] in members
                )
            finally:
                await conn.rollback()  # ends the read-only transaction
            return KnowledgeGraph(
                nodes=[
                    KnowledgeGraphNode(id=n, labels=[n], properties=from_json(props[n]))
                    for n in chosen
                    if n in props
                ],
                edges=[
                    KnowledgeGraphEdge(
                        id=f"{source}-{target}",
                        type=EDGE_TYPE,
                        source=source,
                        target=target,
                        properties=from_json(edge_props),
                    )
                    for source, target, edge_props in edges
                ],
                is_truncated=truncated,
            )

        return await self.client.run(op)

    # writes

    async def upsert_node(self, node_id: str, data: dict[str, Any]) -> None:
        """Create the node or replace its properties."""
        await self.upsert_nodes({node_id: data})

    async def upsert_nodes(self, nodes: Mapping[str, dict[str, Any]]) -> None:
        """Create or replace many nodes in one transaction.

        Raises ``ValueError`` for an empty or non-string id, or properties that are
        not a JSON object.
        """
        rows = node_rows(self.binds(), nodes)
        if not rows:
            return

        async def op(conn: Any) -> None:
            await write_rows(conn, sql.graph_upsert_nodes(), rows, "props")

        await self.client.run(op, write=True)

    async def upsert_edge(self, source: str, target: str, data: dict[str, Any]) -> None:
        """Create the edge or replace its properties; ``KeyError`` when an endpoint is missing."""
        await self.upsert_edges([(source, target, data)])

    async def upsert_edges(self, edges: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Create or replace many edges in one transaction; a pair given twice keeps the last.

        Raises ``KeyError`` naming the missing nodes (and writes no edge of the
        batch) when an endpoint does not exist.
        """
        rows = edge_rows(self.binds(), edges)
        if not rows:
            return
        endpoints = sorted({row[end] for row in rows for end in ("src", "dst")})

        async def op(conn: Any) -> None:
            locked: set[str] = set()
            for chunk in sql.chunks(endpoints):
                binds = self.binds(**sql.in_binds("k", chunk))
                locked.update(
                    row[0] for row in await fetch(conn, sql.graph_lock_nodes(len(chunk)), binds)
                )
            missing = set(endpoints) - locked
            if missing:
                raise KeyError(f"cannot add edges: no node {', '.join(map(repr, sorted(missing)))}")
            await write_rows(conn, sql.graph_upsert_edges(), rows, "props")

        await self.client.run(op, write=True)

    async def delete_node(self, node_id: str) -> None:
        """Remove the node and its edges; unknown ids are ignored."""
        await self.delete_nodes([node_id])

    async def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Remove nodes and their edges in one transaction; unknown ids are ignored."""
        ids = sorted({node_id for node_id in node_ids if isinstance(node_id, str) and node_id})
        if not ids:
            return

        async def op(conn: Any) -> None:
            with conn.cursor() as cursor:
                for chunk in sql.chunks(ids):
                    binds = self.binds(**sql.in_binds("k", chunk))
                    await cursor.execute(sql.graph_lock_nodes(len(chunk)), binds)
                    await cursor.fetchall()
                for chunk in sql.chunks(ids, sql.MAX_IN // 2):
                    binds = self.binds(**sql.in_binds("k", chunk))
                    await cursor.execute(sql.graph_delete_node_edges(len(chunk)), binds)
                for chunk in sql.chunks(ids):
                    binds = self.binds(**sql.in_binds("k", chunk))
                    await cursor.execute(sql.graph_delete_nodes(len(chunk)), binds)

        await self.client.run(op, write=True)

    async def delete_edges(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Remove edges in one transaction; unknown pairs are ignored."""
        wanted = sorted({stored_pair(source, target) for source, target in pairs})
        if not wanted:
            return
        rows = [self.binds(src=source, dst=target) for source, target in wanted]

        async def op(conn: Any) -> None:
            with conn.cursor() as cursor:
                await cursor.executemany(sql.graph_delete_edges(), rows)

        await self.client.run(op, write=True)
