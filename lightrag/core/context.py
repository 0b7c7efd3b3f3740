"""What every engine part shares: config, storages, models, tokenizer, cache."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lightrag.config.models import RagConfig
from lightrag.core.cache import LLMCache
from lightrag.core.storages import Storages
from lightrag.core.tokenizer import Tokenizer
from lightrag.vocabulary.models import ChatModel, EmbeddingModel
from lightrag.vocabulary.priority import PrioritySlots

__all__ = ["EngineContext"]


@dataclass
class EngineContext:
    config: RagConfig
    storages: Storages
    llm: ChatModel
    embedding: EmbeddingModel
    tokenizer: Tokenizer
    cache: LLMCache
    _embed_slots: PrioritySlots = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._embed_slots = PrioritySlots(self.config.embedding_max_async)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in batches of ``embedding_batch_size``, batches concurrently.

        At most ``embedding_max_async`` batches run at once; waiting batches are served
        query first (``lightrag.vocabulary.priority``), so a query's one batch overtakes
        the batches ingestion has queued. A model that queues each of its own runs by
        priority (``queues_its_own_runs``, the embedded embedder) is not held behind this
        shared pool: ``embedding_max_async`` then bounds one call's batches at once.

        Returns a ``(len(texts), dim)`` float32 array in the order of ``texts``.
        """
        dim = self.embedding.dim
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        size = self.config.embedding_batch_size
        batches = [list(texts[i : i + size]) for i in range(0, len(texts), size)]

        slots = self._embed_slots
        if getattr(self.embedding, "queues_its_own_runs", False):
            # The model queues each of its runs by priority (the embedded embedder): a
            # shared batch slot held here would make a query wait for whole ingestion
            # batches, so only this call's batches are bounded.
            slots = PrioritySlots(self.config.embedding_max_async)

        async def run(batch: list[str]) -> np.ndarray:
            async with slots.slot():
                return await self.embedding.embed(batch)

        results = await asyncio.gather(*(run(batch) for batch in batches))
        return np.vstack(results).astype(np.float32, copy=False)
