"""A query's cost is bounded: tokens embedded per text, keywords used per level."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lightrag.compose import cosine_threshold, open_storages
from lightrag.config.models import RagConfig, StorageConfig
from lightrag.core.engine import LightRAG
from lightrag.core.tokenizer import get_tokenizer
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel
from lightrag.vocabulary.types import Message, QueryParam

DIM = 64
TOKENIZER = get_tokenizer()


class RecordingEmbedding(HashingEmbeddingModel):
    def __init__(self) -> None:
        super().__init__({"dim": DIM})
        self.texts: list[str] = []

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return await super().embed(texts)


class ManyKeywordsChat(FakeChatModel):
    """The fake chat model, except that keyword extraction answers 50 keywords a level."""

    async def complete(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> str:
        if json_mode:
            return json.dumps(
                {
                    "high_level_keywords": [f"theme {i}" for i in range(50)],
                    "low_level_keywords": [f"entity {i}" for i in range(50)],
                }
            )
        return await super().complete(prompt, system_prompt=system_prompt, history=history)


async def _engine(
    tmp_path: Path, llm: FakeChatModel | None = None, **rag: Any
) -> tuple[LightRAG, RecordingEmbedding]:
    embedding = RecordingEmbedding()
    config = RagConfig(**rag)
    storages = open_storages(
        StorageConfig(),
        working_dir=tmp_path,
        workspace="",
        embedding_dim=DIM,
        cosine_threshold=cosine_threshold(config.cosine_threshold, embedding),
    )
    engine = LightRAG(
        config=config, storages=storages, llm=llm or FakeChatModel(), embedding=embedding
    )
    await engine.initialize()
    await engine.insert("Alice Smith works at Acme Corporation in Berlin.")
    embedding.texts.clear()
    return engine, embedding


LONG_QUERY = " ".join(f"Where does Alice number {i} work in Berlin?" for i in range(3000))


async def test_a_long_query_embeds_at_most_retrieval_query_tokens_per_text(
    tmp_path: Path,
) -> None:
    rag, embedding = await _engine(tmp_path)
    try:
        await rag.retrieve(LONG_QUERY, QueryParam(mode="naive"))
        await rag.retrieve(LONG_QUERY, QueryParam(mode="mix"))
    finally:
        await rag.finalize()
    assert embedding.texts
    assert max(TOKENIZER.count(text) for text in embedding.texts) <= 512
    assert any(LONG_QUERY.startswith(text) and len(text) > 1000 for text in embedding.texts)


async def test_retrieval_query_tokens_sets_the_bound(tmp_path: Path) -> None:
    rag, embedding = await _engine(tmp_path, retrieval_query_tokens=64)
    try:
        await rag.retrieve(LONG_QUERY, QueryParam(mode="naive"))
    finally:
        await rag.finalize()
    assert [TOKENIZER.count(text) for text in embedding.texts] == [64]


async def test_supplied_keywords_are_capped_per_level(tmp_path: Path) -> None:
    rag, embedding = await _engine(tmp_path)
    param = QueryParam(
        mode="hybrid",
        hl_keywords=[f"theme {i}" for i in range(100)],
        ll_keywords=[f"entity {i}" for i in range(100)],
    )
    try:
        context = await rag.retrieve("Where does Alice work?", param)
    finally:
        await rag.finalize()
    assert context.high_level_keywords == [f"theme {i}" for i in range(20)]
    assert context.low_level_keywords == [f"entity {i}" for i in range(20)]
    assert ", ".join(f"entity {i}" for i in range(20)) in embedding.texts
    assert not any("entity 20" in text for text in embedding.texts)


async def test_extracted_keywords_are_capped_by_max_query_keywords(tmp_path: Path) -> None:
    rag, _ = await _engine(tmp_path, llm=ManyKeywordsChat(), max_query_keywords=5)
    try:
        context = await rag.retrieve("Where does Alice work?", QueryParam(mode="hybrid"))
        again = await rag.retrieve("Where does Alice work?", QueryParam(mode="hybrid"))  # cached
    finally:
        await rag.finalize()
    assert context.high_level_keywords == [f"theme {i}" for i in range(5)]
    assert context.low_level_keywords == [f"entity {i}" for i in range(5)]
    assert again.low_level_keywords == context.low_level_keywords
