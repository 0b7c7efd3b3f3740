"""Deleting a document: what only it sourced goes; what it shared is rebuilt from stored results."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lightrag.core.extraction import parse_extraction
from lightrag.testing.fakes import FakeChatModel
from lightrag.vocabulary import ids
from lightrag.vocabulary.types import GRAPH_FIELD_SEP

from .insert_support import graph_snapshot, open_engine, wait_until

DOC_A = "Alice Smith met Bob Jones in Paris. The Acme Corporation hired Alice Smith."
DOC_B = "Bob Jones lives in Paris with Carol King."


async def test_deleting_the_only_document_empties_every_store(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path)
    try:
        await rag.insert(DOC_A)
        result = await rag.delete_document(ids.doc_id(DOC_A))
        assert result.status == "success"
        assert result.entities_deleted == 4 and result.relations_deleted > 0
        st = rag.storages
        assert await st.graph.node_count() == 0
        for vdb in (st.entities_vdb, st.relationships_vdb, st.chunks_vdb):
            assert await vdb.count() == 0
        for kv in (
            st.text_chunks,
            st.full_docs,
            st.doc_status,
            st.full_entities,
            st.full_relations,
        ):
            assert await kv.is_empty()
    finally:
        await rag.finalize()


async def test_shared_entities_keep_other_sources_and_are_rebuilt(tmp_path: Path) -> None:
    rag, llm = await open_engine(tmp_path)
    try:
        await rag.insert([DOC_A, DOC_B])
        calls = llm.total_calls
        result = await rag.delete_document(ids.doc_id(DOC_A))
        assert result.status == "success"
        assert result.entities_rebuilt == 2  # Bob Jones and Paris
        assert result.relations_rebuilt == 1  # Bob Jones - Paris
        graph = rag.storages.graph
        assert sorted(await graph.all_labels()) == ["Bob Jones", "Carol King", "Paris"]
        paris = await graph.get_node("Paris")
        assert paris is not None
        assert paris["description"] == f"Paris is mentioned: {DOC_B}"
        assert GRAPH_FIELD_SEP not in paris["source_id"]
        edge = await graph.get_edge("Paris", "Bob Jones")
        assert edge is not None and edge["weight"] == 1.0
        assert not await graph.has_edge("Alice Smith", "Bob Jones")
        (vector,) = await rag.storages.entities_vdb.get([ids.entity_vector_id("Paris")])
        assert vector is not None and vector["content"] == f"Paris\n{paris['description']}"
        assert llm.total_calls == calls  # rebuilt from stored extractions: no model call
    finally:
        await rag.finalize()


async def test_graph_after_delete_equals_a_graph_built_without_the_document(
    tmp_path: Path,
) -> None:
    rag, _ = await open_engine(tmp_path / "both")
    clean, _ = await open_engine(tmp_path / "only_b")
    try:
        await rag.insert([DOC_A, DOC_B])
        await rag.delete_document(ids.doc_id(DOC_A))
        await clean.insert([DOC_B])
        assert await graph_snapshot(rag) == await graph_snapshot(clean)
    finally:
        await rag.finalize()
        await clean.finalize()


async def test_node_kept_alive_by_another_documents_relation_survives(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path)
    try:
        await rag.insert("Zed Zorro is a pilot.")
        # the second document names Zed Zorro only as a relation endpoint
        await rag.storages.graph.upsert_node(
            "Quinn", {"entity_id": "Quinn", "entity_type": "person", "description": "Q."}
        )
        pipeline = rag.pipeline
        await pipeline.merger.merge(
            [
                parse_extraction(
                    '("relationship"<|>Quinn<|>Zed Zorro<|>Quinn flies with Zed.<|>flight<|>2)',
                    chunk_id="chunk-other",
                    file_path="b.txt",
                )
            ]
        )
        await rag.delete_document(ids.doc_id("Zed Zorro is a pilot."))
        zed = await rag.storages.graph.get_node("Zed Zorro")
        assert zed is not None
        assert zed["source_id"] == "chunk-other"
        assert "Quinn flies with Zed." in zed["description"]
        assert await rag.storages.graph.has_edge("Quinn", "Zed Zorro")
    finally:
        await rag.finalize()


async def test_unknown_document_is_reported_not_found(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path)
    try:
        result = await rag.delete_document("doc-nope")
        assert result.status == "not_found" and result.doc_id == "doc-nope"
    finally:
        await rag.finalize()


async def test_failed_document_without_chunks_list_can_be_deleted(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path, llm=FakeChatModel({"fail_on_text": "Alice"}))
    try:
        await rag.insert([DOC_A, DOC_B])
        failed = await rag.storages.doc_status.get(ids.doc_id(DOC_A))
        assert failed is not None and failed["status"] == "failed"
        result = await rag.delete_document(ids.doc_id(DOC_A))
        assert result.status == "success"
        assert await rag.storages.doc_status.get(ids.doc_id(DOC_A)) is None
        assert await rag.storages.graph.has_node("Carol King")
    finally:
        await rag.finalize()


async def test_document_being_processed_is_not_deleted(tmp_path: Path) -> None:
    slow: Any = FakeChatModel({"latency_ms": 300})
    rag, _ = await open_engine(tmp_path, llm=slow)
    try:
        await rag.enqueue([DOC_A])
        rag.start_processing()
        await wait_until(lambda: slow.in_flight > 0)
        result = await rag.delete_document(ids.doc_id(DOC_A))
        assert result.status == "fail" and "being processed" in result.message
        await rag.process_queue()
        assert (await rag.storages.doc_status.get(ids.doc_id(DOC_A)) or {})["status"] == "processed"
    finally:
        await rag.finalize()


async def test_deletion_is_persisted_for_a_fresh_engine(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path)
    await rag.insert([DOC_A, DOC_B])
    await rag.delete_document(ids.doc_id(DOC_A))
    expected = await graph_snapshot(rag)
    await rag.finalize()
    again, _ = await open_engine(tmp_path)
    try:
        assert await graph_snapshot(again) == expected
        assert await again.storages.doc_status.get(ids.doc_id(DOC_A)) is None
    finally:
        await again.finalize()


async def test_pending_document_deleted_while_the_pipeline_starts_stays_deleted(
    tmp_path: Path,
) -> None:
    rag, _ = await open_engine(tmp_path)
    try:
        await rag.enqueue([DOC_A, DOC_B])
        doc_b = ids.doc_id(DOC_B)
        # the run lists DOC_B as pending while its deletion is under way
        deleted, _ = await asyncio.gather(rag.delete_document(doc_b), rag.process_queue())
        assert deleted.status == "success"
        st = rag.storages
        assert await st.doc_status.get(doc_b) is None
        assert await st.full_docs.get(doc_b) is None
        chunks = await st.text_chunks.get_many(await st.text_chunks.keys())
        assert {c["full_doc_id"] for c in chunks if c} == {ids.doc_id(DOC_A)}
        assert not await st.graph.has_node("Carol King")
    finally:
        await rag.finalize()
