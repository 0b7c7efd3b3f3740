"""Read-only views over an undirected ``networkx.Graph``: label ranking and subgraphs.

Pure functions (no I/O, no locking): the caller guarantees the graph does not
change while they run. Shared by graph backends that hold a NetworkX graph.
"""

from __future__ import annotations

import heapq
from typing import Any

import networkx as nx

from lightrag.vocabulary.types import KnowledgeGraph, KnowledgeGraphEdge, KnowledgeGraphNode

__all__ = [
    "EDGE_TYPE",
    "build_knowledge_graph",
    "popular_labels",
    "search_labels",
    "subgraph_nodes",
]

EDGE_TYPE = "DIRECTED"
"""The ``type`` upstream's NetworkX backend gives every ``KnowledgeGraphEdge``."""


def _by_degree(graph: nx.Graph) -> Any:
    adjacency = graph.adj
    return lambda node: (-len(adjacency[node]), node)


def popular_labels(graph: nx.Graph, limit: int) -> list[str]:
    """Up to ``limit`` node ids by degree, highest first, ties by id."""
    return heapq.nsmallest(limit, graph.nodes, key=_by_degree(graph))


def search_labels(graph: nx.Graph, query: str, limit: int) -> list[str]:
    """Node ids containing ``query`` case-insensitively: exact, prefix, then substring matches.

    Within a group, shorter ids first, then by id. An empty query finds nothing.
    """
    needle = query.strip().casefold()
    if not needle:
        return []
    ranked: list[tuple[int, int, str]] = []
    for node in graph.nodes:
        folded = str(node).casefold()
        position = folded.find(needle)
        if position < 0:
            continue
        rank = 0 if folded == needle else 1 if position == 0 else 2
        ranked.append((rank, len(folded), node))
    return [node for _, _, node in heapq.nsmallest(limit, ranked)]


def subgraph_nodes(
    graph: nx.Graph, label: str, max_depth: int, max_nodes: int
) -> tuple[list[str], bool]:
    """The nodes of the subgraph view and whether reachable nodes were left out.

    ``"*"``: the ``max_nodes`` highest-degree nodes of the whole graph. Otherwise a
    breadth-first walk from ``label`` up to ``max_depth`` hops, visiting each node's
    neighbours by degree (highest first). An unknown label gives ``([], False)``.
    """
    if label == "*":
        total = graph.number_of_nodes()
        return popular_labels(graph, max_nodes), total > max_nodes
    if label not in graph:
        return [], False
    order_key = _by_degree(graph)
    chosen = [label]
    seen = {label}
    frontier = [label]
    for _ in range(max_depth):
        following: list[str] = []
        for node in frontier:
            for neighbour in sorted(graph.adj[node], key=order_key):
                if neighbour in seen:
                    continue
                if len(chosen) >= max_nodes:
                    return chosen, True
                seen.add(neighbour)
                chosen.append(neighbour)
                following.append(neighbour)
        if not following:
            break
        frontier = following
    return chosen, False


def build_knowledge_graph(graph: nx.Graph, nodes: list[str], truncated: bool) -> KnowledgeGraph:
    """``KnowledgeGraph`` of ``nodes`` and every edge between two of them.

    Node: ``{id, labels=[id], properties}``; edge: ``{id="{source}-{target}", type,
    source, target, properties}`` with the edge's properties.
    """
    members = set(nodes)
    kg_nodes = [
        KnowledgeGraphNode(id=node, labels=[node], properties=dict(graph.nodes[node]))
        for node in nodes
    ]
    kg_edges: list[KnowledgeGraphEdge] = []
    done: set[str] = set()
    for source in nodes:
        for target, data in graph.adj[source].items():
            if target not in members or target in done:
                continue
            kg_edges.append(
                KnowledgeGraphEdge(
                    id=f"{source}-{target}",
                    type=EDGE_TYPE,
                    source=source,
                    target=target,
                    properties=dict(data),
                )
            )
        done.add(source)
    return KnowledgeGraph(nodes=kg_nodes, edges=kg_edges, is_truncated=truncated)
