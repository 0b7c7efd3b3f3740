"""Contract of ``GraphStorage`` (see ``lightrag.vocabulary.storage``)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from lightrag.vocabulary.storage import GraphStorage
from lightrag.vocabulary.types import KnowledgeGraph

from .graph_batch import GraphBatchContract, edge, node
from .support import Backend, StorageFactory, assert_async_protocol


async def add_path(graph: Any, *names: str) -> None:
    """Nodes ``names`` joined in a chain."""
    for name in names:
        if not await graph.has_node(name):
            await graph.upsert_node(name, node(name))
    for source, target in itertools.pairwise(names):
        await graph.upsert_edge(source, target, edge())


def ids(kg: KnowledgeGraph) -> set[str]:
    return {n.id for n in kg.nodes}


def pairs(kg: KnowledgeGraph) -> set[frozenset[str]]:
    return {frozenset((e.source, e.target)) for e in kg.edges}


class GraphStorageContract(GraphBatchContract):
    """Subclass with a ``backend`` fixture returning ``Backend(cls=<graph storage class>)``."""

    namespace = "chunk_entity_relation"

    @pytest.fixture
    async def graph(self, factory: StorageFactory) -> Any:
        return await factory.open(self.namespace)

    @pytest.fixture
    async def star(self, graph: Any) -> Any:
        """hub - a, hub - b, hub - c, c - d, plus an isolated node z."""
        await add_path(graph, "hub", "a")
        await add_path(graph, "hub", "b")
        await add_path(graph, "hub", "c", "d")
        await graph.upsert_node("z", node("z"))
        return graph

    async def test_satisfies_the_graph_protocol_with_coroutine_methods(self, graph: Any) -> None:
        assert_async_protocol(graph, GraphStorage)

    async def test_new_graph_is_empty(self, graph: Any) -> None:
        assert await graph.node_count() == 0
        assert await graph.all_labels() == []
        assert await graph.get_node("x") is None
        assert await graph.get_edge("x", "y") is None

    async def test_upsert_node_then_get_returns_its_properties(self, graph: Any) -> None:
        properties = node("Alice", weight=3, score=0.5, flag=True, text="Zoë <SEP> 日本")
        await graph.upsert_node("Alice", properties)
        assert await graph.has_node("Alice")
        assert await graph.get_node("Alice") == properties

    async def test_upsert_node_replaces_its_properties(self, graph: Any) -> None:
        await graph.upsert_node("A", {"description": "old", "extra": "x"})
        await graph.upsert_node("A", {"description": "new"})
        assert await graph.get_node("A") == {"description": "new"}
        assert await graph.node_count() == 1

    async def test_upsert_node_keeps_its_edges(self, graph: Any) -> None:
        await add_path(graph, "A", "B")
        await graph.upsert_node("A", node("A", description="changed"))
        assert await graph.has_edge("A", "B")

    async def test_node_ids_are_case_sensitive(self, graph: Any) -> None:
        await graph.upsert_node("Apple", node("Apple"))
        assert not await graph.has_node("apple")

    async def test_edges_are_undirected(self, graph: Any) -> None:
        await graph.upsert_node("A", node("A"))
        await graph.upsert_node("B", node("B"))
        await graph.upsert_edge("A", "B", edge(2.0))
        assert await graph.has_edge("B", "A")
        assert await graph.get_edge("B", "A") == edge(2.0)
        await graph.upsert_edge("B", "A", edge(5.0))
        assert await graph.get_edge("A", "B") == edge(5.0)
        assert await graph.get_node_edges("A") == [("A", "B")]
        assert await graph.get_node_edges("B") == [("B", "A")]

    async def test_upsert_edge_replaces_its_properties(self, graph: Any) -> None:
        await add_path(graph, "A", "B")
        await graph.upsert_edge("A", "B", {"weight": 9.0})
        assert await graph.get_edge("A", "B") == {"weight": 9.0}

    async def test_upsert_edge_with_a_missing_endpoint_raises_key_error(self, graph: Any) -> None:
        await graph.upsert_node("A", node("A"))
        with pytest.raises(KeyError):
            await graph.upsert_edge("A", "ghost", edge())
        assert not await graph.has_node("ghost")
        assert not await graph.has_edge("A", "ghost")

    async def test_degrees_count_edges_and_unknown_nodes_have_zero(self, star: Any) -> None:
        assert await star.node_degree("hub") == 3
        assert await star.node_degree("c") == 2
        assert await star.node_degree("z") == 0
        assert await star.node_degree("ghost") == 0
        assert await star.edge_degree("hub", "c") == 5
        assert await star.edge_degree("c", "hub") == 5
        assert await star.node_degrees(["hub", "d", "ghost"]) == {"hub": 3, "d": 1, "ghost": 0}

    async def test_get_node_edges_lists_each_neighbour_once(self, star: Any) -> None:
        edges = await star.get_node_edges("hub")
        assert sorted(edges) == [("hub", "a"), ("hub", "b"), ("hub", "c")]
        assert await star.get_node_edges("z") == []
        assert await star.get_node_edges("ghost") == []

    async def test_batch_reads_match_single_reads(self, star: Any) -> None:
        nodes = await star.get_nodes(["a", "ghost", "hub"])
        assert nodes == {"a": node("a"), "hub": node("hub")}
        edges = await star.get_edges([("a", "hub"), ("hub", "d"), ("c", "d")])
        assert edges == {("a", "hub"): edge(), ("c", "d"): edge()}
        by_node = await star.get_nodes_edges(["d", "z"])
        assert by_node["d"] == [("d", "c")]
        assert by_node.get("z", []) == []

    async def test_delete_node_removes_its_edges(self, star: Any) -> None:
        await star.delete_node("hub")
        assert not await star.has_node("hub")
        assert not await star.has_edge("a", "hub")
        assert await star.node_degree("a") == 0
        assert await star.get_node_edges("c") == [("c", "d")]
        assert await star.node_count() == 5

    async def test_delete_unknown_node_is_ignored(self, star: Any) -> None:
        await star.delete_node("ghost")
        assert await star.node_count() == 6

    async def test_delete_edges_in_either_direction_and_ignores_unknown(self, star: Any) -> None:
        await star.delete_edges([("a", "hub"), ("c", "hub"), ("a", "b"), ("ghost", "hub")])
        assert not await star.has_edge("hub", "a")
        assert not await star.has_edge("hub", "c")
        assert await star.has_edge("hub", "b")
        assert await star.has_node("a")
        assert await star.node_degree("hub") == 1

    async def test_all_labels_are_sorted(self, star: Any) -> None:
        assert await star.all_labels() == ["a", "b", "c", "d", "hub", "z"]

    async def test_popular_labels_by_degree_then_id(self, star: Any) -> None:
        assert await star.popular_labels(3) == ["hub", "c", "a"]
        assert await star.popular_labels(100) == ["hub", "c", "a", "b", "d", "z"]

    async def test_search_labels_ranks_exact_then_prefix_then_substring(self, graph: Any) -> None:
        for name in ("Big Apple", "apple pie", "Apple", "pineapple", "Banana"):
            await graph.upsert_node(name, node(name))
        found = await graph.search_labels("apple", 10)
        assert found[:2] == ["Apple", "apple pie"]
        assert set(found[2:]) == {"Big Apple", "pineapple"}
        assert await graph.search_labels("APPLE", 2) == ["Apple", "apple pie"]
        assert await graph.search_labels("cherry", 10) == []

    async def test_subgraph_of_unknown_label_is_empty(self, star: Any) -> None:
        kg = await star.subgraph("ghost", max_depth=3, max_nodes=10)
        assert kg.nodes == []
        assert kg.edges == []
        assert not kg.is_truncated

    async def test_subgraph_depth_limits_the_walk(self, star: Any) -> None:
        kg = await star.subgraph("a", max_depth=1, max_nodes=100)
        assert ids(kg) == {"a", "hub"}
        kg = await star.subgraph("a", max_depth=2, max_nodes=100)
        assert ids(kg) == {"a", "hub", "b", "c"}
        assert pairs(kg) == {frozenset(p) for p in [("a", "hub"), ("hub", "b"), ("hub", "c")]}
        assert not kg.is_truncated
        kg = await star.subgraph("a", max_depth=0, max_nodes=100)
        assert ids(kg) == {"a"}

    async def test_subgraph_node_and_edge_shapes(self, star: Any) -> None:
        kg = await star.subgraph("d", max_depth=1, max_nodes=10)
        by_id = {n.id: n for n in kg.nodes}
        assert by_id["d"].labels == ["d"]
        assert by_id["d"].properties["description"] == "about d"
        (only_edge,) = kg.edges
        assert {only_edge.source, only_edge.target} == {"c", "d"}
        assert only_edge.id == f"{only_edge.source}-{only_edge.target}"
        assert only_edge.properties["weight"] == 1.0

    async def test_subgraph_truncates_at_max_nodes_and_says_so(self, star: Any) -> None:
        kg = await star.subgraph("hub", max_depth=3, max_nodes=3)
        assert len(kg.nodes) == 3
        assert kg.is_truncated
        assert "hub" in ids(kg)
        for e in kg.edges:
            assert {e.source, e.target} <= ids(kg)

    async def test_subgraph_exactly_at_max_nodes_is_not_truncated(self, star: Any) -> None:
        kg = await star.subgraph("c", max_depth=1, max_nodes=3)
        assert ids(kg) == {"c", "hub", "d"}
        assert not kg.is_truncated

    async def test_star_label_takes_the_highest_degree_nodes(self, star: Any) -> None:
        kg = await star.subgraph("*", max_depth=3, max_nodes=2)
        assert ids(kg) == {"hub", "c"}
        assert pairs(kg) == {frozenset(("hub", "c"))}
        assert kg.is_truncated
        whole = await star.subgraph("*", max_depth=3, max_nodes=100)
        assert ids(whole) == {"hub", "a", "b", "c", "d", "z"}
        assert len(whole.edges) == 4
        assert not whole.is_truncated

    async def test_drop_removes_every_node_and_edge(self, star: Any) -> None:
        await star.drop()
        assert await star.node_count() == 0
        assert await star.get_edge("hub", "a") is None

    async def test_namespaces_do_not_see_each_other(self, factory: StorageFactory) -> None:
        first = await factory.open("contract_graph_one")
        second = await factory.open("contract_graph_two")
        await first.upsert_node("A", node("A"))
        assert not await second.has_node("A")
        await second.drop()
        assert await first.has_node("A")

    async def test_concurrent_upserts_all_land(self, graph: Any) -> None:
        await asyncio.gather(*(graph.upsert_node(f"n{i}", node(f"n{i}")) for i in range(30)))
        await asyncio.gather(*(graph.upsert_edge(f"n{i}", f"n{i + 1}", edge()) for i in range(29)))
        assert await graph.node_count() == 30
        assert await graph.node_degree("n5") == 2

    async def test_graph_survives_finalize_and_reopen(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        if not backend.persistent:
            pytest.skip("backend does not persist across instances")
        graph = await factory.open(self.namespace)
        await graph.upsert_node("A", node("A", rank=3, score=0.25, flag=False))
        await graph.upsert_node("B", node("B"))
        await graph.upsert_edge("A", "B", edge(2.5, count=4))
        reopened = await factory.reopen(graph)
        assert await reopened.get_node("A") == node("A", rank=3, score=0.25, flag=False)
        assert await reopened.get_edge("B", "A") == edge(2.5, count=4)
        assert await reopened.node_degree("A") == 1
