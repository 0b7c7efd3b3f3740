"""Builders for insert-side tests: a real engine over the default file storages in a tmp dir."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lightrag.compose import cosine_threshold, open_storages
from lightrag.config.models import RagConfig, StorageConfig
from lightrag.core.engine import LightRAG
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel
from lightrag.vocabulary.models import ChatModel

DIM = 64


def make_engine(
    workdir: Path, *, llm: ChatModel | None = None, **rag: Any
) -> tuple[LightRAG, FakeChatModel | Any]:
    """An engine (not yet initialised) and its chat model; ``rag`` overrides ``RagConfig``."""
    model = llm if llm is not None else FakeChatModel()
    embedding = HashingEmbeddingModel({"dim": DIM})
    config = RagConfig(**rag)
    storages = open_storages(
        StorageConfig(),
        working_dir=workdir,
        workspace="",
        embedding_dim=DIM,
        cosine_threshold=cosine_threshold(config.cosine_threshold, embedding),
    )
    engine = LightRAG(config=config, storages=storages, llm=model, embedding=embedding)
    return engine, model


async def open_engine(
    workdir: Path, *, llm: ChatModel | None = None, **rag: Any
) -> tuple[LightRAG, Any]:
    engine, model = make_engine(workdir, llm=llm, **rag)
    await engine.initialize()
    return engine, model


async def graph_snapshot(engine: LightRAG) -> dict[str, Any]:
    """Node ids with types and edges with weights and sources: for comparing two graphs."""
    graph = engine.storages.graph
    labels = await graph.all_labels()
    nodes = await graph.get_nodes(labels)
    edges = await graph.get_nodes_edges(labels)
    pairs = sorted({tuple(sorted(e)) for found in edges.values() for e in found})
    props = await graph.get_edges(pairs)  # type: ignore[arg-type]
    return {
        "nodes": {
            n: (p["entity_type"], sorted(p["source_id"].split("<SEP>"))) for n, p in nodes.items()
        },
        "edges": {
            pair: (p["weight"], sorted(p["source_id"].split("<SEP>"))) for pair, p in props.items()
        },
    }


async def wait_until(condition: Callable[[], bool], within_s: float = 10.0) -> None:
    """Poll ``condition`` until true; ``AssertionError`` after ``within_s`` seconds."""
    for _ in range(int(within_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition not met within {within_s} s")
