"""The engine context's embedding helper: batches, bounded overlap, order kept."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lightrag.testing.fakes import HashingEmbeddingModel

from .insert_support import open_engine


class RecordingEmbedder(HashingEmbeddingModel):
    """Counts batch sizes and the peak number of batches in flight."""

    def __init__(self) -> None:
        super().__init__({"dim": 64})
        self.batches: list[int] = []
        self.in_flight = 0
        self.peak = 0

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(len(texts))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.02)
            return await super().embed(texts)
        finally:
            self.in_flight -= 1


async def test_embed_batches_overlap_up_to_the_limit_and_keep_the_order(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path, embedding_batch_size=2, embedding_max_async=2)
    recorder = RecordingEmbedder()
    rag.ctx.embedding = recorder
    try:
        texts = [f"text number {i} about topic {i % 3}" for i in range(7)]
        vectors = await rag.ctx.embed(texts)
        assert sorted(recorder.batches) == [1, 2, 2, 2]
        assert recorder.peak == 2  # batches overlap, never more than embedding_max_async
        expected = np.stack([recorder.embed_one(text) for text in texts])
        np.testing.assert_allclose(vectors, expected, rtol=1e-6)
        assert vectors.dtype == np.float32
        assert (await rag.ctx.embed([])).shape == (0, 64)
    finally:
        await rag.finalize()
