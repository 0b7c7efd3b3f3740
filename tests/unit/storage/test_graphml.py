"""The fast GraphML writer reads back, in networkx, as the graph networkx would write."""

from __future__ import annotations

import io
from typing import Any

import networkx as nx
import pytest

from lightrag.storage._graphml import graphml_parts


def read(data: bytes) -> nx.Graph:
    return nx.read_graphml(io.BytesIO(data))


def contents(graph: nx.Graph) -> tuple[dict[str, Any], dict[frozenset[str], Any]]:
    nodes = {node: dict(data) for node, data in graph.nodes(data=True)}
    edges = {frozenset((a, b)): dict(data) for a, b, data in graph.edges(data=True)}
    return nodes, edges


def networkx_bytes(graph: nx.Graph) -> bytes:
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer, encoding="utf-8")
    return buffer.getvalue()


def tricky_graph() -> nx.Graph:
    graph = nx.Graph()
    graph.add_node('A & "B" <c>', description="x < y & z > w\nline two\r\nthree\ttab", n=3)
    graph.add_node("plain", weight=2.5, flag=True, big=2**62, text="")
    graph.add_node("mixed", n=1.5, flag=False)  # n is an int elsewhere, a float here
    graph.add_node("lonely")
    graph.add_node("line\nbreak\tid", description="ünïcødé ✓ <SEP> 🎉")
    graph.add_edge('A & "B" <c>', "plain", weight=1.0, keywords="a, b", source_id="c1<SEP>c2")
    graph.add_edge("plain", "mixed")
    graph.add_edge("mixed", "line\nbreak\tid", weight=3, note="'quoted' \"double\"")
    return graph


def test_written_graph_reads_back_with_the_same_nodes_edges_and_types() -> None:
    graph = tricky_graph()
    assert contents(read(b"".join(graphml_parts(graph)))) == contents(graph)


def test_output_reads_like_networkx_output() -> None:
    graph = tricky_graph()
    ours = read(b"".join(graphml_parts(graph)))
    theirs = read(networkx_bytes(graph))
    assert contents(ours) == contents(theirs)
    assert {type(v) for _, d in ours.nodes(data=True) for v in d.values()} == {
        str,
        int,
        float,
        bool,
    }


def test_a_large_graph_is_written_in_parts_that_join_into_one_document() -> None:
    graph = nx.Graph()
    for i in range(12_000):
        graph.add_node(f"n{i}", description=f"node {i}")
        if i:
            graph.add_edge(f"n{i - 1}", f"n{i}", weight=float(i))
    parts = list(graphml_parts(graph))
    assert len(parts) > 3
    assert contents(read(b"".join(parts))) == contents(graph)


def test_an_empty_graph_is_a_valid_document() -> None:
    assert read(b"".join(graphml_parts(nx.Graph()))).number_of_nodes() == 0


def test_unsupported_values_and_graphs_are_refused() -> None:
    graph = nx.Graph()
    graph.add_node("a", tags=["x"])
    with pytest.raises(nx.NetworkXError, match="does not support"):
        list(graphml_parts(graph))
    with pytest.raises(ValueError, match="undirected"):
        list(graphml_parts(nx.DiGraph()))
