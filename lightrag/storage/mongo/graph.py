"""Graph storage in MongoDB: a nodes collection and an edges collection per namespace.

- nodes, collection ``<base>``: ``{"_id": node id, "key": id case-folded, "props": {...}}``;
- edges, collection ``<base>.edges``: one document per undirected pair,
  ``{"_id": '["<s>","<t>"]', "s": s, "t": t, "ends": [s, t], "props": {...}}`` with
  ``s <= t`` (Python string order) and ``ends == [s]`` for a self-loop. The ``_id`` is
  the pair as JSON (a string: injective, and secantusdb's ``$graphLookup`` cannot
  walk a collection whose ``_id`` is a subdocument).

Every edge write is one document, so the storage needs no multi-document
transaction (a standalone mongod will do). Degrees are counted from the multikey
``ends`` index rather than kept on the nodes, so they cannot drift from the edges.
``subgraph`` walks the edges with ``$graphLookup`` (``connectFromField`` and
``connectToField`` both ``ends``, so the walk is undirected); an edge found at
depth ``d`` has an endpoint ``d`` hops from the start, so nodes up to ``max_depth``
hops are the endpoints of the edges found up to depth ``max_depth - 1``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from lightrag.storage._graph_args import check_node_id as _check_node_id
from lightrag.storage._graph_args import check_positive as _check_positive
from lightrag.storage._graph_args import stored_pair as _pair
from lightrag.storage._graph_views import EDGE_TYPE
from lightrag.storage.mongo._base import MongoStorageBase
from lightrag.storage.mongo._writes import bulk_write, delete_each, prefix_upper_bound
from lightrag.storage.mongo.client import MongoClient
from lightrag.vocabulary.storage import StorageContext
from lightrag.vocabulary.types import KnowledgeGraph, KnowledgeGraphEdge, KnowledgeGraphNode

__all__ = ["MongoGraphStorage"]


class MongoGraphStorage(MongoStorageBase):
    """Undirected property graph in MongoDB; ``(a, b)`` and ``(b, a)`` are one edge."""

    backend_name: ClassVar[str] = "mongo graph storage"

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        super().__init__(ctx, params)
        self.edges_name = f"{self.collection_name}.edges"

    @property
    def edges(self) -> Any:
        return self.client.db[self.edges_name]

    async def _create_indexes(self, client: MongoClient) -> None:
        from pymongo import ASCENDING, IndexModel

        await client.ensure_indexes(
            self.collection_name, [IndexModel([("key", ASCENDING)], name="lightrag_key")]
        )
        await client.ensure_indexes(
            self.edges_name,
            [
                IndexModel([("ends", ASCENDING)], name="lightrag_ends"),
                IndexModel([("s", ASCENDING), ("t", ASCENDING)], name="lightrag_s_t"),
            ],
        )

    async def drop(self) -> None:
        """Remove every node and edge of this workspace and namespace."""
        await self._run("drop edges", lambda: self.edges.delete_many({}))
        await self._run("drop nodes", lambda: self.collection.delete_many({}))

    # reads

    async def has_node(self, node_id: str) -> bool:
        found = await self._run(
            "has_node", lambda: self.collection.find_one({"_id": node_id}, {"_id": 1})
        )
        return found is not None

    async def has_edge(self, source: str, target: str) -> bool:
        pair_id = _pair_id(*_pair(source, target))
        found = await self._run(
            "has_edge", lambda: self.edges.find_one({"_id": pair_id}, {"_id": 1})
        )
        return found is not None

    async def get_node(self, node_id: str) -> dict[str, Any] | None:
        return (await self.get_nodes([node_id])).get(node_id)

    async def get_edge(self, source: str, target: str) -> dict[str, Any] | None:
        return (await self.get_edges([(source, target)])).get((source, target))

    async def get_nodes(self, node_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Properties of the known nodes among ``node_ids`` (unknown ones are left out)."""
        wanted = list(dict.fromkeys(node_ids))
        if not wanted:
            return {}
        return await self._node_props(wanted)

    async def _node_props(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        async def op() -> dict[str, dict[str, Any]]:
            cursor = self.collection.find({"_id": {"$in": ids}}, {"props": 1})
            return {doc["_id"]: dict(doc["props"]) async for doc in cursor}

        return await self._run("get_nodes", op)

    async def get_edges(
        self, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Properties of known edges, keyed by the pair as asked."""
        wanted = list(dict.fromkeys(_pair_id(*_pair(s, t)) for s, t in pairs))
        if not wanted:
            return {}

        async def op() -> dict[str, dict[str, Any]]:
            cursor = self.edges.find({"_id": {"$in": wanted}}, {"props": 1})
            return {doc["_id"]: doc["props"] async for doc in cursor}

        found = await self._run("get_edges", op)
        result: dict[tuple[str, str], dict[str, Any]] = {}
        for source, target in pairs:
            props = found.get(_pair_id(*_pair(source, target)))
            if props is not None:
                result[(source, target)] = dict(props)
        return result

    async def node_degree(self, node_id: str) -> int:
        """Number of edges at the node; 0 for an unknown node."""
        return (await self.node_degrees([node_id]))[node_id]

    async def node_degrees(self, node_ids: Sequence[str]) -> dict[str, int]:
        """Degree per asked id (0 for unknown ids), counted on the ``ends`` index."""
        wanted = list(dict.fromkeys(node_ids))
        found = await self._degrees(wanted) if wanted else {}
        return {node_id: found.get(node_id, 0) for node_id in node_ids}

    async def _degrees(self, ids: list[str]) -> dict[str, int]:
        pipeline = [
            {"$match": {"ends": {"$in": ids}}},
            {"$unwind": "$ends"},
            {"$match": {"ends": {"$in": ids}}},
            {"$group": {"_id": "$ends", "n": {"$sum": 1}}},
        ]
        rows = await self._aggregate(self.edges, "node_degrees", pipeline)
        return {row["_id"]: int(row["n"]) for row in rows}

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
        wanted = list(result)

        async def op() -> list[dict[str, Any]]:
            cursor = self.edges.find({"ends": {"$in": wanted}}, {"s": 1, "t": 1})
            return [doc async for doc in cursor]

        for doc in await self._run("get_nodes_edges", op):
            source, target = doc["s"], doc["t"]
            if source in result:
                result[source].append((source, target))
            if target in result and target != source:
                result[target].append((target, source))
        for edges in result.values():
            edges.sort()
        return result

    async def node_count(self) -> int:
        return int(await self._run("node_count", lambda: self.collection.count_documents({})))

    async def all_labels(self) -> list[str]:
        """Every node id, sorted (by code point)."""

        async def op() -> list[str]:
            return [doc["_id"] async for doc in self.collection.find({}, {"_id": 1}).sort("_id", 1)]

        return await self._run("all_labels", op)

    async def popular_labels(self, limit: int) -> list[str]:
        """Node ids by degree, highest first (ties by id)."""
        _check_positive(limit, "limit")
        return [node_id for node_id, _ in await self._popular(limit)]

    async def _popular(self, limit: int) -> list[tuple[str, int]]:
        """Up to ``limit`` ``(id, degree)`` by degree, then id; nodes without edges come
        last (by id), read from the nodes collection only when the edges ran out."""
        pipeline = [
            {"$unwind": "$ends"},
            {"$group": {"_id": "$ends", "n": {"$sum": 1}}},
            {"$sort": {"n": -1, "_id": 1}},
            {"$limit": limit},
        ]
        rows = await self._aggregate(self.edges, "popular_labels", pipeline)
        ranked = [(row["_id"], int(row["n"])) for row in rows]
        if len(ranked) < limit:  # every node with an edge is ranked: add the others
            linked = [node_id for node_id, _ in ranked]

            async def op() -> list[str]:
                cursor = (
                    self.collection.find({"_id": {"$nin": linked}}, {"_id": 1})
                    .sort("_id", 1)
                    .limit(limit - len(ranked))
                )
                return [doc["_id"] async for doc in cursor]

            ranked += [(node_id, 0) for node_id in await self._run("popular_labels", op)]
        return ranked

    async def search_labels(self, query: str, limit: int) -> list[str]:
        """Node ids containing ``query`` case-insensitively: exact, then prefix, then others.

        Within a group shorter ids come first, then by id. An empty query finds nothing.
        """
        _check_positive(limit, "limit")
        needle = query.strip().casefold()
        if not needle:
            return []
        in_prefix: dict[str, Any] = {"$gte": needle}
        bound = prefix_upper_bound(needle)
        if bound is not None:
            in_prefix["$lt"] = bound
        rank = {
            "exact": {"$cond": [{"$eq": ["$key", needle]}, 0, 1]},
            "length": {"$strLenCP": "$key"},
        }
        prefix_pipeline = [
            {"$match": {"key": in_prefix}},
            {"$project": rank},
            {"$sort": {"exact": 1, "length": 1, "_id": 1}},
            {"$limit": limit},
        ]
        found = [
            row["_id"]
            for row in await self._aggregate(self.collection, "search_labels", prefix_pipeline)
        ]
        if len(found) < limit:
            outside_prefix = [{"key": {"$lt": needle}}]
            if bound is not None:
                outside_prefix.append({"key": {"$gte": bound}})
            inner_pipeline = [
                {"$match": {"key": {"$regex": re.escape(needle)}, "$or": outside_prefix}},
                {"$project": {"length": {"$strLenCP": "$key"}}},
                {"$sort": {"length": 1, "_id": 1}},
                {"$limit": limit - len(found)},
            ]
            rows = await self._aggregate(self.collection, "search_labels", inner_pipeline)
            found.extend(row["_id"] for row in rows)
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
        if label == "*":
            ranked = [node_id for node_id, _ in await self._popular(max_nodes + 1)]
        else:
            ranked = await self._walk(label, max_depth)
        truncated = len(ranked) > max_nodes
        chosen = ranked[:max_nodes]
        if not chosen:
            return KnowledgeGraph()
        props = await self._node_props(chosen)
        chosen = [node_id for node_id in chosen if node_id in props]
        edges = await self._edges_among(chosen)
        return KnowledgeGraph(
            nodes=[
                KnowledgeGraphNode(id=node_id, labels=[node_id], properties=props[node_id])
                for node_id in chosen
            ],
            edges=[
                KnowledgeGraphEdge(
                    id=f"{doc['s']}-{doc['t']}",
                    type=EDGE_TYPE,
                    source=doc["s"],
                    target=doc["t"],
                    properties=dict(doc["props"]),
                )
                for doc in edges
            ],
            is_truncated=truncated,
        )

    async def _walk(self, label: str, max_depth: int) -> list[str]:
        """Every node within ``max_depth`` hops of ``label``, by hops, degree, then id
        (``[]`` when ``label`` is not a node)."""
        if not await self.has_node(label):
            return []
        if max_depth == 0:
            return [label]
        pipeline = [
            {"$match": {"_id": label}},
            {
                "$graphLookup": {
                    "from": self.edges_name,
                    "startWith": "$_id",
                    "connectFromField": "ends",
                    "connectToField": "ends",
                    "as": "reached",
                    "maxDepth": max_depth - 1,
                    "depthField": "depth",
                }
            },
            # right after $graphLookup, MongoDB folds the $unwind into it, so the walk
            # is not bound by the 16 MB limit of one document
            {"$unwind": "$reached"},
            {"$project": {"_id": 0, "ends": "$reached.ends", "depth": "$reached.depth"}},
        ]
        hops: dict[str, int] = {label: 0}
        for row in await self._aggregate(self.collection, "subgraph", pipeline):
            for node_id in row["ends"]:
                if node_id != label:
                    hops[node_id] = min(hops.get(node_id, max_depth), int(row["depth"]) + 1)
        degrees = await self._degrees(list(hops))
        return sorted(hops, key=lambda node_id: (hops[node_id], -degrees.get(node_id, 0), node_id))

    async def _edges_among(self, ids: list[str]) -> list[dict[str, Any]]:
        async def op() -> list[dict[str, Any]]:
            cursor = self.edges.find(
                {"s": {"$in": ids}, "t": {"$in": ids}}, {"s": 1, "t": 1, "props": 1}
            ).sort([("s", 1), ("t", 1)])
            return [doc async for doc in cursor]

        return await self._run("subgraph edges", op)

    async def _aggregate(self, collection: Any, what: str, pipeline: list[Any]) -> list[Any]:
        async def op() -> list[Any]:
            return list(await (await collection.aggregate(pipeline)).to_list())

        return await self._run(what, op)

    # writes

    async def upsert_node(self, node_id: str, data: dict[str, Any]) -> None:
        """Create the node or replace its properties."""
        await self.upsert_nodes({node_id: data})

    async def upsert_nodes(self, nodes: Mapping[str, dict[str, Any]]) -> None:
        """Create or replace many nodes in one ``bulkWrite``.

        Raises ``ValueError`` for an empty or non-string id, or properties that are
        not a mapping with string keys.
        """
        if not nodes:
            return
        from pymongo import ReplaceOne

        requests = []
        for node_id, data in nodes.items():
            _check_node_id(node_id)
            document = {
                "_id": node_id,
                "key": node_id.casefold(),
                "props": _props(data, f"node {node_id!r}"),
            }
            requests.append(ReplaceOne({"_id": node_id}, document, upsert=True))
        await bulk_write(self, "upsert_nodes", requests)

    async def upsert_edge(self, source: str, target: str, data: dict[str, Any]) -> None:
        """Create the edge or replace its properties; ``KeyError`` when an endpoint is missing."""
        await self.upsert_edges([(source, target, data)])

    async def upsert_edges(self, edges: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Create or replace many edges in one ``bulkWrite``; a pair given twice keeps the last.

        Raises ``KeyError`` naming the missing nodes (and writes no edge of the
        batch) when an endpoint does not exist.
        """
        batch: dict[tuple[str, str], dict[str, Any]] = {}
        for source, target, data in edges:
            batch[_pair(source, target)] = _props(data, f"edge ({source!r}, {target!r})")
        if not batch:
            return
        endpoints = sorted({node_id for pair in batch for node_id in pair})

        async def existing() -> set[str]:
            cursor = self.collection.find({"_id": {"$in": endpoints}}, {"_id": 1})
            return {doc["_id"] async for doc in cursor}

        missing = set(endpoints) - await self._run("upsert_edges", existing)
        if missing:
            raise KeyError(f"cannot add edges: no node {', '.join(map(repr, sorted(missing)))}")
        from pymongo import ReplaceOne

        requests = []
        for (source, target), props in batch.items():
            pair_id = _pair_id(source, target)
            document = {
                "_id": pair_id,
                "s": source,
                "t": target,
                "ends": [source] if source == target else [source, target],
                "props": props,
            }
            requests.append(ReplaceOne({"_id": pair_id}, document, upsert=True))
        await bulk_write(_EdgeWrites(self), "upsert_edges", requests)

    async def delete_node(self, node_id: str) -> None:
        """Remove the node and its edges; unknown ids are ignored."""
        await self.delete_nodes([node_id])

    async def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Remove nodes and their edges; unknown ids are ignored.

        Edges go first, then the nodes, then edges again (any an unlocked concurrent
        writer added meanwhile): a crash in between leaves nodes without some of their
        edges, never an edge without its node.
        """
        ids = list(set(node_ids))
        if not ids:
            return
        edges = _EdgeWrites(self)
        await delete_each(edges, "delete_nodes", "ends", ids, many=True)
        await delete_each(self, "delete_nodes", "_id", ids, many=False)
        await delete_each(edges, "delete_nodes", "ends", ids, many=True)

    async def delete_edges(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Remove edges; unknown pairs are ignored."""
        wanted = list({_pair_id(*_pair(source, target)) for source, target in pairs})
        if not wanted:
            return
        await delete_each(_EdgeWrites(self), "delete_edges", "_id", wanted, many=False)


class _EdgeWrites:
    """The edges collection seen as a storage by ``bulk_write``."""

    def __init__(self, graph: MongoGraphStorage) -> None:
        self.backend_name = graph.backend_name
        self.collection = graph.edges
        self._run = graph._run


def _pair_id(source: str, target: str) -> str:
    return json.dumps([source, target], ensure_ascii=False)


def _value(value: Any) -> Any:
    if isinstance(value, np.generic) and np.ndim(value) == 0:
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    return value


def _props(data: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """``data`` as a document (``None`` values dropped, as the file backend does)."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{owner}: properties must be a mapping, got {type(data).__name__}")
    properties: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise ValueError(f"{owner}: property name {key!r} is not a string")
        if value is not None:
            properties[key] = _value(value)
    return properties
