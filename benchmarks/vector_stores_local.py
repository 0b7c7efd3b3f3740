"""Vector storage throughput: upsert N random unit vectors, then query latency p50/p95.

Builds a storage by registry name (``nano``, ``faiss``, ``qdrant``...) with its
params, upserts ``N`` random unit vectors of dimension ``D`` in batches, persists
(``index_done``), then times 200 single queries (top_k 40, threshold -1 so every
query ranks the whole store).

    python benchmarks/vector_stores_local.py --backend faiss --count 10000 --dim 1024
    python benchmarks/vector_stores_local.py --backend qdrant --params '{"url": "http://..."}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from lightrag.registry.storage import storage_registry
from lightrag.vocabulary.storage import StorageContext


async def run(
    backend: str, params: dict[str, Any], count: int, dim: int, batch: int, queries: int
) -> dict[str, Any]:
    cls = storage_registry("vector").load(backend)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = StorageContext(
            working_dir=Path(tmp),
            namespace="bench_vectors",
            workspace="bench",
            embedding_dim=dim,
            meta_fields=frozenset({"source_id"}),
        )
        storage = cls(ctx, params)
        await storage.initialize()
        try:
            started = time.perf_counter()
            for start in range(0, count, batch):
                size = min(batch, count - start)
                rows = rng.normal(size=(size, dim)).astype(np.float32)
                rows /= np.linalg.norm(rows, axis=1, keepdims=True)
                records = {f"v{start + i}": {"source_id": f"c{start + i}"} for i in range(size)}
                await storage.upsert(records, rows)
            upserted = time.perf_counter() - started
            await storage.index_done()
            persisted = time.perf_counter() - started - upserted
            latencies = []
            for _ in range(queries):
                vector = rng.normal(size=dim).astype(np.float32)
                t0 = time.perf_counter()
                await storage.query(vector, top_k=40, threshold=-1.0)
                latencies.append((time.perf_counter() - t0) * 1000)
            latencies.sort()
            return {
                "backend": backend,
                "count": count,
                "dim": dim,
                "upsert_per_s": round(count / upserted),
                "persist_s": round(persisted, 2),
                "query_p50_ms": round(statistics.median(latencies), 2),
                "query_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 2),
            }
        finally:
            await storage.drop()
            await storage.finalize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", required=True, help="vector registry name")
    parser.add_argument("--params", default="{}", help="backend params as JSON")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    result = asyncio.run(
        run(args.backend, json.loads(args.params), args.count, args.dim, args.batch, args.queries)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
