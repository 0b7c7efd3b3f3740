"""The NetworkX graph storage's journal: replay, torn tails, compaction, GraphML readability."""

from __future__ import annotations

import logging
import os
import random
import shutil
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from lightrag.storage._files import CorruptStorageFileError
from lightrag.storage.graph_networkx import NetworkXGraphStorage
from lightrag.vocabulary.storage import StorageContext


def context(root: Path) -> StorageContext:
    return StorageContext(working_dir=root, namespace="chunk_entity_relation")


async def open_graph(root: Path, **params: Any) -> NetworkXGraphStorage:
    graph = NetworkXGraphStorage(context(root), params)
    await graph.initialize()
    return graph


def main_path(root: Path) -> Path:
    return root / "graph_chunk_entity_relation.graphml"


def journal_path(root: Path) -> Path:
    return root / "graph_chunk_entity_relation.journal.jsonl"


def graph_state(graph: nx.Graph) -> tuple[dict[str, Any], dict[frozenset[str], Any]]:
    nodes = {node: dict(data) for node, data in graph.nodes(data=True)}
    edges = {frozenset((a, b)): dict(data) for a, b, data in graph.edges(data=True)}
    return nodes, edges


def state(storage: NetworkXGraphStorage) -> tuple[dict[str, Any], dict[frozenset[str], Any]]:
    return graph_state(storage._graph)


async def random_history(graph: NetworkXGraphStorage, steps: int, seed: int) -> None:
    """Node and edge upserts, replacements and deletes, including nodes deleted and
    re-created with other edges, with ``index_done`` between some of the steps."""
    rng = random.Random(seed)
    names = [f"N{i}" for i in range(15)]
    for step in range(steps):
        action = rng.random()
        if action < 0.35:
            batch = rng.sample(names, rng.randint(1, 4))
            await graph.upsert_nodes({n: {"d": f"{n}@{step}", "w": step} for n in batch})
        elif action < 0.7:
            present = [n for n in names if await graph.has_node(n)]
            if len(present) >= 2:
                pairs = [tuple(rng.sample(present, 2)) for _ in range(rng.randint(1, 3))]
                await graph.upsert_edges([(a, b, {"k": f"{a}-{b}@{step}"}) for a, b in pairs])
        elif action < 0.85:
            await graph.delete_nodes(rng.sample(names, rng.randint(1, 2)))
        else:
            present = [n for n in names if await graph.has_node(n)]
            if len(present) >= 2:
                await graph.delete_edges([tuple(rng.sample(present, 2))])
        if rng.random() < 0.4:
            await graph.index_done()
    await graph.index_done()


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_journal_replay_gives_the_same_graph_as_the_compacted_file(
    tmp_path: Path, seed: int
) -> None:
    graph = await open_graph(tmp_path)
    await random_history(graph, 120, seed)
    expected = state(graph)
    assert expected[0] and expected[1]  # the history leaves nodes and edges behind
    assert not main_path(tmp_path).exists()
    replayed = await open_graph(tmp_path)
    assert state(replayed) == expected
    await replayed.finalize()
    assert not journal_path(tmp_path).exists()
    assert state(await open_graph(tmp_path)) == expected
    assert graph_state(nx.read_graphml(main_path(tmp_path))) == expected


async def test_node_deleted_and_recreated_in_one_batch_loses_its_old_edges(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_nodes({"A": {}, "B": {}, "C": {}})
    await graph.upsert_edges([("A", "B", {"k": 1}), ("A", "C", {"k": 2})])
    await graph.finalize()
    graph = await open_graph(tmp_path)
    await graph.delete_node("A")
    await graph.upsert_node("A", {"new": True})
    await graph.upsert_edge("C", "A", {"k": 3})
    await graph.index_done()
    replayed = await open_graph(tmp_path)
    assert await replayed.get_node("A") == {"new": True}
    assert not await replayed.has_edge("A", "B")
    assert await replayed.get_edge("A", "C") == {"k": 3}


async def test_torn_journal_tail_keeps_earlier_lines_and_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_nodes({"A": {"d": "a"}, "B": {"d": "b"}})
    await graph.index_done()
    await graph.upsert_edge("A", "B", {"weight": 1.0})
    await graph.index_done()
    good_size = journal_path(tmp_path).stat().st_size
    await graph.upsert_node("C", {"d": "c" * 100})
    await graph.index_done()
    os.truncate(journal_path(tmp_path), good_size + 30)  # a crash mid-append
    with caplog.at_level(logging.WARNING, logger="lightrag.storage._journal"):
        survivor = await open_graph(tmp_path)
    assert await survivor.get_edge("B", "A") == {"weight": 1.0}
    assert not await survivor.has_node("C")
    assert any("unterminated last line" in r.getMessage() for r in caplog.records)
    assert journal_path(tmp_path).stat().st_size == good_size
    await survivor.upsert_node("D", {})
    await survivor.index_done()
    again = await open_graph(tmp_path)
    assert sorted(await again.all_labels()) == ["A", "B", "D"]


async def test_corrupt_line_before_the_last_raises_naming_the_journal(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_node("A", {})
    await graph.index_done()
    content = journal_path(tmp_path).read_bytes()
    journal_path(tmp_path).write_bytes(b'{"e":[["A","ghost",{}]]}\n' + content)
    with pytest.raises(CorruptStorageFileError, match=r"journal\.jsonl.*line 1"):
        await open_graph(tmp_path)


async def test_compaction_runs_when_the_journal_outgrows_a_fraction_of_the_main_file(
    tmp_path: Path,
) -> None:
    graph = await open_graph(tmp_path, compact_min_bytes=0, compact_ratio=0.2)
    await graph.upsert_nodes({f"N{i}": {"description": "x" * 80} for i in range(200)})
    await graph.index_done()  # an empty main file: the first line compacts at once
    assert main_path(tmp_path).exists() and not journal_path(tmp_path).exists()
    rewrites = 0
    for step in range(100):
        before = main_path(tmp_path).stat().st_mtime_ns
        await graph.upsert_node(f"N{step}", {"description": "y" * 80})
        await graph.index_done()
        rewrites += main_path(tmp_path).stat().st_mtime_ns != before
        assert nx.read_graphml(main_path(tmp_path)).number_of_nodes() == 200
    assert 1 <= rewrites <= 4  # a line is ~0.4% of the main file: ~50 lines per rewrite
    expected = state(graph)
    assert state(await open_graph(tmp_path)) == expected


async def test_crash_between_compaction_and_journal_trim_replays_to_the_same_state(
    tmp_path: Path,
) -> None:
    graph = await open_graph(tmp_path)
    await random_history(graph, 80, seed=9)
    expected = state(graph)
    saved = tmp_path / "journal.copy"
    shutil.copy(journal_path(tmp_path), saved)
    await graph.finalize()
    shutil.move(saved, journal_path(tmp_path))  # the trim was lost
    assert state(await open_graph(tmp_path)) == expected


async def test_without_journal_index_done_rewrites_the_graphml_file(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path, journal=False)
    await graph.upsert_node("A", {"d": "a"})
    await graph.index_done()
    assert not journal_path(tmp_path).exists()
    assert list(nx.read_graphml(main_path(tmp_path)).nodes) == ["A"]


async def test_drop_removes_the_journal(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_node("A", {})
    await graph.index_done()
    await graph.drop()
    assert not journal_path(tmp_path).exists()
    assert await (await open_graph(tmp_path)).node_count() == 0


def grown_source_id(count: int) -> str:
    return "<SEP>".join(f"chunk-{i:032d}" for i in range(count))


async def test_a_long_growing_property_is_journaled_as_appended_tails(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_nodes({"hub": {"source_id": grown_source_id(200)}, "leaf": {}})
    await graph.index_done()
    first_line = journal_path(tmp_path).stat().st_size
    for count in range(201, 301):
        await graph.upsert_node("hub", {"source_id": grown_source_id(count), "n": count})
        await graph.upsert_edge("hub", "leaf", {"source_id": grown_source_id(count)})
        await graph.index_done()
    # 100 lines of ~2 x 43 appended characters, not 100 copies of an ~8-12 kB value
    assert journal_path(tmp_path).stat().st_size - first_line < 100 * 1000
    expected = state(graph)
    assert state(await open_graph(tmp_path)) == expected
    saved = tmp_path / "journal.copy"
    shutil.copy(journal_path(tmp_path), saved)
    await graph.finalize()
    shutil.move(saved, journal_path(tmp_path))  # a crash between compaction and trim
    assert state(await open_graph(tmp_path)) == expected


async def test_appended_tails_survive_compactions_deletes_and_rewrites(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path, compact_min_bytes=0, compact_ratio=0.5)
    await graph.upsert_nodes({"hub": {"source_id": grown_source_id(150)}, "leaf": {}})
    await graph.index_done()
    for count in range(151, 260):
        if count % 37 == 0:  # deleted and re-created: the next value is written whole
            await graph.delete_node("hub")
        if count % 23 == 0:  # rewritten, not appended (like a document deletion)
            await graph.upsert_node("hub", {"source_id": grown_source_id(count)[40:]})
            await graph.index_done()
        await graph.upsert_node("hub", {"source_id": grown_source_id(count)})
        await graph.upsert_edge("leaf", "hub", {"source_id": grown_source_id(count), "w": count})
        if count % 3:
            await graph.index_done()
    await graph.index_done()
    expected = state(graph)
    assert state(await open_graph(tmp_path)) == expected
    await graph.finalize()
    assert graph_state(nx.read_graphml(main_path(tmp_path))) == expected


async def test_an_appended_tail_that_fits_no_value_is_reported_as_corrupt(tmp_path: Path) -> None:
    graph = await open_graph(tmp_path)
    await graph.upsert_node("hub", {"source_id": grown_source_id(200)})
    await graph.finalize()
    line = b'{"n":{"hub":{}},"nx":{"hub":{"source_id":[5,"<SEP>chunk-x"]}}}\n'
    journal_path(tmp_path).write_bytes(line)
    with pytest.raises(CorruptStorageFileError, match="do not fit"):
        await open_graph(tmp_path)
