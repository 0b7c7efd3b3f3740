"""The facade's reads and model calls the server relies on (it uses nothing else)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lightrag.compose import build_engine
from lightrag.config.models import AppConfig, BackendChoice, ServerConfig
from lightrag.core import shutdown
from lightrag.core.engine import LightRAG
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel
from lightrag.vocabulary.types import DocStatus


@pytest.fixture
async def rag(tmp_path: Path) -> AsyncIterator[LightRAG]:
    config = AppConfig(
        server=ServerConfig(working_dir=tmp_path / "rag_storage", input_dir=tmp_path / "in"),
        llm=BackendChoice(type="fake"),
        embedding=BackendChoice(type="fake"),
    )
    engine = build_engine(config, llm=FakeChatModel(), embedding=HashingEmbeddingModel())
    async with engine:
        yield engine


async def test_document_counts_name_every_status_with_zero_for_none(rag: LightRAG) -> None:
    assert await rag.document_counts() == {status.value: 0 for status in DocStatus}
    await rag.enqueue(["one document", "another document"])
    counts = await rag.document_counts()
    assert counts[DocStatus.PENDING.value] == 2
    assert sum(counts.values()) == 2


async def test_documents_answer_in_the_order_asked_with_none_for_an_unknown_id(
    rag: LightRAG,
) -> None:
    result = await rag.enqueue(["first text", "second text"], ids=["doc-a", "doc-b"], track_id="t1")
    assert result.track_id == "t1"
    records = await rag.documents(["doc-b", "missing", "doc-a"])
    assert [record and record["content_summary"] for record in records] == [
        "second text",
        None,
        "first text",
    ]
    assert sorted(await rag.documents_by_track_id("t1")) == ["doc-a", "doc-b"]
    assert sorted(await rag.all_documents()) == ["doc-a", "doc-b"]
    rows, total = await rag.documents_page(
        statuses=None, page=1, page_size=1, sort_field="id", sort_desc=False
    )
    assert (total, [doc_id for doc_id, _ in rows]) == (2, ["doc-a"])


async def test_chat_goes_to_the_configured_model_without_retrieval(rag: LightRAG) -> None:
    llm = rag.ctx.llm
    assert isinstance(llm, FakeChatModel)
    answer = await rag.chat("Say hello", system_prompt="Be brief")
    pieces = [piece async for piece in rag.chat_stream("Say hello", system_prompt="Be brief")]
    assert "".join(pieces) == answer
    assert dict(llm.calls) == {"generic": 2}  # no keyword extraction, no RAG answer


async def test_count_tokens_counts_in_the_engine_tokenizer(rag: LightRAG) -> None:
    assert rag.count_tokens("") == 0
    assert rag.count_tokens("hello world") == rag.ctx.tokenizer.count("hello world") > 0


async def test_file_storages_make_the_engine_single_process(rag: LightRAG) -> None:
    assert rag.single_process is True
    await rag.check_ready()  # open file storages answer


async def test_a_slow_storage_close_is_waited_for_and_named_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(shutdown, "SLOW_STEP_SECONDS", 0.02)
    config = AppConfig(
        server=ServerConfig(working_dir=tmp_path / "rag_storage", input_dir=tmp_path / "in"),
        llm=BackendChoice(type="fake"),
        embedding=BackendChoice(type="fake"),
    )
    engine = build_engine(config, llm=FakeChatModel(), embedding=HashingEmbeddingModel())
    await engine.initialize()
    graph = engine.ctx.storages.graph
    closed = []
    real_finalize = graph.finalize

    async def slow_finalize() -> None:
        await asyncio.sleep(0.1)
        await real_finalize()
        closed.append(True)

    monkeypatch.setattr(graph, "finalize", slow_finalize)
    with caplog.at_level("WARNING", logger="lightrag.core.shutdown"):
        await engine.finalize()
    assert closed == [True]
    assert "still closing the storage graph" in caplog.text
