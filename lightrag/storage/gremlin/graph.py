"""Graph storage on a Gremlin Server (Apache TinkerPop; TinkerGraph, JanusGraph, ...).

Layout: one vertex per entity, labelled ``<graph>|<workspace>|<namespace>`` (each part
percent-encoded, so no two scopes share a label), with the entity id in
``lightrag_id``, its case-folded form in ``lightrag_fold`` (label search) and its
properties as one JSON object in ``lightrag_props`` (exact round trip of ints,
floats, booleans, strings, lists and maps on any provider). An undirected edge is
one ``related`` edge from the smaller id to the larger, with ``lightrag_props``.
An index on ``lightrag_id`` (TinkerGraph: ``graph.createIndex``) makes look-ups
by id cheap; the test launcher creates it.

Every traversal is bytecode with user values as arguments (see ``client``). Graphs
without transactions (TinkerGraph) cannot make a check-then-create atomic, so this
process serialises its writers per label; writers in several processes may race.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import Direction, Merge, P, T, TextP

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
from lightrag.storage.gremlin.client import (
    GremlinClient,
    GremlinConfig,
    gremlin_client,
    release_gremlin_client,
)
from lightrag.vocabulary.storage import StorageContext
from lightrag.vocabulary.types import KnowledgeGraph, KnowledgeGraphEdge, KnowledgeGraphNode

__all__ = ["GremlinGraphStorage"]

T_ = TypeVar("T_")

ID_KEY = "lightrag_id"
FOLD_KEY = "lightrag_fold"
PROPS_KEY = "lightrag_props"
EDGE_LABEL = "related"


def scope_label(graph: str, workspace: str, namespace: str) -> str:
    """The vertex label of one graph, workspace and namespace."""
    return "|".join(quote(part, safe="") for part in (graph, workspace, namespace))


def _chunks(items: Sequence[T_], size: int) -> list[Sequence[T_]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


Build = Callable[[Any, Sequence[Any]], Any]
"""``(g, chunk) -> traversal``: one request's traversal for one chunk of a batch."""


def _to_list(build: Build, chunk: Sequence[Any], g: Any) -> list[Any]:
    return list(build(g, chunk).to_list())


def _iterate(build: Build, chunk: Sequence[Any], g: Any) -> list[Any]:
    build(g, chunk).iterate()
    return []


def _load(props: str) -> dict[str, Any]:
    value = json.loads(props)
    return value if isinstance(value, dict) else {}


class GremlinGraphStorage:
    """Undirected property graph on a Gremlin Server; ``(a, b)`` and ``(b, a)`` are one edge."""

    shared: ClassVar[bool] = True
    backend_name: ClassVar[str] = "gremlin graph storage"
    config_model: ClassVar[type[GremlinConfig]] = GremlinConfig

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(GremlinConfig, params, self.backend_name)
        self.label = scope_label(self.config.graph, ctx.workspace, ctx.namespace)
        self._client: GremlinClient | None = None

    # lifecycle

    async def initialize(self) -> None:
        """Connect (the shared pool). Idempotent; Gremlin graphs need no schema here."""
        if self._client is None:
            self._client = await gremlin_client(self.ctx, self.config)

    async def finalize(self) -> None:
        if self._client is None:
            return
        self._client = None
        await release_gremlin_client(self.ctx, self.config)

    async def index_done(self) -> None:
        """Nothing to flush: the server applies each traversal when it returns."""

    async def drop(self) -> None:
        """Remove every vertex (and so every edge) of this workspace and namespace."""
        async with self._db.write_lock(self.label):
            await self._db.run(lambda g: g.V().has_label(self.label).drop().iterate())

    @property
    def _db(self) -> GremlinClient:
        if self._client is None:
            raise RuntimeError(f"{self.backend_name} is not initialised: await initialize()")
        return self._client

    def _vertices(self, g: Any, ids: Sequence[str]) -> Any:
        """The vertices of this scope among ``ids`` (index look-up on ``lightrag_id``)."""
        return g.V().has(ID_KEY, P.within(set(ids))).has_label(self.label)

    async def _each_chunk(
        self, items: Sequence[Any], build: Build, *, write: bool = False
    ) -> list[Any]:
        """``build(g, chunk)`` run per chunk of ``batch_size`` items; the rows of every
        chunk (``to_list``), or none when ``write`` (``iterate``)."""
        step = _iterate if write else _to_list
        rows: list[Any] = []
        for chunk in _chunks(list(items), self.config.batch_size):
            rows.extend(await self._db.run(functools.partial(step, build, chunk)))
        return rows

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
        rows = await self._each_chunk(
            list(dict.fromkeys(node_ids)),
            lambda g, chunk: (
                self._vertices(g, chunk).project("id", "props").by(ID_KEY).by(PROPS_KEY)
            ),
        )
        return {row["id"]: _load(row["props"]) for row in rows}

    async def _edge_rows(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """``{(source, target): {"props", "eid"}}`` of the stored (normalised) pairs asked."""
        wanted = set(pairs)
        rows = await self._each_chunk(
            sorted(wanted),
            lambda g, chunk: (
                self._vertices(g, sorted({s for s, _ in chunk}))
                .out_e(EDGE_LABEL)
                .as_("e")
                .in_v()
                .has(ID_KEY, P.within({t for _, t in chunk}))
                .select("e")
                .project("s", "t", "props", "eid")
                .by(__.out_v().values(ID_KEY))
                .by(__.in_v().values(ID_KEY))
                .by(PROPS_KEY)
                .by(T.id)
            ),
        )
        return {(r["s"], r["t"]): r for r in rows if (r["s"], r["t"]) in wanted}

    async def get_edges(
        self, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Properties of known edges, keyed by the pair as asked."""
        stored = await self._edge_rows([normalise_pair(s, t) for s, t in pairs])
        result: dict[tuple[str, str], dict[str, Any]] = {}
        for source, target in pairs:
            row = stored.get(normalise_pair(source, target))
            if row is not None:
                result[(source, target)] = _load(row["props"])
        return result

    async def node_degree(self, node_id: str) -> int:
        """Number of edges at the node; 0 for an unknown node."""
        return (await self.node_degrees([node_id]))[node_id]

    async def node_degrees(self, node_ids: Sequence[str]) -> dict[str, int]:
        """Degree per asked id (0 for unknown ids)."""
        rows = await self._each_chunk(
            list(dict.fromkeys(node_ids)),
            lambda g, chunk: (
                self._vertices(g, chunk)
                .project("id", "d")
                .by(ID_KEY)
                .by(__.both_e(EDGE_LABEL).dedup().count())
            ),
        )
        found = {row["id"]: int(row["d"]) for row in rows}
        return {node_id: found.get(node_id, 0) for node_id in node_ids}

    async def edge_degree(self, source: str, target: str) -> int:
        degrees = await self.node_degrees([source, target])
        return degrees[source] + degrees[target]

    async def get_node_edges(self, node_id: str) -> list[tuple[str, str]]:
        """Edges at the node as ``(node_id, neighbour)``; empty for an unknown node."""
        return (await self.get_nodes_edges([node_id]))[node_id]

    async def _neighbours(self, node_ids: Sequence[str]) -> dict[str, list[str]]:
        rows = await self._each_chunk(
            list(dict.fromkeys(node_ids)),
            lambda g, chunk: (
                self._vertices(g, chunk)
                .project("id", "others")
                .by(ID_KEY)
                .by(__.both(EDGE_LABEL).values(ID_KEY).dedup().fold())
            ),
        )
        return {row["id"]: sorted(row["others"]) for row in rows}

    async def get_nodes_edges(self, node_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """Edges per asked id (an empty list for unknown ids)."""
        found = await self._neighbours(node_ids)
        return {n: [(n, other) for other in found.get(n, [])] for n in node_ids}

    async def node_count(self) -> int:
        (count,) = await self._db.run(lambda g: g.V().has_label(self.label).count().to_list())
        return int(count)

    async def all_labels(self) -> list[str]:
        """Every node id, sorted (by code point)."""
        ids = await self._db.run(lambda g: g.V().has_label(self.label).values(ID_KEY).to_list())
        return sorted(ids)

    async def _all_degrees(self) -> dict[str, int]:
        rows = await self._db.run(
            lambda g: (
                g.V()
                .has_label(self.label)
                .project("id", "d")
                .by(ID_KEY)
                .by(__.both_e(EDGE_LABEL).dedup().count())
                .to_list()
            )
        )
        return {row["id"]: int(row["d"]) for row in rows}

    async def popular_labels(self, limit: int) -> list[str]:
        """Node ids by degree, highest first (ties by id)."""
        check_positive(limit, "limit")
        return rank_popular(await self._all_degrees(), limit)

    async def search_labels(self, query: str, limit: int) -> list[str]:
        """Node ids containing ``query`` case-insensitively: exact, then prefix, then others."""
        check_positive(limit, "limit")
        needle = query.strip().casefold()
        if not needle:
            return []
        ids = await self._db.run(
            lambda g: (
                g.V()
                .has_label(self.label)
                .has(FOLD_KEY, TextP.containing(needle))
                .values(ID_KEY)
                .to_list()
            )
        )
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
        edges = await self._each_chunk(
            chosen,
            lambda g, chunk: (
                self._vertices(g, chunk)
                .out_e(EDGE_LABEL)
                .project("s", "t", "props")
                .by(__.out_v().values(ID_KEY))
                .by(__.in_v().values(ID_KEY))
                .by(PROPS_KEY)
            ),
        )
        return KnowledgeGraph(
            nodes=[
                KnowledgeGraphNode(id=n, labels=[n], properties=props[n])
                for n in chosen
                if n in props
            ],
            edges=[
                KnowledgeGraphEdge(
                    id=f"{row['s']}-{row['t']}",
                    type=EDGE_TYPE,
                    source=row["s"],
                    target=row["t"],
                    properties=_load(row["props"]),
                )
                for row in sorted(edges, key=lambda r: (r["s"], r["t"]))
                if row["t"] in members
            ],
            is_truncated=truncated,
        )

    # writes

    async def upsert_node(self, node_id: str, data: dict[str, Any]) -> None:
        """Create the node or replace its properties."""
        await self.upsert_nodes({node_id: data})

    async def upsert_nodes(self, nodes: Mapping[str, dict[str, Any]]) -> None:
        """Create or replace many nodes (``batch_size`` per request).

        Raises ``ValueError`` (writing nothing) for an empty or non-string id or
        properties that are not a JSON object.
        """
        rows = {
            check_node_id(node_id): props_json(data, f"node {node_id!r}")
            for node_id, data in nodes.items()
        }
        if not rows:
            return
        async with self._db.write_lock(self.label):
            for chunk in _chunks(sorted(rows), self.config.batch_size):
                batch = {node_id: rows[node_id] for node_id in chunk}
                await self._db.run(functools.partial(self._upsert_chunk, batch))

    def _upsert_chunk(self, batch: dict[str, str], g: Any) -> None:
        """In a worker thread: replace the props of the existing ids, add the others
        (look-up first, so a retry after a lost reply adds nothing twice)."""
        existing = set(self._vertices(g, list(batch)).values(ID_KEY).to_list())
        if existing:
            (
                g.with_side_effect("batch", {n: batch[n] for n in existing})
                .V()
                .has(ID_KEY, P.within(existing))
                .has_label(self.label)
                .as_("v")
                .property(PROPS_KEY, __.select("batch").select(__.select("v").values(ID_KEY)))
                .iterate()
            )
        missing = [
            {"id": n, "fold": n.casefold(), "props": batch[n]} for n in batch if n not in existing
        ]
        if missing:
            (
                g.inject(missing)
                .unfold()
                .as_("r")
                .add_v(self.label)
                .property(ID_KEY, __.select("r").select("id"))
                .property(FOLD_KEY, __.select("r").select("fold"))
                .property(PROPS_KEY, __.select("r").select("props"))
                .iterate()
            )

    async def upsert_edge(self, source: str, target: str, data: dict[str, Any]) -> None:
        """Create the edge or replace its properties; ``KeyError`` when an endpoint is missing."""
        await self.upsert_edges([(source, target, data)])

    async def upsert_edges(self, edges: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Create or replace many edges; a pair given twice keeps the last.

        Raises ``KeyError`` naming the missing nodes (and writes no edge of the
        batch) when an endpoint does not exist.
        """
        batch: dict[tuple[str, str], str] = {}
        for source, target, data in edges:
            batch[normalise_pair(source, target)] = props_json(
                data, f"edge ({source!r}, {target!r})"
            )
        if not batch:
            return
        endpoints = sorted({node for pair in batch for node in pair})
        async with self._db.write_lock(self.label):
            rows = await self._each_chunk(
                endpoints,
                lambda g, chunk: self._vertices(g, chunk).project("id", "vid").by(ID_KEY).by(T.id),
            )
            vid = {row["id"]: row["vid"] for row in rows}
            missing = [node for node in endpoints if node not in vid]
            if missing:
                raise KeyError(f"cannot add edges: no node {', '.join(map(repr, missing))}")
            merges = [
                {
                    "match": {T.label: EDGE_LABEL, Direction.OUT: vid[s], Direction.IN: vid[t]},
                    "props": {PROPS_KEY: props},
                }
                for (s, t), props in sorted(batch.items())
            ]
            await self._each_chunk(
                merges,
                lambda g, chunk: (
                    g.inject(list(chunk))
                    .unfold()
                    .as_("r")
                    .merge_e(__.select("r").select("match"))
                    .option(Merge.on_create, __.select("r").select("props"))
                    .option(Merge.on_match, __.select("r").select("props"))
                ),
                write=True,
            )

    async def delete_node(self, node_id: str) -> None:
        """Remove the node and its edges; unknown ids are ignored."""
        await self.delete_nodes([node_id])

    async def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Remove nodes and their edges; unknown ids are ignored."""
        ids = sorted(set(node_ids))
        if not ids:
            return
        async with self._db.write_lock(self.label):
            await self._each_chunk(
                ids, lambda g, chunk: self._vertices(g, chunk).drop(), write=True
            )

    async def delete_edges(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Remove edges; unknown pairs are ignored."""
        wanted = sorted({normalise_pair(s, t) for s, t in pairs})
        if not wanted:
            return
        async with self._db.write_lock(self.label):
            eids = [row["eid"] for row in (await self._edge_rows(wanted)).values()]
            await self._each_chunk(eids, lambda g, chunk: g.E(*chunk).drop(), write=True)
