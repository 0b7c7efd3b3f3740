"""Graph storage on an undirected ``networkx.Graph``, persisted as GraphML.

Layout (upstream-compatible): ``<working_dir>[/<workspace>]/graph_<namespace>.graphml``.
GraphML holds scalar properties only: values must be ``str``, ``int``, ``float`` or
``bool`` (a ``None`` value means "no value" and the key is not stored; lists and
dicts are rejected: join them into a string, e.g. with ``GRAPH_FIELD_SEP``).
Characters XML 1.0 cannot carry (most control characters) are replaced by U+FFFD in
property values and rejected in node ids, so the file always reloads.

Persistence: ``index_done`` appends what changed since the last call to
``graph_<namespace>.journal.jsonl``, one line ``{"dn": [deleted nodes], "n": {node:
properties}, "de": [[a, b], ...], "e": [[a, b, properties], ...]}`` applied in that
order (a node deleted and re-created is in both ``dn`` and ``n``, so its old edges
go). The GraphML file is rewritten (compaction) when the journal outgrows
``compact_ratio`` of it and on ``finalize``, so after a clean shutdown it alone holds
the graph, readable by any GraphML tool.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, TypeVar
from xml.etree.ElementTree import ParseError

import networkx as nx
import numpy as np

from lightrag.storage._file_store import JournalConfig, JournaledFileStore
from lightrag.storage._files import (
    ChangeTracker,
    CorruptStorageFileError,
    atomic_write_bytes,
    atomic_write_parts,
    storage_dir,
)
from lightrag.storage._graph_views import (
    build_knowledge_graph,
    popular_labels,
    search_labels,
    subgraph_nodes,
)
from lightrag.storage._graphml import graphml_parts
from lightrag.storage._journal import AppendDeltas, JournalFile, encode_line
from lightrag.storage._params import parse_params
from lightrag.vocabulary.storage import StorageContext
from lightrag.vocabulary.types import KnowledgeGraph

__all__ = ["NetworkXGraphConfig", "NetworkXGraphStorage"]

T = TypeVar("T")

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_THREAD_NODES = 20_000
"""Whole-graph reads (labels, subgraphs) on graphs larger than this run in a thread."""


class NetworkXGraphConfig(JournalConfig):
    """Parameters of the NetworkX GraphML storage: its journal and compaction."""


def _edge_key(source: str, target: str) -> tuple[str, str]:
    """The pair of an undirected edge in one fixed order."""
    return (source, target) if source <= target else (target, source)


class NetworkXGraphStorage(JournaledFileStore):
    """Undirected property graph in memory, journaled on ``index_done``, compacted to GraphML.

    Returned property dicts are copies. ``(a, b)`` and ``(b, a)`` name the same edge.
    """

    backend_name: ClassVar[str] = "networkx graph storage"
    config_model: ClassVar[type[NetworkXGraphConfig]] = NetworkXGraphConfig
    shared: ClassVar[bool] = False

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(NetworkXGraphConfig, params, self.backend_name)
        self.directory = storage_dir(ctx)
        self.path = self.directory / f"graph_{ctx.namespace}.graphml"
        self._journal = JournalFile(
            self.directory / f"graph_{ctx.namespace}.journal.jsonl", fsync=self.config.fsync
        )
        self._graph: nx.Graph = nx.Graph()
        self._deltas = AppendDeltas()  # long values journaled as appended tails
        self._forget_pending()
        self._init_file_state()

    def _forget_pending(self) -> None:
        # what changed since the last journal line; edges keyed by ``_edge_key``
        self._nodes_set: set[str] = set()
        self._nodes_removed: set[str] = set()
        self._edges_set: set[tuple[str, str]] = set()
        self._edges_removed: set[tuple[str, str]] = set()

    # lifecycle

    async def initialize(self) -> None:
        """Create the directory and load the GraphML file. Idempotent.

        Raises ``CorruptStorageFileError`` (naming the file) when it cannot be parsed.
        """
        if self._open:
            return
        async with self._write_lock:
            self._graph = await asyncio.to_thread(self._load)
            self._forget_pending()
            self._deltas = AppendDeltas()
            replayed = await asyncio.to_thread(self._journal.replay_entries, self._replay)
            if self._deltas.gaps:
                record, name = next(iter(self._deltas.gaps))
                raise CorruptStorageFileError(
                    self._journal.path,
                    f"{len(self._deltas.gaps)} appended values do not fit the value they "
                    f"extend (e.g. {name!r} of {record!r})",
                )
            self._deltas.gaps.clear()
            self._changes = ChangeTracker()
            if replayed and not self.config.journal:
                self._changes.touch()  # the GraphML file lags behind the journal
            self._open = True

    def _replay(self, entry: Any) -> None:
        """Apply one journal entry (checked whole first; ``ValueError`` when malformed)."""
        if not isinstance(entry, dict):
            raise ValueError("entry is not an object")
        nodes_removed, nodes, node_deltas, edges_removed, edges = (
            entry.get("dn", []),
            entry.get("n", {}),
            entry.get("nx", {}),
            entry.get("de", []),
            entry.get("e", []),
        )
        if not (
            isinstance(nodes_removed, list)
            and all(isinstance(node, str) for node in nodes_removed)
            and isinstance(nodes, dict)
            and all(isinstance(props, dict) for props in nodes.values())
            and isinstance(node_deltas, dict)
            and set(node_deltas) <= set(nodes)
            and isinstance(edges_removed, list)
            and all(_is_pair(pair, 2) for pair in edges_removed)
            and isinstance(edges, list)
            and all(
                (_is_pair(item, 3) or _is_pair(item, 4))
                and all(isinstance(part, dict) for part in item[2:])
                for item in edges
            )
        ):
            raise ValueError("not a graph journal entry (dn, n, nx, de, e)")
        graph = self._graph
        deltas = self._deltas
        for node_id in nodes_removed:
            if node_id in graph:
                for other in graph.adj[node_id]:
                    deltas.reset(("e", *_edge_key(node_id, other)))
                graph.remove_node(node_id)
            deltas.reset(("n", node_id))
        for node_id, props in nodes.items():
            record: tuple[str, ...] = ("n", node_id)
            deltas.reset(record)
            if node_id in node_deltas:
                grown = deltas.apply(record, graph.nodes.get(node_id), node_deltas[node_id])
                props = {**props, **grown}
            _set_attributes(graph, node_id, props)
        for source, target in edges_removed:
            deltas.reset(("e", *_edge_key(source, target)))
            if graph.has_edge(source, target):
                graph.remove_edge(source, target)
        for source, target, props, *grown_part in edges:
            if source not in graph or target not in graph:
                raise ValueError(f"edge ({source!r}, {target!r}) has an endpoint that is no node")
            record = ("e", *_edge_key(source, target))
            deltas.reset(record)
            attributes = graph.adj[source].get(target)
            if grown_part:
                props = {**props, **deltas.apply(record, attributes, grown_part[0])}
            if attributes is None:
                graph.add_edge(source, target, **props)
            else:
                attributes.clear()
                attributes.update(props)

    def _pending_line(self) -> bytes | None:
        graph = self._graph
        nodes = graph.nodes
        adjacency = graph.adj
        deltas = self._deltas
        deltas.begin()
        whole_nodes: dict[str, dict[str, Any]] = {}
        node_deltas: dict[str, dict[str, list[Any]]] = {}
        for node_id in self._nodes_set:
            whole_nodes[node_id], grown = deltas.split(("n", node_id), nodes[node_id])
            if grown:
                node_deltas[node_id] = grown
        edges: list[list[Any]] = []
        for a, b in self._edges_set:
            whole, grown = deltas.split(("e", a, b), adjacency[a][b])
            edges.append([a, b, whole, grown] if grown else [a, b, whole])
        entry: dict[str, Any] = {
            "dn": sorted(self._nodes_removed),
            "n": whole_nodes,
            "de": [list(pair) for pair in self._edges_removed],
            "e": edges,
        }
        if node_deltas:
            entry["nx"] = node_deltas
        return encode_line(entry)

    def _pending_written(self) -> None:
        self._forget_pending()
        self._deltas.commit()

    def _load(self) -> nx.Graph:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._loaded_main_file()
        if not self.path.exists():
            return nx.Graph()
        try:
            loaded = nx.read_graphml(self.path)
        except (ParseError, nx.NetworkXError, ValueError, KeyError, TypeError, OSError) as exc:
            raise CorruptStorageFileError(
                self.path, f"not a readable GraphML file ({type(exc).__name__}: {exc})"
            ) from exc
        # Directed or multi graphs written elsewhere become one undirected edge per pair.
        return loaded if type(loaded) is nx.Graph else nx.Graph(loaded)

    async def _snapshot(self) -> Callable[[], None]:
        # writers wait for a copy, not for the encoding; a big copy runs in a
        # thread (writers are locked out, and reads do not change the graph)
        if self._graph.number_of_nodes() <= _THREAD_NODES:
            snapshot = self._graph.copy()
        else:
            snapshot = await asyncio.to_thread(self._graph.copy)
        return lambda: atomic_write_parts(self.path, graphml_parts(snapshot))

    async def drop(self) -> None:
        """Remove every node and edge and persist the empty graph."""
        self._require_open()
        async with self._persist_lock, self._write_lock:
            self._graph = nx.Graph()
            self._forget_pending()
            self._deltas.clear()
            self._changes.touch()
            version = self._changes.version
            payload = _graphml_bytes(self._graph)
            empty = partial(atomic_write_bytes, self.path, payload)
            await asyncio.to_thread(self._reset_files, empty)
            self._changes.saved(version)

    # reads

    async def has_node(self, node_id: str) -> bool:
        self._require_open()
        return self._graph.has_node(node_id)

    async def has_edge(self, source: str, target: str) -> bool:
        self._require_open()
        return self._graph.has_edge(source, target)

    async def get_node(self, node_id: str) -> dict[str, Any] | None:
        self._require_open()
        data = self._graph.nodes.get(node_id)
        return None if data is None else dict(data)

    async def get_edge(self, source: str, target: str) -> dict[str, Any] | None:
        self._require_open()
        data = self._graph.get_edge_data(source, target)
        return None if data is None else dict(data)

    async def get_nodes(self, node_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Properties of the known nodes among ``node_ids`` (unknown ones are left out)."""
        self._require_open()
        nodes = self._graph.nodes
        return {node_id: dict(nodes[node_id]) for node_id in node_ids if node_id in nodes}

    async def get_edges(
        self, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Properties of known edges, keyed by the pair as asked."""
        self._require_open()
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for source, target in pairs:
            data = self._graph.get_edge_data(source, target)
            if data is not None:
                found[(source, target)] = dict(data)
        return found

    async def node_degree(self, node_id: str) -> int:
        self._require_open()
        return self._degree(node_id)

    def _degree(self, node_id: str) -> int:
        adjacency = self._graph.adj.get(node_id)
        return 0 if adjacency is None else len(adjacency)

    async def node_degrees(self, node_ids: Sequence[str]) -> dict[str, int]:
        """Degree per asked id (0 for unknown ids)."""
        self._require_open()
        return {node_id: self._degree(node_id) for node_id in node_ids}

    async def edge_degree(self, source: str, target: str) -> int:
        self._require_open()
        return self._degree(source) + self._degree(target)

    async def get_node_edges(self, node_id: str) -> list[tuple[str, str]]:
        self._require_open()
        adjacency = self._graph.adj.get(node_id)
        return [] if adjacency is None else [(node_id, other) for other in adjacency]

    async def get_nodes_edges(self, node_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """Edges per asked id (an empty list for unknown ids)."""
        self._require_open()
        result: dict[str, list[tuple[str, str]]] = {}
        for node_id in node_ids:
            adjacency = self._graph.adj.get(node_id)
            result[node_id] = [] if adjacency is None else [(node_id, o) for o in adjacency]
        return result

    async def node_count(self) -> int:
        self._require_open()
        return int(self._graph.number_of_nodes())

    async def all_labels(self) -> list[str]:
        """Every node id, sorted."""
        self._require_open()
        return await self._read(lambda: sorted(self._graph.nodes))

    async def popular_labels(self, limit: int) -> list[str]:
        """Node ids by degree, highest first (ties by id)."""
        self._require_open()
        _check_positive(limit, "limit")
        return await self._read(lambda: popular_labels(self._graph, limit))

    async def search_labels(self, query: str, limit: int) -> list[str]:
        """Node ids containing ``query`` case-insensitively: exact, then prefix, then others.

        Within a group shorter ids come first. An empty query finds nothing.
        """
        self._require_open()
        _check_positive(limit, "limit")
        return await self._read(lambda: search_labels(self._graph, query, limit))

    async def subgraph(self, label: str, max_depth: int, max_nodes: int) -> KnowledgeGraph:
        """Breadth-first neighbourhood of ``label`` (``"*"``: the highest-degree nodes).

        Neighbours are visited by degree (highest first). At most ``max_nodes``
        nodes; ``is_truncated`` says whether reachable nodes were left out. An
        unknown label gives an empty graph. Raises ``ValueError`` for
        ``max_depth < 0`` or ``max_nodes < 1``.
        """
        self._require_open()
        if max_depth < 0:
            raise ValueError(f"max_depth must be >= 0, got {max_depth}")
        _check_positive(max_nodes, "max_nodes")

        def build() -> KnowledgeGraph:
            nodes, truncated = subgraph_nodes(self._graph, label, max_depth, max_nodes)
            return build_knowledge_graph(self._graph, nodes, truncated)

        return await self._read(build)

    async def _read(self, action: Callable[[], T]) -> T:
        """Run a whole-graph read inline, or in a thread (writes wait) for big graphs."""
        if self._graph.number_of_nodes() <= _THREAD_NODES:
            return action()
        async with self._write_lock:
            return await asyncio.to_thread(action)

    # writes

    async def upsert_node(self, node_id: str, data: dict[str, Any]) -> None:
        """Create the node or replace its properties.

        Raises ``ValueError`` for a non-string id, an id with characters XML
        cannot hold, or a non-scalar property value.
        """
        await self.upsert_nodes({node_id: data})

    async def upsert_nodes(self, nodes: Mapping[str, dict[str, Any]]) -> None:
        """``upsert_node`` for many nodes, under one lock acquisition.

        Every id and property is checked first: a ``ValueError`` writes nothing.
        """
        self._require_open()
        checked = []
        for node_id, data in nodes.items():
            _check_node_id(node_id)
            stored = self._graph.nodes.get(node_id)
            checked.append((node_id, _scalar_properties(data, f"node {node_id!r}", stored)))
        if not checked:
            return
        async with self._write_lock:
            for node_id, properties in checked:
                _set_attributes(self._graph, node_id, properties)
                self._nodes_set.add(node_id)  # stays in _nodes_removed: old edges must go
            self._changes.touch()

    async def upsert_edge(self, source: str, target: str, data: dict[str, Any]) -> None:
        """Create the edge or replace its properties; ``KeyError`` when an endpoint is missing."""
        await self.upsert_edges([(source, target, data)])

    async def upsert_edges(self, edges: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """``upsert_edge`` for many ``(source, target, data)``, under one lock acquisition.

        Raises ``KeyError`` naming the first missing endpoint (and ``ValueError`` for
        a bad property) before writing anything; a pair given twice keeps the last data.
        """
        self._require_open()
        checked = [
            (
                source,
                target,
                _scalar_properties(
                    data,
                    f"edge ({source!r}, {target!r})",
                    self._graph.adj[source].get(target) if source in self._graph else None,
                ),
            )
            for source, target, data in edges
        ]
        if not checked:
            return
        async with self._write_lock:
            graph = self._graph
            for source, target, _ in checked:
                for endpoint in (source, target):
                    if endpoint not in graph:
                        raise KeyError(
                            f"cannot add edge ({source!r}, {target!r}): no node {endpoint!r}"
                            + ("" if len(checked) == 1 else "; no edge of the batch was written")
                        )
            adjacency = graph.adj
            for source, target, properties in checked:
                attributes = adjacency[source].get(target)
                if attributes is None:
                    graph.add_edge(source, target, **properties)
                else:
                    attributes.clear()
                    attributes.update(properties)
                key = _edge_key(source, target)
                self._edges_set.add(key)
                self._edges_removed.discard(key)
            self._changes.touch()

    async def delete_node(self, node_id: str) -> None:
        """Remove the node and its edges; unknown ids are ignored."""
        await self.delete_nodes([node_id])

    async def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """Remove the nodes and their edges under one lock acquisition; unknown ids are ignored."""
        self._require_open()
        async with self._write_lock:
            present = [node_id for node_id in dict.fromkeys(node_ids) if node_id in self._graph]
            if present:
                adjacency = self._graph.adj
                for node_id in present:
                    for other in adjacency[node_id]:  # the journal's node delete drops them
                        key = _edge_key(node_id, other)
                        self._edges_set.discard(key)
                        self._deltas.forget(("e", *key))
                    self._nodes_set.discard(node_id)
                    self._nodes_removed.add(node_id)
                    self._deltas.forget(("n", node_id))
                self._graph.remove_nodes_from(present)
                self._changes.touch()

    async def delete_edges(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Remove edges; unknown pairs are ignored."""
        self._require_open()
        async with self._write_lock:
            removed = False
            for source, target in pairs:
                if self._graph.has_edge(source, target):
                    self._graph.remove_edge(source, target)
                    key = _edge_key(source, target)
                    self._edges_set.discard(key)
                    self._edges_removed.add(key)
                    self._deltas.forget(("e", *key))
                    removed = True
            if removed:
                self._changes.touch()

    # helpers


def _set_attributes(graph: nx.Graph, node_id: str, properties: dict[str, Any]) -> None:
    """Create the node or replace its properties."""
    attributes = graph.nodes.get(node_id)
    if attributes is None:
        graph.add_node(node_id, **properties)
    else:
        attributes.clear()
        attributes.update(properties)


def _is_pair(item: Any, length: int) -> bool:
    return (
        isinstance(item, list)
        and len(item) == length
        and isinstance(item[0], str)
        and isinstance(item[1], str)
    )


def _graphml_bytes(graph: nx.Graph) -> bytes:
    return b"".join(graphml_parts(graph))


def _check_positive(value: int, name: str) -> None:
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")


def _check_node_id(node_id: str) -> None:
    if not isinstance(node_id, str) or not node_id:
        raise ValueError(f"node id must be a non-empty string, got {node_id!r}")
    if _XML_ILLEGAL.search(node_id):
        raise ValueError(f"node id {node_id!r} holds control characters GraphML cannot store")


def _scalar_properties(
    data: Mapping[str, Any], owner: str, stored: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """GraphML-safe copy of ``data``: scalars kept, ``None`` dropped, others rejected.

    ``stored`` (the current properties, already safe) lets a value that extends the
    stored one be checked by its new tail only (a popular entity's growing source_id).
    """
    properties: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise ValueError(f"{owner}: property name {key!r} is not a string")
        kind = type(value)  # exact-type fast paths first: batches check 10k+ records
        if kind is str:
            old = stored.get(key) if stored else None
            fresh = value
            if type(old) is str and len(old) > 256 and value.startswith(old):
                fresh = value[len(old) :]
            # printable text holds no control characters, surrogates or non-characters:
            # one fast C pass instead of a regex search
            clean = fresh.isprintable() or not _XML_ILLEGAL.search(fresh)
            properties[key] = value if clean else _XML_ILLEGAL.sub("\ufffd", value)
        elif kind is int or kind is float or kind is bool:
            properties[key] = value
        elif value is None:
            continue
        elif isinstance(value, str):
            properties[key] = _XML_ILLEGAL.sub("\ufffd", value)
        elif isinstance(value, bool | int | float):
            properties[key] = value
        elif isinstance(value, np.generic) and np.ndim(value) == 0:
            properties[key] = value.item()
        else:
            raise ValueError(
                f"{owner}: property {key!r} is a {type(value).__name__}; GraphML stores only "
                "str, int, float and bool values (join lists into one string, e.g. with '<SEP>')"
            )
    return properties
