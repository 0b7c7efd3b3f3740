"""PostgreSQL plain-table graph benchmark: bulk load, subgraph walks, degrees, label reads.

Builds a random graph (default 10k nodes, 30k edges, a few hubs so degrees vary) in
a fresh workspace of the given server, times the reads the web UI and the query
engine make, and drops the workspace again.

    python benchmarks/postgres_graph.py --dsn postgresql://postgres@127.0.0.1:5432/postgres
    python benchmarks/postgres_graph.py --dsn ... --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lightrag.storage.postgres.graph import PostgresGraphStorage
from lightrag.vocabulary.storage import StorageContext


def _params(dsn: str) -> dict[str, Any]:
    parts = urlsplit(dsn)
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "database": (parts.path or "/postgres").lstrip("/") or "postgres",
    }


def _random_edges(nodes: int, edges: int, rng: random.Random) -> list[tuple[int, int]]:
    """``edges`` distinct pairs; one endpoint in five is drawn from 50 hubs."""
    hubs = list(range(50))
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < edges:
        a = rng.choice(hubs) if rng.random() < 0.2 else rng.randrange(nodes)
        b = rng.randrange(nodes)
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    return sorted(pairs)


async def _timed(
    calls: int, make: Callable[[int], Awaitable[Any]]
) -> tuple[dict[str, float], list[Any]]:
    times: list[float] = []
    results: list[Any] = []
    for i in range(calls):
        start = time.perf_counter()
        results.append(await make(i))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
        "max_ms": round(times[-1], 2),
    }, results


async def run(dsn: str, nodes: int, edges: int, calls: int, max_nodes: int) -> dict[str, Any]:
    rng = random.Random(7)
    names = [f"Entity {i:05d}" for i in range(nodes)]
    pairs = _random_edges(nodes, edges, rng)
    ctx = StorageContext(
        working_dir=Path(tempfile.gettempdir()),
        namespace="chunk_entity_relation",
        workspace="bench_" + uuid.uuid4().hex[:8],
    )
    graph = PostgresGraphStorage(ctx, _params(dsn))
    await graph.initialize()
    report: dict[str, Any] = {"nodes": nodes, "edges": edges, "calls": calls}
    try:
        start = time.perf_counter()
        await graph.upsert_nodes(
            {
                n: {"entity_id": n, "entity_type": "thing", "description": f"about {n}"}
                for n in names
            }
        )
        report["load_nodes_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        for i in range(0, len(pairs), 5000):
            await graph.upsert_edges(
                [
                    (names[a], names[b], {"weight": 1.0, "description": "related", "keywords": "k"})
                    for a, b in pairs[i : i + 5000]
                ]
            )
        report["load_edges_s"] = round(time.perf_counter() - start, 2)
        async with graph._db.pool.acquire() as conn:  # planner statistics, as autovacuum would
            await conn.execute("ANALYZE lightrag_graph_nodes; ANALYZE lightrag_graph_edges")

        starts = [names[rng.randrange(nodes)] for _ in range(calls)]
        report["subgraph_depth2"], kgs = await _timed(
            calls, lambda i: graph.subgraph(starts[i], max_depth=2, max_nodes=max_nodes)
        )
        report["subgraph_depth2"]["mean_nodes"] = round(
            statistics.mean(len(kg.nodes) for kg in kgs), 1
        )
        report["subgraph_depth2"]["truncated"] = sum(kg.is_truncated for kg in kgs)
        hub = names[0]
        report["subgraph_depth2_from_hub"], _ = await _timed(
            calls, lambda i: graph.subgraph(hub, max_depth=2, max_nodes=max_nodes)
        )
        report["subgraph_depth3"], _ = await _timed(
            calls, lambda i: graph.subgraph(starts[i], max_depth=3, max_nodes=max_nodes)
        )
        report["subgraph_star"], _ = await _timed(
            calls, lambda i: graph.subgraph("*", max_depth=3, max_nodes=max_nodes)
        )
        batches = [rng.sample(names, 100) for _ in range(calls)]
        report["node_degrees_100"], _ = await _timed(
            calls, lambda i: graph.node_degrees(batches[i])
        )
        report["get_nodes_edges_100"], _ = await _timed(
            calls, lambda i: graph.get_nodes_edges(batches[i])
        )
        report["popular_labels_300"], _ = await _timed(calls, lambda i: graph.popular_labels(300))
        report["search_labels_50"], _ = await _timed(
            calls, lambda i: graph.search_labels(f"entity {i:03d}", 50)
        )
    finally:
        await graph.drop()
        await graph.finalize()
        await ctx.clients.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="postgresql://user:password@host:port/db")
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=30_000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--max-nodes", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(run(args.dsn, args.nodes, args.edges, args.calls, args.max_nodes))
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
