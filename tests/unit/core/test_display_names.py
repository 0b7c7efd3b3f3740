"""The graph does not depend on the order documents are processed in (display names).

Two documents spell one entity differently (``Path``, ``PATH``); ingesting them in
either order gives the same graph, vectors and per-document indexes, because the
node shows the least spelling in code-point order and a merge that brings a lesser
spelling renames the node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightrag.core.engine import LightRAG
from lightrag.vocabulary import ids
from lightrag.vocabulary.types import ExtractedEntity, ExtractedRelation, Extraction

from .insert_support import graph_snapshot, open_engine

LOWER = "Path is set by the Login Shell. Path lists the Bin Dirs."
UPPER = "PATH is read by the Env Tool. PATH lists the Bin Dirs."


async def _ingest(workdir: Path, documents: list[str]) -> LightRAG:
    rag, _ = await open_engine(workdir)
    for document in documents:
        await rag.insert(document)  # one after the other: the order is the point
    return rag


async def _vectors(rag: LightRAG) -> dict[str, Any]:
    labels = await rag.storages.graph.all_labels()
    entity_records = await rag.storages.entities_vdb.get([ids.entity_vector_id(n) for n in labels])
    edges = await rag.storages.graph.get_nodes_edges(labels)
    pairs = sorted({tuple(sorted(e)) for found in edges.values() for e in found})
    relation_records = await rag.storages.relationships_vdb.get(
        [ids.relation_vector_id(a, b) for a, b in pairs]
    )
    return {
        "entities": sorted(str(r["entity_name"]) for r in entity_records if r),
        "relations": sorted((str(r["src_id"]), str(r["tgt_id"])) for r in relation_records if r),
    }


async def _doc_index(rag: LightRAG, document: str) -> tuple[list[str], list[list[str]]]:
    doc_id = ids.doc_id(document)
    entities = await rag.storages.full_entities.get(doc_id)
    relations = await rag.storages.full_relations.get(doc_id)
    assert entities is not None and relations is not None
    return sorted(entities["entity_names"]), sorted(sorted(p) for p in relations["relation_pairs"])


async def test_either_order_gives_the_same_graph_showing_the_least_spelling(
    tmp_path: Path,
) -> None:
    first = await _ingest(tmp_path / "lower_first", [LOWER, UPPER])
    second = await _ingest(tmp_path / "upper_first", [UPPER, LOWER])
    try:
        assert await graph_snapshot(first) == await graph_snapshot(second)
        labels = await first.storages.graph.all_labels()
        assert "PATH" in labels and "Path" not in labels
        assert await _vectors(first) == await _vectors(second)
        assert "Path" not in str(await _vectors(first))
        for document in (LOWER, UPPER):
            assert await _doc_index(first, document) == await _doc_index(second, document)
        names, _pairs = await _doc_index(first, LOWER)
        assert "PATH" in names and "Path" not in names  # the earlier document's index renamed
    finally:
        await first.finalize()
        await second.finalize()


async def test_deleting_a_document_after_a_rename_removes_what_it_sourced(tmp_path: Path) -> None:
    renamed = await _ingest(tmp_path / "renamed", [LOWER, UPPER])
    only_upper = await _ingest(tmp_path / "only_upper", [UPPER])
    try:
        result = await renamed.delete_document(ids.doc_id(LOWER))
        assert result.status == "success"
        assert await graph_snapshot(renamed) == await graph_snapshot(only_upper)
    finally:
        await renamed.finalize()
        await only_upper.finalize()


async def test_a_rename_moves_edges_the_merge_does_not_touch(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path)
    try:
        merger = rag.pipeline.merger
        await merger.merge(
            [
                Extraction(
                    entities=[ExtractedEntity("path", "category", "Lower.", "c1", "a.txt")],
                    relations=[
                        ExtractedRelation("path", "Shell", "Uses.", "k", 2.0, "c1", "a.txt")
                    ],
                )
            ]
        )
        await merger.merge(
            [Extraction(entities=[ExtractedEntity("PATH", "category", "Upper.", "c2", "b.txt")])]
        )
        graph = rag.storages.graph
        assert await graph.all_labels() == ["PATH", "Shell"]
        edge = await graph.get_edge("PATH", "Shell")
        assert edge is not None and edge["weight"] == 2.0
        node = await graph.get_node("PATH")
        assert node is not None and node["entity_id"] == "PATH"
        assert set(node["source_id"].split("<SEP>")) == {"c1", "c2"}
        (record,) = await rag.storages.relationships_vdb.get(
            [ids.relation_vector_id("PATH", "Shell")]
        )
        assert record is not None and {record["src_id"], record["tgt_id"]} == {"PATH", "Shell"}
    finally:
        await rag.finalize()


async def test_names_broken_across_pdf_lines_merge_into_one_clean_node(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path)
    try:
        await rag.pipeline.merger.merge(
            [
                Extraction(
                    entities=[ExtractedEntity("\n magic sniffing", "method", "A.", "c1", "a")]
                ),
                Extraction(
                    entities=[ExtractedEntity("magic  sniffing", "method", "B.", "c2", "a")]
                ),
                Extraction(entities=[ExtractedEntity("ele- \n MENT", "concept", "C.", "c3", "a")]),
                Extraction(entities=[ExtractedEntity("element", "concept", "D.", "c4", "a")]),
            ]
        )
        assert await rag.storages.graph.all_labels() == ["element", "magic sniffing"]
    finally:
        await rag.finalize()
