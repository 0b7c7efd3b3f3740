"""Vector storage benchmark: upsert throughput and query latency, any backend by registry name.

Core (backend-independent): build a storage by its registry name and params, upsert
``--count`` random unit vectors of dimension ``--dim`` in batches of ``--batch``
(``index_done`` included), then time ``--queries`` single queries (top_k 40,
threshold -1 so every query ranks the whole store) and report p50/p95.

Backends (``BACKENDS``): each entry gives default params and, for servers, how to
start one for the run (``--launch``: the test launchers of ``tests/integration/servers``,
on 127.0.0.1 with data in a temporary directory, stopped afterwards).

    PYTHONPATH=. python benchmarks/vector_stores.py --backend milvus --launch --count 10000 100000
    PYTHONPATH=. python benchmarks/vector_stores.py --backend postgres --launch
    python benchmarks/vector_stores.py --backend faiss --count 10000 100000
    python benchmarks/vector_stores.py --backend chroma --params '{"url": "http://127.0.0.1:8000"}'
    python benchmarks/vector_stores.py --backend chroma --params '{"local_path": "cdata"}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lightrag.registry.storage import storage_registry
from lightrag.vocabulary.storage import StorageContext

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class BenchBackend:
    """Default params of one backend and, for a server, the launcher class and its param."""

    params: dict[str, Any] = field(default_factory=dict)
    launcher: str | None = None  # "module:Class" under tests/integration/servers
    dsn_param: str | None = None  # the param that receives the launched server's DSN
    dsn_params: str | None = None  # or "module:function" turning the DSN into params


BACKENDS: dict[str, BenchBackend] = {
    "nano": BenchBackend(),
    "milvus": BenchBackend(
        {"uri": "http://127.0.0.1:19530", "flush_on_index_done": True},
        "milvus:MilvusLiteLauncher",
        dsn_param="uri",
    ),
    "chroma": BenchBackend(
        {"url": "http://127.0.0.1:8000"}, "chroma:ChromaLauncher", dsn_param="url"
    ),
    "postgres": BenchBackend(
        {"host": "127.0.0.1", "vector_table": "bench_vectors"},
        "postgres:PostgresLauncher",
        dsn_params="postgres:params_from_dsn",
    ),
    "tidb": BenchBackend(
        {"host": "127.0.0.1", "vector_table": "bench_vectors"},
        "tidb:TiDBLauncher",
        dsn_params="tidb:params_from_dsn",
    ),
    "faiss": BenchBackend(),
    "qdrant": BenchBackend(),  # local mode in the working dir; --params '{"url": ...}' for a server
}


def unit_vectors(rng: np.random.Generator, count: int, dim: int) -> np.ndarray:
    rows = rng.normal(size=(count, dim)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


async def run(
    backend: str,
    params: dict[str, Any],
    count: int,
    dim: int,
    batch: int,
    queries: int,
    working_dir: Path,
) -> dict[str, Any]:
    """Upsert ``count`` vectors then time ``queries`` queries; the figures as a dict."""
    cls = storage_registry("vector").load(backend)
    rng = np.random.default_rng(0)
    ctx = StorageContext(
        working_dir=working_dir,
        namespace="bench_vectors",
        workspace="bench",
        embedding_dim=dim,
        meta_fields=frozenset({"source_id"}),
    )
    storage = cls(ctx, params)
    await storage.initialize()
    try:
        await storage.drop()
        started = time.perf_counter()
        for start in range(0, count, batch):
            size = min(batch, count - start)
            records = {
                f"v{start + i}": {"source_id": f"doc-{(start + i) % 97}"} for i in range(size)
            }
            await storage.upsert(records, unit_vectors(rng, size, dim))
        await storage.index_done()
        upsert_s = time.perf_counter() - started
        stored = await storage.count()
        print(f"{backend}: {count} upserted in {upsert_s:.1f} s; querying", file=sys.stderr)
        probes = unit_vectors(rng, queries, dim)
        latencies = []
        for probe in probes:
            began = time.perf_counter()
            await storage.query(probe, top_k=40, threshold=-1.0)
            latencies.append((time.perf_counter() - began) * 1000)
        latencies.sort()
        await storage.drop()
    finally:
        await storage.finalize()
        await ctx.clients.close()
    return {
        "backend": backend,
        "count": count,
        "stored": stored,
        "dim": dim,
        "batch": batch,
        "upsert_s": round(upsert_s, 2),
        "upsert_per_s": round(count / upsert_s, 1),
        "query_p50_ms": round(statistics.median(latencies), 2),
        "query_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
    }


def _servers_attr(target: str) -> Any:
    """``module:name`` of ``tests/integration/servers``."""
    sys.path.insert(0, str(REPO / "tests"))
    module_name, attr = target.split(":")
    module = __import__(f"integration.servers.{module_name}", fromlist=[attr])
    return getattr(module, attr)


@contextmanager
def launched(entry: BenchBackend) -> Iterator[dict[str, Any]]:
    """Start the entry's test server for the run; yields the params that reach it."""
    if entry.launcher is None:
        raise SystemExit("this backend has no server to launch")
    launcher = _servers_attr(entry.launcher)()
    server = launcher.launch()
    try:
        if entry.dsn_params is not None:
            yield _servers_attr(entry.dsn_params)(server.dsn)
        else:
            yield {str(entry.dsn_param): server.dsn}
    finally:
        launcher.stop(server)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", required=True, help="registry name: " + ", ".join(BACKENDS))
    parser.add_argument("--params", default=None, help="JSON params (default: the entry's)")
    parser.add_argument("--launch", action="store_true", help="start the test server for the run")
    parser.add_argument("--count", type=int, nargs="+", default=[10_000])
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    entry = BACKENDS.get(args.backend, BenchBackend())
    params = json.loads(args.params) if args.params else dict(entry.params)

    def bench(params: dict[str, Any]) -> None:
        for count in args.count:
            with tempfile.TemporaryDirectory() as tmp:
                figures = asyncio.run(
                    run(args.backend, params, count, args.dim, args.batch, args.queries, Path(tmp))
                )
            print(json.dumps(figures), flush=True)

    if args.launch:
        with launched(entry) as reach:
            bench({**params, **reach})
    else:
        bench(params)


if __name__ == "__main__":
    main()
