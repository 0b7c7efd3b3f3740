"""Graph storage on two TiDB (or MySQL/MariaDB) tables: nodes and undirected edges.

An undirected edge is one row with its endpoints in string order. Each node keeps
its degree, updated in the same transaction as the edge writes, so degrees and
popular labels are index reads. Writers lock the endpoint nodes in id order
(``SELECT ... FOR UPDATE``, a current read in TiDB's pessimistic transactions and
in InnoDB): an edge cannot land on a node being deleted, and concurrent writers do
not deadlock (a rare deadlock with a node deletion is run again by the client).
The subgraph walk is breadth first, one query per level, inside one read-only
transaction (a consistent snapshot), ranked like every other graph backend.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage._graph_args import check_positive, stored_pair, unique
from lightrag.storage._graph_views import EDGE_TYPE
from lightrag.storage._graph_walk import props_json, walk_nearest
from lightrag.storage.tidb import sql
from lightrag.storage.tidb._base import TiDBStorageBase, check_id, chunks, decode, text
from lightrag.storage.tidb.client import Connection, TiDBClient, fetch, transaction
from lightrag.vocabulary.types import KnowledgeGraph, KnowledgeGraphEdge, KnowledgeGraphNode

__all__ = ["TiDBGraphStorage"]

Pair = tuple[str, str]


def _ids(statement: str, count: int) -> str:
    return statement.format(ids=sql.in_list(count))


def _pairs(statement: str, count: int) -> str:
    return statement.format(pairs=sql.pairs_list(count))


def _keys(scope: tuple[str, str], pairs: Iterable[Pair]) -> list[str]:
    """The parameters of ``pairs_list``: every pair's whole edge key."""
    return [part for source, target in pairs for part in (*scope, source, target)]


def _degree_changes(pairs: Iterable[Pair]) -> Counter[str]:
    """How many neighbours each endpoint gains (or loses) with ``pairs`` (a self-loop: one)."""
    changes: Counter[str] = Counter()
    for source, target in pairs:
        changes[source] += 1
        if target != source:
            changes[target] += 1
    return changes


class TiDBGraphStorage(TiDBStorageBase):
    """Undirected property graph in SQL tables; ``(a, b)`` and ``(b, a)`` are one edge."""

    backend_name: ClassVar[str] = "tidb graph storage"

    async def _create_schema(self, client: TiDBClient) -> None:
        await client.migrate("graph", sql.GRAPH_SCHEMA)

    async def drop(self) -> None:
        """Remove every node and edge of this workspace and namespace."""

        async def op(conn: Connection) -> None:
            async with transaction(conn), conn.cursor() as cursor:
                await cursor.execute(sql.EDGES_DROP, self._scope)
                await cursor.execute(sql.NODES_DROP, self._scope)

        await self.client.run(op)

    # -- reads -----------------------------------------------------------------

    async def _by_ids(self, statement: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for part in chunks(unique(ids)):
            rows += await self.client.fetch(_ids(statement, len(part)), [*self._scope, *part])
        return rows

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
        rows = await self._by_ids(sql.NODES_GET, node_ids)
        return {text(node_id): decode(props) for node_id, props in rows}

    async def get_edges(self, pairs: Sequence[Pair]) -> dict[Pair, dict[str, Any]]:
        """Properties of known edges, keyed by the pair as asked."""
        wanted = unique([stored_pair(source, target) for source, target in pairs])
        found: dict[Pair, str] = {}
        for part in chunks(wanted):
            rows = await self.client.fetch(
                _pairs(sql.EDGES_GET, len(part)), _keys(self._scope, part)
            )
            found.update({(text(s), text(t)): props for s, t, props in rows})
        result: dict[Pair, dict[str, Any]] = {}
        for source, target in pairs:
            props = found.get(stored_pair(source, target))
            if props is not None:
                result[(source, target)] = decode(props)
        return result

    async def node_degree(self, node_id: str) -> int:
        """Number of edges at the node; 0 for an unknown node."""
        return (await self.node_degrees([node_id]))[node_id]

    async def node_degrees(self, node_ids: Sequence[str]) -> dict[str, int]:
        """Degree per asked id (0 for unknown ids)."""
        rows = await self._by_ids(sql.NODES_DEGREE, node_ids)
        found = {text(node_id): int(degree) for node_id, degree in rows}
        return {node_id: found.get(node_id, 0) for node_id in node_ids}

    async def edge_degree(self, source: str, target: str) -> int:
        """``node_degree(source) + node_degree(target)``."""
        degrees = await self.node_degrees([source, target])
        return degrees[source] + degrees[target]

    async def get_node_edges(self, node_id: str) -> list[Pair]:
        """Edges at the node as ``(node_id, neighbour)``; empty for an unknown node."""
        return (await self.get_nodes_edges([node_id]))[node_id]

    async def get_nodes_edges(self, node_ids: Sequence[str]) -> dict[str, list[Pair]]:
        """Edges per asked id (an empty list for unknown ids)."""
        result: dict[str, list[Pair]] = {node_id: [] for node_id in node_ids}
        for part in chunks(list(result)):
            rows = await self.client.fetch(
                _ids(sql.EDGES_AT, len(part)), [*self._scope, *part, *self._scope, *part]
            )
            for node, other in rows:
                result[text(node)].append((text(node), text(other)))
        for edges in result.values():
            edges.sort()
        return result

    async def node_count(self) -> int:
        return int(await self.client.fetchval(sql.NODES_COUNT, self._scope))

    async def all_labels(self) -> list[str]:
        """Every node id, sorted (by code point)."""
        return [text(row[0]) for row in await self.client.fetch(sql.NODES_ALL_IDS, self._scope)]

    async def popular_labels(self, limit: int) -> list[str]:
        """Node ids by degree, highest first (ties by id)."""
        check_positive(limit, "limit")
        rows = await self.client.fetch(sql.NODES_POPULAR, [*self._scope, limit])
        return [text(row[0]) for row in rows]

    async def search_labels(self, query: str, limit: int) -> list[str]:
        """Node ids containing ``query`` case-insensitively: exact, then prefix, then others.

        Within a group shorter ids come first. An empty query finds nothing.
        """
        check_positive(limit, "limit")
        needle = query.strip().casefold()
        if not needle:
            return []
        rows = await self.client.fetch(
            sql.NODES_SEARCH_PREFIX, [*self._scope, sql.like_prefix(needle), needle, limit]
        )
        found = [text(row[0]) for row in rows]
        if len(found) < limit:
            rows = await self.client.fetch(
                sql.NODES_SEARCH_SUBSTRING, [*self._scope, needle, limit - len(found)]
            )
            found += [text(row[0]) for row in rows]
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

        async def op(conn: Connection) -> KnowledgeGraph:
            async def by_ids(statement: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
                """``statement`` over ``ids`` in chunks (``EDGES_AT`` names them twice)."""
                twice = statement is sql.EDGES_AT
                rows: list[tuple[Any, ...]] = []
                for part in chunks(ids):
                    args = [*self._scope, *part] * (2 if twice else 1)
                    rows += await fetch(conn, _ids(statement, len(part)), args)
                return rows

            async def neighbours(frontier: Sequence[str]) -> dict[str, list[str]]:
                found: dict[str, list[str]] = {}
                for node, other in await by_ids(sql.EDGES_AT, frontier):
                    found.setdefault(text(node), []).append(text(other))
                return found

            async def degrees(ids: Sequence[str]) -> dict[str, int]:
                return {text(i): int(d) for i, d in await by_ids(sql.NODES_DEGREE, ids)}

            # one transaction: every read below sees the same snapshot
            async with transaction(conn):
                if label == "*":
                    rows = await fetch(conn, sql.NODES_POPULAR, [*self._scope, max_nodes + 1])
                    truncated = len(rows) > max_nodes
                    chosen = [text(row[0]) for row in rows[:max_nodes]]
                elif await by_ids(sql.NODES_DEGREE, [label]):
                    chosen, truncated = await walk_nearest(
                        label, max_depth, max_nodes, neighbours, degrees
                    )
                else:
                    chosen, truncated = [], False
                if not chosen:
                    return KnowledgeGraph()
                props = {text(i): decode(p) for i, p in await by_ids(sql.NODES_GET, chosen)}
                edges = await fetch(
                    conn, _ids(sql.EDGES_AMONG, len(chosen)), [*self._scope, *chosen, *chosen]
                )
            return KnowledgeGraph(
                nodes=[
                    KnowledgeGraphNode(id=node_id, labels=[node_id], properties=props[node_id])
                    for node_id in chosen
                    if node_id in props
                ],
                edges=[
                    KnowledgeGraphEdge(
                        id=f"{source}-{target}",
                        type=EDGE_TYPE,
                        source=source,
                        target=target,
                        properties=decode(edge_props),
                    )
                    for source, target, edge_props in ((text(s), text(t), p) for s, t, p in edges)
                ],
                is_truncated=truncated,
            )

        return await self.client.run(op)

    # -- writes ----------------------------------------------------------------

    async def upsert_node(self, node_id: str, data: dict[str, Any]) -> None:
        """Create the node or replace its properties."""
        await self.upsert_nodes({node_id: data})

    async def upsert_nodes(self, nodes: Mapping[str, dict[str, Any]]) -> None:
        """Create or replace many nodes (multi-row statements, in id order).

        Raises ``ValueError`` for an empty, non-string or too long id, or properties
        that are not a JSON object.
        """
        rows = []
        for node_id, data in sorted(nodes.items()):
            check_id(node_id, "node id")
            folded = node_id.casefold()
            props = props_json(data, f"node {node_id!r}")
            rows.append((*self._scope, node_id, folded, len(folded), props))
        await self.client.executemany(sql.NODES_UPSERT, rows)

    async def upsert_edge(self, source: str, target: str, data: dict[str, Any]) -> None:
        """Create the edge or replace its properties; ``KeyError`` when an endpoint is missing."""
        await self.upsert_edges([(source, target, data)])

    async def upsert_edges(self, edges: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Create or replace many edges in one transaction; a pair given twice keeps the last.

        Raises ``KeyError`` naming the missing nodes (and writes no edge of the
        batch) when an endpoint does not exist.
        """
        batch: dict[Pair, str] = {}
        for source, target, data in edges:
            batch[stored_pair(source, target)] = props_json(data, f"edge ({source!r}, {target!r})")
        if not batch:
            return
        rows = sorted(batch.items())
        endpoints = sorted({node for pair in batch for node in pair})

        async def op(conn: Connection) -> None:
            async with transaction(conn):
                existing = {text(row[0]) for row in await self._locked(conn, endpoints)}
                missing = set(endpoints) - existing
                if missing:
                    raise KeyError(
                        f"cannot add edges: no node {', '.join(map(repr, sorted(missing)))}"
                    )
                known: set[Pair] = set()
                pairs = [pair for pair, _ in rows]
                for part in chunks(pairs):
                    found = await fetch(
                        conn, _pairs(sql.EDGES_LOCK, len(part)), _keys(self._scope, part)
                    )
                    known.update((text(s), text(t)) for s, t in found)
                async with conn.cursor() as cursor:
                    await cursor.executemany(
                        sql.EDGES_UPSERT, [(*self._scope, s, t, props) for (s, t), props in rows]
                    )
                await self._add_degrees(conn, _degree_changes(p for p in pairs if p not in known))

        await self.client.run(op)

    async def delete_node(self, node_id: str) -> None:
        """Remove the node and its edges; unknown ids are ignored."""
        await self.delete_nodes([node_id])

    async def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Remove nodes and their edges in one transaction; unknown ids are ignored."""
        ids = sorted(set(node_ids))
        if not ids:
            return
        doomed = set(ids)

        async def op(conn: Connection) -> None:
            async with transaction(conn):
                # neighbours first (a plain read), then every affected node locked in id
                # order; the edges read again under the locks are the ones deleted
                neighbours = {
                    text(other)
                    for part in chunks(ids)
                    for _, other in await fetch(
                        conn, _ids(sql.EDGES_AT, len(part)), [*self._scope, *part] * 2
                    )
                }
                locked = set(ids) | neighbours
                await self._locked(conn, sorted(locked))
                at: set[Pair] = set()
                for part in chunks(ids):
                    found = await fetch(
                        conn, _ids(sql.EDGES_AT_LOCKED, len(part)), [*self._scope, *part, *part]
                    )
                    at.update((text(s), text(t)) for s, t in found)
                late = {end for pair in at for end in pair} - locked
                if late:  # an edge added between the two reads: lock its other end too
                    await self._locked(conn, sorted(late))
                for part in chunks(ids):
                    await execute(
                        conn, _ids(sql.EDGES_DELETE_AT, len(part)), [*self._scope, *part, *part]
                    )
                    await execute(conn, _ids(sql.NODES_DELETE, len(part)), [*self._scope, *part])
                changes = _degree_changes(at)
                await self._add_degrees(
                    conn, Counter({n: -c for n, c in changes.items() if n not in doomed})
                )

        await self.client.run(op)

    async def delete_edges(self, pairs: Sequence[Pair]) -> None:
        """Remove edges in one transaction; unknown pairs are ignored."""
        wanted = sorted({stored_pair(source, target) for source, target in pairs})
        if not wanted:
            return
        endpoints = sorted({node for pair in wanted for node in pair})

        async def op(conn: Connection) -> None:
            async with transaction(conn):
                await self._locked(conn, endpoints)
                gone: set[Pair] = set()
                for part in chunks(wanted):
                    found = await fetch(
                        conn, _pairs(sql.EDGES_LOCK, len(part)), _keys(self._scope, part)
                    )
                    gone.update((text(s), text(t)) for s, t in found)
                if not gone:
                    return
                ordered = sorted(gone)
                for part in chunks(ordered):
                    await execute(
                        conn, _pairs(sql.EDGES_DELETE, len(part)), _keys(self._scope, part)
                    )
                await self._add_degrees(
                    conn, Counter({n: -c for n, c in _degree_changes(ordered).items()})
                )

        await self.client.run(op)

    # -- write helpers (inside a transaction) -----------------------------------

    async def _locked(self, conn: Connection, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """Lock the existing nodes among ``ids`` (sorted by the caller) and list them."""
        rows: list[tuple[Any, ...]] = []
        for part in chunks(ids):
            rows += await fetch(conn, _ids(sql.NODES_LOCK, len(part)), [*self._scope, *part])
        return rows

    async def _add_degrees(self, conn: Connection, changes: Mapping[str, int]) -> None:
        """Add ``changes[node]`` to each node's degree: one statement per distinct change."""
        by_change: dict[int, list[str]] = {}
        for node_id, change in changes.items():
            if change:
                by_change.setdefault(change, []).append(node_id)
        for change, node_ids in sorted(by_change.items()):
            for part in chunks(sorted(node_ids)):
                await execute(
                    conn, _ids(sql.NODES_ADD_DEGREE, len(part)), [change, *self._scope, *part]
                )


async def execute(conn: Connection, statement: str, args: Sequence[Any]) -> int:
    async with conn.cursor() as cursor:
        return int(await cursor.execute(statement, tuple(args)))
