"""The engine serves queries first: its embedding batches, and the priority a query runs at."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lightrag.compose import cosine_threshold, open_storages
from lightrag.config.models import RagConfig, StorageConfig
from lightrag.core.engine import LightRAG
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel
from lightrag.vocabulary.priority import Priority, current_priority, running_at

DIM = 64


class GatedEmbedding(HashingEmbeddingModel):
    """The hashing embedder; records each call's priority and texts, waits for ``gate``."""

    def __init__(self) -> None:
        super().__init__({"dim": DIM})
        self.log: list[tuple[int, list[str]]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.log.append((current_priority(), list(texts)))
        await self.gate.wait()
        return await super().embed(texts)


async def _engine(tmp_path: Path, **rag: object) -> tuple[LightRAG, GatedEmbedding]:
    embedding = GatedEmbedding()
    config = RagConfig(**rag)  # type: ignore[arg-type]
    storages = open_storages(
        StorageConfig(),
        working_dir=tmp_path,
        workspace="",
        embedding_dim=DIM,
        cosine_threshold=cosine_threshold(config.cosine_threshold, embedding),
    )
    engine = LightRAG(config=config, storages=storages, llm=FakeChatModel(), embedding=embedding)
    await engine.initialize()
    return engine, embedding


async def test_a_query_batch_overtakes_the_embedding_batches_ingestion_queued(
    tmp_path: Path,
) -> None:
    rag, embedding = await _engine(tmp_path, embedding_batch_size=1, embedding_max_async=1)
    try:
        embedding.gate.clear()  # the first ingestion batch holds the only slot
        ingest = asyncio.create_task(rag.ctx.embed([f"ingest {i}" for i in range(8)]))
        for _ in range(100):
            if embedding.log:
                break
            await asyncio.sleep(0)
        with running_at(Priority.QUERY):
            query = asyncio.create_task(rag.ctx.embed(["the query"]))
        for _ in range(10):
            await asyncio.sleep(0)
        embedding.gate.set()
        await asyncio.gather(ingest, query)
    finally:
        await rag.finalize()
    order = [texts[0] for _, texts in embedding.log]
    assert order == ["ingest 0", "the query"] + [f"ingest {i}" for i in range(1, 8)]


async def test_queries_run_at_query_priority_and_the_pipeline_at_ingest_priority(
    tmp_path: Path,
) -> None:
    rag, embedding = await _engine(tmp_path)
    try:
        with running_at(Priority.QUERY):  # even a pipeline started from a query's context
            await rag.insert("Alice Smith works at Acme Corporation in Berlin.")
        indexed = len(embedding.log)
        await rag.query("Where does Alice Smith work?")
        retrieved = len(embedding.log)
        answer = await rag.query_stream("Who works in Berlin?")
        pieces = [piece async for piece in answer.pieces]
    finally:
        await rag.finalize()
    assert pieces
    priorities = [priority for priority, _ in embedding.log]
    assert indexed > 0 and set(priorities[:indexed]) == {Priority.INGEST}
    assert retrieved > indexed and set(priorities[indexed:]) == {Priority.QUERY}
