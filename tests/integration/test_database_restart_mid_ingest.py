"""A PostgreSQL server that restarts in the middle of an ingest loses nothing.

The engine runs every storage role on PostgreSQL with a slow fake model; the server
is restarted while documents are being indexed. Documents caught by the outage end
``failed`` with the reason (or are retried through by the client), none is lost or
left half-indexed: after ``reprocess_failed`` every document is ``processed`` and
the graph and vectors equal those of an uninterrupted run on the file storages.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from lightrag.compose import build_engine
from lightrag.config.models import AppConfig, BackendChoice, ServerConfig, StorageConfig
from lightrag.core.engine import LightRAG
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel
from lightrag.vocabulary.types import GRAPH_FIELD_SEP, DocStatus

from .servers.postgres import PostgresTestServer

pytestmark = [pytest.mark.postgres, pytest.mark.integration]

# Each city is in 6-7 documents: under the summary threshold, so merge order cannot
# change a description (an LLM summary of many fragments depends on their order).
DOCUMENTS = [
    f"in report {i}, Person{i} Alder works with Person{i} Birch at Company{i} Works. "
    f"Person{i} Birch founded Company{i} Works in City{i % 7} Harbor."
    for i in range(48)
]


def _engine(tmp_path: Path, storage: StorageConfig, workspace: str) -> LightRAG:
    config = AppConfig(
        server=ServerConfig(working_dir=tmp_path, workspace=workspace),
        storage=storage,
        llm=BackendChoice(type="fake"),
        embedding=BackendChoice(type="fake"),
    )
    return build_engine(
        config,
        llm=FakeChatModel({"latency_ms": 200}),
        embedding=HashingEmbeddingModel({"dim": 32}),
    )


async def _snapshot(rag: LightRAG) -> dict[str, Any]:
    """What the engine indexed: graph nodes and edges, vector and chunk counts."""
    storages = rag.storages
    labels = sorted(await storages.graph.all_labels())
    nodes = await storages.graph.get_nodes(labels)
    pairs = {
        tuple(sorted(pair))
        for node_edges in (await storages.graph.get_nodes_edges(labels)).values()
        for pair in node_edges
    }
    return {
        "labels": labels,
        # merge order differs between runs: compare the description fragments, not their order
        "descriptions": {
            name: sorted(str(node.get("description", "")).split(GRAPH_FIELD_SEP))
            for name, node in nodes.items()
        },
        "edges": sorted(pairs),
        "entity_vectors": await storages.entities_vdb.count(),
        "relation_vectors": await storages.relationships_vdb.count(),
        "chunk_vectors": await storages.chunks_vdb.count(),
    }


async def _until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 120) -> None:
    for _ in range(int(seconds * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"waited {seconds:.0f} s for {what}")


async def _processed_at_least(rag: LightRAG, count: int) -> bool:
    return (await rag.storages.doc_status.status_counts()).get("processed", 0) >= count


async def _idle(rag: LightRAG) -> bool:
    return not rag.pipeline_status.busy


async def _statuses(rag: LightRAG) -> dict[str, list[dict[str, Any]]]:
    by_status: dict[str, list[dict[str, Any]]] = {}
    for status in DocStatus:
        records = await rag.storages.doc_status.by_status([status])
        by_status[status.value] = list(records.values())
    return by_status


async def test_a_restart_mid_ingest_loses_nothing_and_reprocess_finishes(
    tmp_path: Path, postgres_server: PostgresTestServer
) -> None:
    if not postgres_server.can_restart:
        pytest.skip("needs a launched server to restart (LIGHTRAG_TEST_POSTGRES_DSN given)")
    postgres = {**postgres_server.params, "vector_table": "restart_vectors"}
    on_postgres = StorageConfig(
        kv=BackendChoice.model_validate({"type": "postgres", **postgres}),
        vector=BackendChoice.model_validate({"type": "postgres", **postgres}),
        graph=BackendChoice.model_validate({"type": "postgres", **postgres}),
        doc_status=BackendChoice.model_validate({"type": "postgres", **postgres}),
    )
    workspace = "restart_" + uuid.uuid4().hex[:8]
    async with _engine(tmp_path / "pg", on_postgres, workspace) as rag:
        await rag.enqueue(DOCUMENTS)
        assert rag.start_processing()
        await _until(lambda: _processed_at_least(rag, 4), "4 documents processed")
        before = await rag.storages.doc_status.status_counts()
        assert before.get("processed", 0) < len(DOCUMENTS) // 2, before  # really mid-ingest
        await asyncio.to_thread(postgres_server.restart)  # the event loop keeps indexing
        await _until(lambda: _idle(rag), "the pipeline to finish")

        after_outage = await _statuses(rag)
        total = sum(len(records) for records in after_outage.values())
        assert total == len(DOCUMENTS), {k: len(v) for k, v in after_outage.items()}
        for record in after_outage["failed"]:
            assert record.get("error_msg"), record  # failed with the reason, never silently
        print(
            "after the restart:",
            {status: len(records) for status, records in after_outage.items() if records},
        )

        await rag.reprocess_failed()
        await rag.process_queue()  # also resumes any document left processing
        finished = await _statuses(rag)
        assert len(finished["processed"]) == len(DOCUMENTS), {
            k: len(v) for k, v in finished.items()
        }
        indexed = await _snapshot(rag)
        await rag.clear()

    async with _engine(tmp_path / "files", StorageConfig(), workspace) as reference:
        await reference.insert(DOCUMENTS)
        expected = await _snapshot(reference)
    wrong = {
        name: (text, expected["descriptions"].get(name))
        for name, text in indexed.pop("descriptions").items()
        if text != expected["descriptions"].get(name)
    }
    assert not wrong, wrong
    expected.pop("descriptions")
    assert indexed == expected
