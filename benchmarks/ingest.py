"""Ingest benchmark: N synthetic documents through the real pipeline and file storages.

The chat model is ``FakeChatModel`` with a fixed per-call latency (an LLM
stand-in whose time is spent waiting, like a remote model); embeddings are the
hashing fake. Storages are the defaults (JSON KV, nano vectors, NetworkX graph)
in a temporary working directory.

Reports, per latency: wall time; server CPU seconds per document (process CPU
minus the time the fake model spends producing answers); LLM calls by prompt
kind; input/output tokens per chunk; slot efficiency = calls x latency /
max_async / wall (1.0 = every LLM slot busy all the time).

    python benchmarks/ingest.py                      # N=100, latencies 0 100 1000 ms
    python benchmarks/ingest.py --latency-ms 100 --docs 50 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lightrag.compose import cosine_threshold, open_storages
from lightrag.config.models import RagConfig, StorageConfig
from lightrag.core.engine import LightRAG
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel

_SYLLABLES = ["ka", "lo", "mir", "ten", "bra", "vel", "sun", "dor", "fi", "ran", "tes", "gul"]
_NOUNS = ["budget", "schedule", "prototype", "report", "treaty", "harvest", "bridge", "archive"]
_VERBS = ["met", "visited", "advised", "funded", "criticised", "joined", "praised", "hired"]
_FILLER = str.split(
    "during a long and careful review of the plans that had been drafted over many months "
    "while the committee waited for the results of the survey and the weather turned cold "
    "so that most of the work was postponed until the next season began in earnest"
)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _entity_pool(rng: random.Random, size: int) -> list[str]:
    kinds = ("{} {}", "{} {}", "{}", "{} Group")
    return [rng.choice(kinds).format(_word(rng), _word(rng)) for _ in range(size)]


def synthetic_documents(count: int, seed: int = 7) -> list[str]:
    """``count`` deterministic documents of 1 to 3 chunks (about 1.6 on average at 1200 tokens).

    Each document is about 6-10 entities: most its own, a few from a small pool
    of popular ones shared by many documents (so merges and summaries happen).
    """
    rng = random.Random(seed)
    popular = _entity_pool(rng, 15)
    docs = []
    for index in range(count):
        cast = _entity_pool(rng, rng.randint(4, 7)) + rng.sample(popular, rng.randint(2, 3))
        sentences = []
        for _ in range(rng.choice((16, 22, 30, 44, 50, 62, 70))):
            who, other = rng.sample(cast, 2)
            filler = " ".join(rng.sample(_FILLER, rng.randint(12, 24)))
            if rng.random() < 0.5:
                sentences.append(f"{who} {rng.choice(_VERBS)} {other} {filler}.")
            else:
                sentences.append(f"The {rng.choice(_NOUNS)} of {who} was {filler}.")
        docs.append(f"Report number {index}. " + " ".join(sentences))
    return docs


async def run_once(docs: list[str], *, latency_ms: float, max_async: int) -> dict[str, Any]:
    llm = FakeChatModel({"latency_ms": latency_ms})
    embedding = HashingEmbeddingModel({"dim": 64})
    config = RagConfig(max_async=max_async)
    with tempfile.TemporaryDirectory(prefix="lightrag-bench-") as workdir:
        storages = open_storages(
            StorageConfig(),
            working_dir=Path(workdir),
            workspace="",
            embedding_dim=embedding.dim,
            cosine_threshold=cosine_threshold(config.cosine_threshold, embedding),
        )
        rag = LightRAG(config=config, storages=storages, llm=llm, embedding=embedding)
        await rag.initialize()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await rag.insert(docs)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        counts = await storages.doc_status.status_counts()
        chunks = len(await storages.text_chunks.keys())
        nodes = await storages.graph.node_count()
        await rag.finalize()
    calls = llm.total_calls
    return {
        "docs": len(docs),
        "chunks": chunks,
        "graph_nodes": nodes,
        "status_counts": counts,
        "latency_ms": latency_ms,
        "max_async": max_async,
        "wall_s": round(wall, 3),
        "server_cpu_s_per_doc": round((cpu - llm.cpu_seconds) / len(docs), 4),
        "fake_llm_cpu_s": round(llm.cpu_seconds, 3),
        "llm_calls": dict(llm.calls),
        "llm_max_in_flight": llm.max_in_flight,
        "input_tokens_per_chunk": round(sum(llm.input_tokens.values()) / max(chunks, 1), 1),
        "output_tokens_per_chunk": round(sum(llm.output_tokens.values()) / max(chunks, 1), 1),
        "slot_efficiency": round(calls * latency_ms / 1000 / max_async / wall, 3)
        if latency_ms
        else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 100.0, 1000.0])
    parser.add_argument("--max-async", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object per run")
    args = parser.parse_args(argv)
    docs = synthetic_documents(args.docs, args.seed)
    for latency in args.latency_ms:
        result = asyncio.run(run_once(docs, latency_ms=latency, max_async=args.max_async))
        if args.json:
            print(json.dumps(result))
            continue
        print(f"--- latency {latency:g} ms, max_async {args.max_async}")
        for key, value in result.items():
            print(f"  {key:24} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
