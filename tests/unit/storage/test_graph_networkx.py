"""File-backend specifics of the NetworkX GraphML storage."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from lightrag.storage._files import CorruptStorageFileError
from lightrag.storage.graph_networkx import NetworkXGraphStorage
from lightrag.vocabulary.storage import StorageContext


def context(root: Path, workspace: str = "") -> StorageContext:
    return StorageContext(working_dir=root, namespace="chunk_entity_relation", workspace=workspace)


async def open_graph(root: Path, workspace: str = "") -> NetworkXGraphStorage:
    graph = NetworkXGraphStorage(context(root, workspace), {})
    await graph.initialize()
    return graph


def file_names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def files_state(directory: Path) -> dict[str, tuple[int, int, int]]:
    """Every file's (inode, mtime, size): equal before and after means nothing was written."""
    return {
        path.name: (path.stat().st_ino, path.stat().st_mtime_ns, path.stat().st_size)
        for path in directory.iterdir()
    }


def graphml_path(root: Path) -> Path:
    return root / "graph_chunk_entity_relation.graphml"


async def test_file_is_named_like_upstream_and_is_plain_graphml(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_node("A", {"entity_type": "person"})
    await graph.upsert_node("B", {"entity_type": "geo"})
    await graph.upsert_edge("A", "B", {"weight": 1.0})
    await graph.finalize()
    loaded = nx.read_graphml(graphml_path(tmp_path))
    assert not loaded.is_directed()
    assert loaded.nodes["A"] == {"entity_type": "person"}
    assert loaded.edges["A", "B"] == {"weight": 1.0}


async def test_networkx_written_file_loads_here(tmp_path: Path) -> None:
    source = nx.Graph()
    source.add_node("Alice", entity_type="person", description="d")
    source.add_node("Bob", entity_type="person", description="e")
    source.add_edge("Alice", "Bob", weight=2.0, keywords="friends")
    nx.write_graphml(source, graphml_path(tmp_path))
    graph = await open_graph(tmp_path)
    assert await graph.get_edge("Bob", "Alice") == {"weight": 2.0, "keywords": "friends"}


async def test_directed_file_loads_as_undirected(tmp_path: Path) -> None:
    source = nx.DiGraph()
    source.add_edge("A", "B", weight=1.0)
    nx.write_graphml(source, graphml_path(tmp_path))
    graph = await open_graph(tmp_path)
    assert await graph.has_edge("B", "A")


async def test_corrupt_file_raises_naming_the_file(tmp_path: Path) -> None:
    graphml_path(tmp_path).write_text("<graphml><graph><node id='A'>", encoding="utf-8")
    with pytest.raises(CorruptStorageFileError, match=r"graph_chunk_entity_relation\.graphml"):
        await open_graph(tmp_path)


async def test_list_property_is_rejected_with_the_fix(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    with pytest.raises(ValueError, match=r"'source_id' is a list.*join"):
        await graph.upsert_node("A", {"source_id": ["c1", "c2"]})
    assert not await graph.has_node("A")


async def test_none_property_is_not_stored(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_node("A", {"description": "d", "file_path": None})
    assert await graph.get_node("A") == {"description": "d"}


async def test_numpy_scalars_are_stored_as_python_numbers(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_node("A", {})
    await graph.upsert_node("B", {})
    await graph.upsert_edge("A", "B", {"weight": np.float32(0.5), "count": np.int64(3)})
    edge = await graph.get_edge("A", "B")
    assert edge == {"weight": 0.5, "count": 3}
    assert type(edge["count"]) is int


async def test_control_characters_in_values_still_reload(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_node("A", {"description": "bell\x07 and tab\t ok"})
    await graph.finalize()
    reopened = await open_graph(tmp_path)
    assert await reopened.get_node("A") == {"description": "bell\ufffd and tab\t ok"}


async def test_control_characters_in_node_ids_are_rejected(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    with pytest.raises(ValueError, match="control characters"):
        await graph.upsert_node("bad\x00id", {})


async def test_value_types_survive_reload_even_when_mixed_per_key(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    for name in ("A", "B", "C"):
        await graph.upsert_node(name, {"big": 2**40, "flag": name == "A", "text": "x"})
    await graph.upsert_edge("A", "B", {"weight": 1})
    await graph.upsert_edge("B", "C", {"weight": 2.5})
    await graph.finalize()
    reopened = await open_graph(tmp_path)
    assert await reopened.get_node("A") == {"big": 2**40, "flag": True, "text": "x"}
    assert await reopened.get_node("B") == {"big": 2**40, "flag": False, "text": "x"}
    assert await reopened.get_edge("A", "B") == {"weight": 1}
    assert await reopened.get_edge("B", "C") == {"weight": 2.5}


async def test_index_done_without_changes_does_not_rewrite_the_file(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_node("A", {})
    await graph.index_done()
    before = files_state(tmp_path)
    await graph.delete_node("ghost")
    await graph.delete_edges([("A", "ghost")])
    await graph.index_done()
    assert files_state(tmp_path) == before


async def test_unpersisted_changes_are_not_on_disk_until_index_done(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_node("A", {})
    assert file_names(tmp_path) == []
    await graph.index_done()
    assert file_names(tmp_path) == ["graph_chunk_entity_relation.journal.jsonl"]
    assert await (await open_graph(tmp_path)).has_node("A")
    await graph.finalize()
    assert file_names(tmp_path) == ["graph_chunk_entity_relation.graphml"]


def test_unknown_parameter_is_an_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown parameter 'max_graph_nodes'"):
        NetworkXGraphStorage(context(tmp_path), {"max_graph_nodes": 10})


async def test_invalid_subgraph_limits_are_errors(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    with pytest.raises(ValueError, match="max_nodes"):
        await graph.subgraph("*", max_depth=1, max_nodes=0)
    with pytest.raises(ValueError, match="max_depth"):
        await graph.subgraph("*", max_depth=-1, max_nodes=5)


async def test_large_graph_reads_are_correct_on_the_threaded_path(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    for i in range(25_000):  # above the in-loop size limit
        await graph.upsert_node(f"n{i:05d}", {})
    for i in range(1, 10):
        await graph.upsert_edge("n00000", f"n{i:05d}", {})
    assert (await graph.popular_labels(2))[0] == "n00000"
    kg = await graph.subgraph("n00000", max_depth=2, max_nodes=5)
    assert len(kg.nodes) == 5
    assert kg.is_truncated
    assert await graph.search_labels("n24999", 5) == ["n24999"]
    assert len(await graph.all_labels()) == 25_000


async def test_truncated_walk_keeps_the_best_connected_neighbours_first(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    for name in ("hub", "a", "b", "c", "d", "e"):
        await graph.upsert_node(name, {})
    for source, target in (("hub", "a"), ("hub", "b"), ("hub", "c"), ("c", "d"), ("c", "e")):
        await graph.upsert_edge(source, target, {})
    kg = await graph.subgraph("hub", max_depth=3, max_nodes=2)
    assert [node.id for node in kg.nodes] == ["hub", "c"]
    assert kg.is_truncated


async def test_search_ties_are_broken_by_length_then_id(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    for name in ("xx apple", "b apple", "a apple"):
        await graph.upsert_node(name, {})
    assert await graph.search_labels("apple", 5) == ["a apple", "b apple", "xx apple"]


async def test_large_graph_is_persisted_through_the_threaded_copy(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    for i in range(25_000):  # above the in-loop size limit
        await graph.upsert_node(f"n{i:05d}", {"entity_type": "x"})
    await graph.upsert_edge("n00000", "n24999", {"weight": 2.0})
    await graph.index_done()
    await graph.finalize()
    again = await open_graph(tmp_path)
    assert await again.node_count() == 25_000
    assert await again.get_edge("n24999", "n00000") == {"weight": 2.0}


async def test_upsert_nodes_with_one_bad_property_writes_nothing(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    with pytest.raises(ValueError, match="'source_id' is a list"):
        await graph.upsert_nodes({"A": {"d": "ok"}, "B": {"source_id": ["c1"]}})
    assert await graph.node_count() == 0


async def test_failed_or_empty_batches_do_not_rewrite_the_file(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_nodes({"A": {}, "B": {}})
    await graph.index_done()
    before = files_state(tmp_path)
    with pytest.raises(KeyError, match="no edge of the batch was written"):
        await graph.upsert_edges([("A", "B", {}), ("A", "ghost", {})])
    await graph.delete_nodes(["ghost", "phantom"])
    await graph.upsert_nodes({})
    await graph.upsert_edges([])
    await graph.index_done()
    assert files_state(tmp_path) == before


async def test_batch_writes_reach_the_graphml_file_on_finalize(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_nodes({"A": {"d": "a"}, "B": {"d": "b"}, "C": {"d": "c"}})
    await graph.upsert_edges([("A", "B", {"weight": 2.0}), ("B", "C", {"weight": 1.0})])
    await graph.delete_nodes(["C"])
    await graph.finalize()
    stored = nx.read_graphml(graphml_path(tmp_path))
    assert sorted(stored.nodes) == ["A", "B"]
    assert stored.edges["A", "B"]["weight"] == 2.0


async def test_a_grown_value_with_a_control_character_in_its_tail_is_still_cleaned(
    tmp_path: Path,
) -> None:
    graph = await open_graph(tmp_path)
    long_value = "chunk-1" * 100
    await graph.upsert_node("A", {"source_id": long_value})
    await graph.upsert_node("A", {"source_id": long_value + "<SEP>bad\x01tail"})
    assert await graph.get_node("A") == {"source_id": long_value + "<SEP>bad\ufffdtail"}
