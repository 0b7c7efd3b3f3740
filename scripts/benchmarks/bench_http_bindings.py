"""Throughput of the HTTP bindings against the local protocol server (no real model).

Measures what the bindings themselves cost: pooled connections, the ``max_async``
semaphore, batching, JSON/base64 decoding and SSE/NDJSON parsing. It reuses the
protocol-faithful server of the binding tests (``tests/unit/llm``).

    python scripts/benchmarks/bench_http_bindings.py [--texts 4096] [--calls 400]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "unit" / "llm"))

from model_protocol_server import ModelProtocolServer

from lightrag.llm.ollama import OllamaChatModel, OllamaEmbeddingModel
from lightrag.llm.openai import OpenAIChatModel, OpenAIEmbeddingModel


async def bench(url: str, texts: int, calls: int) -> None:
    words = [f"sentence {i} about graph retrieval and entity number {i % 97}" for i in range(texts)]
    for name, emb in (
        (
            "openai embed (base64)",
            OpenAIEmbeddingModel({"host": f"{url}/v1", "model": "e", "dim": 8}),
        ),
        ("ollama embed", OllamaEmbeddingModel({"host": url, "model": "e", "dim": 8})),
    ):
        started = time.perf_counter()
        vectors = await emb.embed(words)
        elapsed = time.perf_counter() - started
        print(
            f"{name:28s} {len(vectors) / elapsed:10.0f} texts/s  ({elapsed:.2f}s, batch 32, 8 in flight)"
        )
        await emb.aclose()
    for name, llm in (
        ("openai complete", OpenAIChatModel({"host": f"{url}/v1", "model": "m", "max_async": 8})),
        ("ollama complete", OllamaChatModel({"host": url, "model": "m", "max_async": 8})),
    ):
        started = time.perf_counter()
        await asyncio.gather(*(llm.complete(f"question {i}") for i in range(calls)))
        elapsed = time.perf_counter() - started
        print(f"{name:28s} {calls / elapsed:10.0f} calls/s  ({elapsed:.2f}s, 8 in flight)")
        started = time.perf_counter()
        pieces = 0
        for i in range(calls // 10):
            async for _ in llm.stream(f"streamed question number {i} " * 20):
                pieces += 1
        elapsed = time.perf_counter() - started
        print(f"{name.replace('complete', 'stream'):28s} {pieces / elapsed:10.0f} pieces/s")
        await llm.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=4096)
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    server = ModelProtocolServer()
    server.start()
    try:
        asyncio.run(bench(server.url, args.texts, args.calls))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
