"""CPU cost of the query path (keywords, retrieval, context, cache) per mode.

Indexes N synthetic documents through the real pipeline with the fake chat model
and hashing embedder, then asks the same questions twice per mode: the first
round pays keywords + retrieval + context + one fake answer, the second is an
answer-cache hit (retrieval still runs, because the context is part of the key).

    python scripts/benchmarks/bench_query.py [--docs 100] [--questions 15]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from lightrag.compose import open_storages
from lightrag.config.models import RagConfig, StorageConfig
from lightrag.core.engine import LightRAG
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel
from lightrag.vocabulary.types import QueryMode, QueryParam

NAMES = [
    "Alice Smith", "Bob Jones", "Acme Corp", "Orbital Labs", "Denmark", "Paris", "Carol King",
    "Delta Works", "Echo Systems", "Frank Moore", "Gamma Group", "Helios Energy", "Iris Bank",
    "Jutland", "Kourou",
]  # fmt: skip
TOPICS = ["Solar", "Wind", "Rocket", "Satellite", "Grid"]
MODES: tuple[QueryMode, ...] = ("local", "global", "hybrid", "naive", "mix")


def synthetic_document(seed: int, sentences: int = 40) -> str:
    rng = random.Random(seed)
    parts = []
    for _ in range(sentences):
        first, second = rng.sample(NAMES, 2)
        parts.append(f"{first} works with {second} on project {rng.choice(TOPICS)} {seed % 17}.")
    return " ".join(parts)


async def bench(docs: int, questions: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        embedding = HashingEmbeddingModel({"dim": 256})
        storages = open_storages(
            StorageConfig(),
            working_dir=Path(directory),
            workspace="",
            embedding_dim=embedding.dim,
            cosine_threshold=0.2,
        )
        rag = LightRAG(
            config=RagConfig(),
            storages=storages,
            llm=FakeChatModel({"count_tokens": False}),
            embedding=embedding,
        )
        async with rag:
            await rag.insert([synthetic_document(i) for i in range(docs)])
            print(
                f"graph: {await storages.graph.node_count()} entities, "
                f"{await storages.relationships_vdb.count()} relations, "
                f"{await storages.chunks_vdb.count()} chunks"
            )
            pairs = list(zip(NAMES, NAMES[1:] + NAMES[:1], strict=True))
            asked = [
                f"What does {a} do with {b} on {TOPICS[i % len(TOPICS)]}?"
                for i, (a, b) in enumerate((pairs * (questions // len(pairs) + 1))[:questions])
            ]
            for mode in MODES:
                rounds = []
                for _ in range(2):
                    started = time.process_time()
                    for question in asked:
                        await rag.query(question, QueryParam(mode=mode))
                    rounds.append((time.process_time() - started) / len(asked) * 1000)
                print(
                    f"{mode:7s} CPU per query: first {rounds[0]:6.1f} ms, cache hit {rounds[1]:6.1f} ms"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--questions", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(bench(args.docs, args.questions))


if __name__ == "__main__":
    main()
