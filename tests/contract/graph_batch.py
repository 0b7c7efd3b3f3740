"""Contract of ``GraphStorage``, part two: batch writes, scale, isolation, unicode, databases.

Mixed into ``GraphStorageContract`` (``graph.py``); not meant to be subclassed alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .support import (
    UNICODE_TEXTS,
    Backend,
    StorageFactory,
    require_restart,
    require_shared,
)

BIG_BATCH = 10_000


def node(name: str, **extra: Any) -> dict[str, Any]:
    return {"entity_id": name, "entity_type": "person", "description": f"about {name}", **extra}


def edge(weight: float = 1.0, **extra: Any) -> dict[str, Any]:
    return {"weight": weight, "description": "related", "keywords": "k", **extra}


class GraphBatchContract:
    namespace: str

    async def test_upsert_nodes_creates_and_replaces_in_one_call(self, graph: Any) -> None:
        await graph.upsert_nodes({"A": node("A"), "B": node("B", rank=1)})
        await graph.upsert_edge("A", "B", edge())
        await graph.upsert_nodes({"B": {"description": "new"}, "C": node("C")})
        assert await graph.get_nodes(["A", "B", "C"]) == {
            "A": node("A"),
            "B": {"description": "new"},
            "C": node("C"),
        }
        assert await graph.has_edge("A", "B")  # replacing a node keeps its edges
        await graph.upsert_nodes({})
        assert await graph.node_count() == 3

    async def test_upsert_edges_creates_and_replaces_and_keeps_the_last_of_a_pair(
        self, graph: Any
    ) -> None:
        await graph.upsert_nodes({name: node(name) for name in "ABCD"})
        await graph.upsert_edges([("A", "B", edge(1.0)), ("C", "B", edge(2.0))])
        assert await graph.get_edge("B", "C") == edge(2.0)
        await graph.upsert_edges(
            [("B", "A", edge(3.0)), ("C", "D", edge(4.0)), ("A", "B", edge(5.0))]
        )
        assert await graph.get_edges([("A", "B"), ("D", "C")]) == {
            ("A", "B"): edge(5.0),
            ("D", "C"): edge(4.0),
        }
        assert await graph.node_degrees(["A", "B", "C"]) == {"A": 1, "B": 2, "C": 2}
        await graph.upsert_edges([])

    async def test_upsert_edges_with_a_missing_endpoint_writes_nothing(self, graph: Any) -> None:
        await graph.upsert_nodes({name: node(name) for name in "ABC"})
        with pytest.raises(KeyError):
            await graph.upsert_edges(
                [("A", "B", edge()), ("B", "ghost", edge()), ("B", "C", edge())]
            )
        assert await graph.get_edges([("A", "B"), ("B", "C")]) == {}
        assert not await graph.has_node("ghost")
        assert await graph.node_degree("B") == 0

    async def test_delete_nodes_removes_them_and_their_edges(self, graph: Any) -> None:
        await graph.upsert_nodes({name: node(name) for name in "ABCD"})
        await graph.upsert_edges([("A", "B", edge()), ("B", "C", edge()), ("C", "D", edge())])
        await graph.delete_nodes(["B", "ghost", "D", "B"])
        assert await graph.all_labels() == ["A", "C"]
        assert await graph.node_degrees(["A", "C"]) == {"A": 0, "C": 0}
        assert not await graph.has_edge("C", "D")
        await graph.delete_nodes([])
        assert await graph.node_count() == 2

    async def test_ten_thousand_nodes_and_edges_through_the_batch_methods(self, graph: Any) -> None:
        names = [f"n{i:05d}" for i in range(BIG_BATCH)]
        await graph.upsert_nodes({name: node(name, rank=i) for i, name in enumerate(names)})
        ring = [(names[i], names[(i + 1) % BIG_BATCH], edge(float(i))) for i in range(BIG_BATCH)]
        await graph.upsert_edges(ring)
        assert await graph.node_count() == BIG_BATCH
        assert await graph.node_degrees([names[0], names[5000]]) == {names[0]: 2, names[5000]: 2}
        assert await graph.get_edge(names[0], names[-1]) == edge(float(BIG_BATCH - 1))
        assert (await graph.get_node(names[1234]))["rank"] == 1234
        await graph.delete_nodes(names[::2])
        assert await graph.node_count() == BIG_BATCH // 2
        assert await graph.node_degree(names[1]) == 0

    async def test_batch_writes_survive_reopen(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        if not backend.persistent:
            pytest.skip("backend does not persist across instances")
        graph = await factory.open(self.namespace)
        await graph.upsert_nodes({name: node(name) for name in "ABCD"})
        await graph.upsert_edges([("A", "B", edge(2.0)), ("C", "D", edge())])
        await graph.delete_nodes(["D"])
        reopened = await factory.reopen(graph)
        assert await reopened.all_labels() == ["A", "B", "C"]
        assert await reopened.get_edge("B", "A") == edge(2.0)
        assert await reopened.node_degree("C") == 0

    async def test_workspaces_do_not_see_each_other(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        first = await factory.open(self.namespace, workspace=factory.workspace + "_a")
        await first.upsert_nodes({"Alpha": node("Alpha"), "Beta": node("Beta")})
        await first.upsert_edges([("Alpha", "Beta", edge())])
        await first.index_done()
        second = await factory.open(self.namespace, workspace=factory.workspace + "_b")
        assert await second.node_count() == 0
        assert not await second.has_node("Alpha")
        assert await second.get_node("Alpha") is None
        assert not await second.has_edge("Alpha", "Beta")
        assert await second.all_labels() == []
        assert await second.popular_labels(10) == []
        assert await second.search_labels("alpha", 10) == []
        assert (await second.subgraph("*", max_depth=2, max_nodes=10)).nodes == []
        assert (await second.subgraph("Alpha", max_depth=2, max_nodes=10)).nodes == []
        await second.upsert_nodes({"Alpha": node("Alpha", owner="b")})
        await second.index_done()
        await second.drop()
        assert await first.get_node("Alpha") == node("Alpha")
        assert await first.node_count() == 2
        if backend.persistent:
            first = await factory.reopen(first)
            assert await first.has_edge("Beta", "Alpha")

    async def test_concurrent_upserts_of_the_same_nodes_keep_one_node_each(
        self, graph: Any
    ) -> None:
        names = [f"same-{i}" for i in range(8)]
        await asyncio.gather(
            *(graph.upsert_nodes({name: node(name, writer=w) for name in names}) for w in range(30))
        )
        await asyncio.gather(*(graph.upsert_node(names[0], node("x", writer=w)) for w in range(30)))
        assert sorted(await graph.all_labels()) == sorted(names)
        for properties in (await graph.get_nodes(names)).values():
            assert properties["writer"] in range(30)

    async def test_unicode_node_ids_and_properties_round_trip_unchanged(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        graph = await factory.open(self.namespace)
        texts = list(UNICODE_TEXTS)
        await graph.upsert_nodes({text: node(text, description=text) for text in texts})
        await graph.upsert_edges([(texts[0], text, edge(keywords=text)) for text in texts[1:]])
        assert await graph.node_count() == len(texts)  # no id normalised into another

        async def check(storage: Any) -> None:
            found = await storage.get_nodes(texts)
            assert found == {text: node(text, description=text) for text in texts}
            assert await storage.get_edge(texts[-1], texts[0]) == edge(keywords=texts[-1])
            assert await storage.search_labels("日本語", 5) == [texts[0]]
            assert sorted(await storage.all_labels()) == sorted(texts)

        await check(graph)
        if backend.persistent:
            await check(await factory.reopen(graph))

    # database-only: two instances on one namespace and workspace; server restart

    @pytest.mark.database_only
    async def test_second_instance_sees_writes_without_reopen(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        require_shared(backend)
        writer = await factory.open(self.namespace)
        reader = await factory.open(self.namespace)
        await writer.upsert_nodes({"A": node("A"), "B": node("B")})
        await writer.upsert_edges([("A", "B", edge())])
        assert await reader.node_degree("A") == 1
        await reader.delete_nodes(["B"])
        assert not await writer.has_edge("A", "B")

    @pytest.mark.database_only
    async def test_reconnects_after_the_server_restarts(self, graph: Any, backend: Backend) -> None:
        restart = require_restart(backend)
        await graph.upsert_nodes({"A": node("A"), "B": node("B")})
        await graph.index_done()
        await restart()
        assert await graph.get_node("A") == node("A")
        await graph.upsert_edges([("A", "B", edge())])
        assert await graph.has_edge("B", "A")
