"""The document pipeline end to end over the real file storages with the fake models."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from lightrag.testing.fakes import FakeChatModel, fake_graph_of
from lightrag.vocabulary import ids
from lightrag.vocabulary.types import ExtractedEntity, Extraction, RetrievedContext

from .insert_support import graph_snapshot, open_engine, wait_until

DOC_A = "Alice Smith met Bob Jones in Paris. The Acme Corporation hired Alice Smith."
DOC_B = "Bob Jones lives in Paris with Carol King. Carol King founded Nimbus Labs."
POISON = "Poison Ivy wrote this. It mentions Gotham City."


async def statuses(rag: Any) -> dict[str, str]:
    records = await rag.storages.doc_status.by_status(
        ["pending", "processing", "processed", "failed"]
    )
    return {doc_id: record["status"] for doc_id, record in records.items()}


async def test_insert_indexes_graph_vectors_chunks_and_status(tmp_path: Path) -> None:
    rag, llm = await open_engine(tmp_path)
    try:
        result = await rag.insert([DOC_A], file_paths=["notes/a.txt"])
        (doc_id,) = result.doc_ids
        assert doc_id == ids.doc_id(DOC_A)
        record = await rag.storages.doc_status.get(doc_id)
        assert record is not None
        assert record["status"] == "processed"
        assert record["chunks_count"] == 1 and len(record["chunks_list"]) == 1
        assert record["file_path"] == "notes/a.txt" and record["track_id"] == result.track_id
        assert record["content_length"] == len(DOC_A) and record["error_msg"] is None
        expected = {name for name, _, _ in fake_graph_of(DOC_A).entities}
        assert set(await rag.storages.graph.all_labels()) == expected
        (chunk_key,) = record["chunks_list"]
        chunk = await rag.storages.text_chunks.get(chunk_key)
        assert chunk is not None and chunk["full_doc_id"] == doc_id
        assert chunk["extraction"]["entities"]  # kept for delete-rebuild
        (vector,) = await rag.storages.chunks_vdb.get([chunk_key])
        assert vector is not None and vector["content"] == DOC_A
        assert await rag.storages.entities_vdb.count() == len(expected)
        assert await rag.storages.relationships_vdb.count() == len(fake_graph_of(DOC_A).relations)
        sourced = await rag.storages.full_entities.get(doc_id)
        assert sourced is not None and set(sourced["entity_names"]) == expected
        assert (await rag.storages.full_relations.get(doc_id) or {})["relation_pairs"]
        assert llm.calls == {"extract": 1, "glean": 1}
    finally:
        await rag.finalize()


async def test_results_are_on_disk_for_a_fresh_engine(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path)
    await rag.insert([DOC_A, DOC_B])
    before = await graph_snapshot(rag)
    await rag.finalize()
    again, llm = await open_engine(tmp_path)
    try:
        assert await graph_snapshot(again) == before
        assert set((await statuses(again)).values()) == {"processed"}
        assert llm.total_calls == 0
    finally:
        await again.finalize()


async def test_reinserting_the_same_text_is_a_duplicate_without_llm_calls(tmp_path: Path) -> None:
    rag, llm = await open_engine(tmp_path)
    try:
        await rag.insert(DOC_A)
        calls = llm.total_calls
        again = await rag.insert(f"  {DOC_A}\n")
        assert again.doc_ids == [] and again.duplicates == [ids.doc_id(DOC_A)]
        assert llm.total_calls == calls
    finally:
        await rag.finalize()


async def test_reindexing_a_deleted_text_hits_the_extraction_cache(tmp_path: Path) -> None:
    rag, llm = await open_engine(tmp_path)
    try:
        await rag.insert([DOC_A, DOC_B])
        before = await graph_snapshot(rag)
        calls = llm.total_calls
        assert (await rag.delete_document(ids.doc_id(DOC_A))).status == "success"
        await rag.insert(DOC_A)
        assert llm.total_calls == calls
        assert rag.pipeline.llm.cache_hits["extract"] == 2
        after = await graph_snapshot(rag)
        assert after["nodes"].keys() == before["nodes"].keys()
        assert after["edges"].keys() == before["edges"].keys()
    finally:
        await rag.finalize()


async def test_duplicates_within_one_request_are_skipped(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path)
    try:
        result = await rag.enqueue([DOC_A, DOC_B, DOC_A])
        assert result.doc_ids == [ids.doc_id(DOC_A), ids.doc_id(DOC_B)]
        assert result.duplicates == [ids.doc_id(DOC_A)]
        assert set((await statuses(rag)).values()) == {"pending"}
    finally:
        await rag.finalize()


@pytest.mark.parametrize(
    ("texts", "kwargs", "message"),
    [
        (["ok", "  "], {}, r"texts\[1\] is empty"),
        (["a", "b"], {"ids": ["one"]}, "1 ids for 2 texts"),
        (["a", "b"], {"ids": ["x", "x"]}, "unique"),
        (["a"], {"file_paths": ["p", "q"]}, "2 file paths for 1 texts"),
    ],
)
async def test_bad_enqueue_input_is_rejected_with_a_clear_error(
    tmp_path: Path, texts: list[str], kwargs: dict[str, Any], message: str
) -> None:
    rag, _ = await open_engine(tmp_path)
    try:
        with pytest.raises(ValueError, match=message):
            await rag.enqueue(texts, **kwargs)
        assert await rag.storages.doc_status.is_empty()
    finally:
        await rag.finalize()


async def test_one_failing_document_does_not_stop_the_others(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path, llm=FakeChatModel({"fail_on_text": "Poison"}))
    try:
        await rag.insert([DOC_A, POISON, DOC_B])
        poisoned = await rag.storages.doc_status.get(ids.doc_id(POISON))
        assert poisoned is not None and poisoned["status"] == "failed"
        assert "ModelError" in poisoned["error_msg"] and "Poison" in poisoned["error_msg"]
        assert (await statuses(rag))[ids.doc_id(DOC_A)] == "processed"
        assert (await statuses(rag))[ids.doc_id(DOC_B)] == "processed"
        labels = set(await rag.storages.graph.all_labels())
        assert "Gotham City" not in labels and "Alice Smith" in labels  # nothing half-merged
    finally:
        await rag.finalize()


async def test_failed_documents_are_reprocessed_on_request(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path, llm=FakeChatModel({"fail_on_text": "Poison"}))
    await rag.insert([POISON])
    await rag.finalize()
    healthy, _ = await open_engine(tmp_path)
    try:
        assert await healthy.reprocess_failed() == 1
        await healthy.process_queue()
        assert (await statuses(healthy))[ids.doc_id(POISON)] == "processed"
        assert await healthy.storages.graph.has_node("Gotham City")
    finally:
        await healthy.finalize()


async def test_gleaning_adds_what_the_first_answer_missed(tmp_path: Path) -> None:
    capped = FakeChatModel({"max_entities_per_answer": 1})
    rag, _ = await open_engine(tmp_path, llm=capped)
    try:
        await rag.insert(DOC_A)
        expected = {name for name, _, _ in fake_graph_of(DOC_A).entities}
        assert set(await rag.storages.graph.all_labels()) == expected
        assert capped.calls["glean"] == 1
    finally:
        await rag.finalize()


async def test_zero_gleaning_rounds_sends_no_follow_up(tmp_path: Path) -> None:
    capped = FakeChatModel({"max_entities_per_answer": 1})
    rag, _ = await open_engine(tmp_path, llm=capped, max_gleaning=0)
    try:
        await rag.insert(DOC_A)
        assert capped.calls["glean"] == 0
        assert await rag.storages.graph.all_labels() == ["Alice Smith"]
    finally:
        await rag.finalize()


async def test_malformed_model_output_still_builds_the_graph(tmp_path: Path) -> None:
    sloppy = FakeChatModel({"malformed_kinds": ["extract", "glean"]})
    rag, _ = await open_engine(tmp_path, llm=sloppy)
    try:
        await rag.insert(DOC_A)
        expected = {name for name, _, _ in fake_graph_of(DOC_A).entities}
        assert set(await rag.storages.graph.all_labels()) == expected
    finally:
        await rag.finalize()


async def test_llm_slots_are_shared_across_documents_and_bounded(tmp_path: Path) -> None:
    slow = FakeChatModel({"latency_ms": 30})
    rag, _ = await open_engine(tmp_path, llm=slow, max_async=3)
    try:
        docs = [f"Person{i} Alpha met Person{i} Beta in City{i}." for i in range(6)]
        await rag.insert(docs)  # six one-chunk documents: only cross-document work fills 3 slots
        assert slow.max_in_flight == 3
        assert set((await statuses(rag)).values()) == {"processed"}
    finally:
        await rag.finalize()


async def test_start_while_running_returns_false_and_the_run_takes_new_documents(
    tmp_path: Path,
) -> None:
    rag, _ = await open_engine(tmp_path, llm=FakeChatModel({"latency_ms": 20}))
    try:
        await rag.enqueue([DOC_A])
        assert rag.start_processing() is True
        await asyncio.sleep(0)
        assert rag.pipeline_status.busy
        await rag.enqueue([DOC_B])
        assert rag.start_processing() is False
        assert rag.pipeline_status.request_pending
        await rag.process_queue()
        assert set((await statuses(rag)).values()) == {"processed"}
        assert not rag.pipeline_status.busy
        assert any("processed" in m for m in rag.pipeline_status.history_messages)
    finally:
        await rag.finalize()


async def test_cancel_puts_unfinished_documents_back_to_pending(tmp_path: Path) -> None:
    rag, llm = await open_engine(tmp_path, llm=FakeChatModel({"latency_ms": 200}), max_async=1)
    try:
        await rag.enqueue([DOC_A, DOC_B, POISON])
        rag.start_processing()
        await wait_until(lambda: llm.in_flight > 0)
        assert await rag.cancel_pipeline() is True
        await rag.pipeline.shutdown()
        assert not rag.pipeline_status.busy
        assert set((await statuses(rag)).values()) <= {"pending", "processed"}
        assert "pending" in set((await statuses(rag)).values())
        assert await rag.cancel_pipeline() is False
    finally:
        await rag.finalize()


async def test_finalize_while_processing_stops_cleanly_and_work_resumes(tmp_path: Path) -> None:
    rag, llm = await open_engine(tmp_path, llm=FakeChatModel({"latency_ms": 100}), max_async=1)
    await rag.enqueue([DOC_A, DOC_B])
    rag.start_processing()
    await wait_until(lambda: llm.in_flight > 0)
    await rag.finalize()
    again, _ = await open_engine(tmp_path)
    try:
        await again.process_queue()
        assert set((await statuses(again)).values()) == {"processed"}
    finally:
        await again.finalize()


def test_status_history_is_bounded() -> None:
    from lightrag.core.pipeline import MAX_HISTORY_MESSAGES, PipelineStatus

    status = PipelineStatus()
    for i in range(3 * MAX_HISTORY_MESSAGES):
        status.log(f"message {i}")
    assert len(status.history_messages) <= MAX_HISTORY_MESSAGES
    assert status.latest_message == f"message {3 * MAX_HISTORY_MESSAGES - 1}"


class NativeModel(FakeChatModel):
    """A chat model that extracts and summarises natively (like the embedded one)."""

    async def extract_graph(self, text: str, *, chunk_id: str, file_path: str) -> Extraction:
        self.calls["native_extract"] += 1
        return Extraction(entities=[ExtractedEntity("Native Thing", "category", text, chunk_id)])

    async def extract_keywords(self, query: str) -> tuple[list[str], list[str]]:
        return [], []

    async def summarize_descriptions(self, name: str, descriptions: Sequence[str]) -> str:
        return " / ".join(descriptions)

    async def answer_from_context(self, query: str, context: RetrievedContext) -> str:
        return "extractive"


async def test_native_rag_model_extracts_without_prompts(tmp_path: Path) -> None:
    native = NativeModel()
    rag, _ = await open_engine(tmp_path, llm=native)
    try:
        await rag.insert(DOC_A)
        assert native.calls == {"native_extract": 1}
        assert await rag.storages.graph.all_labels() == ["Native Thing"]
    finally:
        await rag.finalize()
