"""Graph storage operations of any registered graph backend: batch upserts and subgraphs.

Builds a random graph (default 10k nodes, 30k edges; one endpoint in five drawn from 50
hubs, so degrees vary) in a fresh workspace, then measures

- batch upsert throughput: ``upsert_nodes`` and ``upsert_edges`` in batches of
  ``--batch`` (nodes/s, edges/s; ``index_done`` timed on its own: file backends
  persist there),
- ``subgraph(start, max_depth=3, max_nodes=1000)`` from ``--calls`` random start nodes
  (p50 / p95 / max latency, mean nodes returned),
- the batch reads of retrieval: ``node_degrees`` and ``get_nodes_edges`` of 100 ids,

and drops the workspace again. The backend is a graph registry name (``networkx``,
``postgres``, ``neo4j``, ... or an alias). Its server comes from ``--param key=value``
(the backend's own parameters, e.g. ``--param uri=bolt://host:7687``) or, when none is
given, from the test launcher listed for it in ``SERVERS`` (started for the run and
stopped after); file backends need neither. A new backend plugs in by name: add a
``SERVERS`` line turning its launcher's ``RunningServer`` into its parameters.

    PYTHONPATH=. python benchmarks/graph_ops.py --backend neo4j
    PYTHONPATH=. python benchmarks/graph_ops.py --backend postgres --json
    PYTHONPATH=. python benchmarks/graph_ops.py --backend networkx
    PYTHONPATH=. python benchmarks/graph_ops.py --backend neo4j --param uri=bolt://h:7687 \
        --param username=neo4j --param password=...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from lightrag.registry.storage import storage_registry
from lightrag.vocabulary.storage import StorageContext

ROOT = Path(__file__).resolve().parents[1]

# backend name -> (launcher module under tests/integration/servers, launcher class,
#                  function of that module turning the server's DSN into the backend's params)
SERVERS: dict[str, tuple[str, str, str]] = {
    "age": ("postgres", "PostgresLauncher", "params_from_dsn"),
    "gremlin": ("gremlin", "GremlinLauncher", "gremlin_params"),
    "mongo": ("mongo", "SecantusLauncher", "params_from_uri"),
    "neo4j": ("neo4j", "Neo4jLauncher", "params_from_uri"),
    "postgres": ("postgres", "PostgresLauncher", "params_from_dsn"),
    "tidb": ("tidb", "TiDBLauncher", "params_from_dsn"),
}


@contextlib.contextmanager
def launched(backend: str) -> Iterator[dict[str, Any]]:
    """The params of a server started by the backend's test launcher (stopped afterwards)."""
    module_name, launcher_name, params_name = SERVERS[backend]
    sys.path.insert(0, str(ROOT / "tests"))
    module = importlib.import_module(f"integration.servers.{module_name}")
    launcher = getattr(module, launcher_name)()
    began = time.perf_counter()
    server = launcher.launch()
    print(f"# {backend}: server started by the test launcher in "
          f"{time.perf_counter() - began:.1f} s", file=sys.stderr)  # fmt: skip
    try:
        yield dict(getattr(module, params_name)(server.dsn))
    finally:
        launcher.stop(server)


def random_edges(nodes: int, edges: int, rng: random.Random) -> list[tuple[int, int]]:
    """``edges`` distinct pairs; one endpoint in five is drawn from 50 hubs."""
    hubs = min(50, nodes)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < edges:
        a = rng.randrange(hubs) if rng.random() < 0.2 else rng.randrange(nodes)
        b = rng.randrange(nodes)
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    return sorted(pairs)


async def timed(calls: int, make: Callable[[int], Awaitable[Any]]) -> tuple[dict[str, Any], list]:
    times: list[float] = []
    results: list[Any] = []
    for i in range(calls):
        start = time.perf_counter()
        results.append(await make(i))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }, results


async def run(backend: str, params: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    registry = storage_registry("graph")
    cls = registry.load(backend)
    rng = random.Random(7)
    names = [f"Entity {i:05d}" for i in range(args.nodes)]
    pairs = random_edges(args.nodes, args.edges, rng)
    with tempfile.TemporaryDirectory(prefix="graph-bench-") as working_dir:
        ctx = StorageContext(
            working_dir=Path(working_dir),
            namespace="chunk_entity_relation",
            workspace="bench_" + uuid.uuid4().hex[:8],
        )
        graph = cls(ctx, params)
        await graph.initialize()
        report: dict[str, Any] = {
            "backend": registry.canonical(backend),
            "nodes": args.nodes,
            "edges": args.edges,
            "batch": args.batch,
        }
        try:
            start = time.perf_counter()
            for i in range(0, len(names), args.batch):
                await graph.upsert_nodes(
                    {
                        n: {"entity_id": n, "entity_type": "thing", "description": f"about {n}",
                            "source_id": f"chunk-{i}", "file_path": "bench.txt"}
                        for n in names[i : i + args.batch]
                    }
                )  # fmt: skip
            seconds = time.perf_counter() - start
            report["upsert_nodes_per_s"] = round(args.nodes / seconds)
            start = time.perf_counter()
            for i in range(0, len(pairs), args.batch):
                await graph.upsert_edges(
                    [
                        (names[a], names[b], {"weight": 1.0, "description": "related",
                                              "keywords": "k", "source_id": "chunk-0"})
                        for a, b in pairs[i : i + args.batch]
                    ]
                )  # fmt: skip
            seconds = time.perf_counter() - start
            report["upsert_edges_per_s"] = round(args.edges / seconds)
            start = time.perf_counter()
            await graph.index_done()
            report["index_done_s"] = round(time.perf_counter() - start, 2)

            starts = [names[rng.randrange(args.nodes)] for _ in range(args.calls)]
            await graph.subgraph(starts[0], max_depth=args.depth, max_nodes=args.max_nodes)
            key = f"subgraph_depth{args.depth}_max{args.max_nodes}"
            report[key], kgs = await timed(
                args.calls,
                lambda i: graph.subgraph(starts[i], max_depth=args.depth, max_nodes=args.max_nodes),
            )
            report[key]["mean_nodes"] = round(statistics.mean(len(kg.nodes) for kg in kgs))
            report[key]["mean_edges"] = round(statistics.mean(len(kg.edges) for kg in kgs))
            report[key]["truncated"] = sum(kg.is_truncated for kg in kgs)
            batches = [rng.sample(names, 100) for _ in range(args.calls)]
            report["node_degrees_100"], _ = await timed(
                args.calls, lambda i: graph.node_degrees(batches[i])
            )
            report["get_nodes_edges_100"], _ = await timed(
                args.calls, lambda i: graph.get_nodes_edges(batches[i])
            )
        finally:
            await graph.drop()
            await graph.finalize()
            await ctx.clients.close()
    return report


def parse_param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key, json.loads(value)  # numbers, booleans
    except json.JSONDecodeError:
        return key, value


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", required=True, help="graph registry name, e.g. neo4j")
    parser.add_argument("--param", type=parse_param, action="append", default=[],
                        help="a backend parameter key=value (repeat); none: launch a server")  # fmt: skip
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=5_000, help="records per upsert call")
    parser.add_argument("--calls", type=int, default=20, help="timed calls per read")
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--max-nodes", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    backend = storage_registry("graph").canonical(args.backend)
    params = dict(args.param)
    with contextlib.ExitStack() as stack:
        if not params and backend in SERVERS:
            params = stack.enter_context(launched(backend))
        report = asyncio.run(run(backend, params, args))
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:32} {value}")


if __name__ == "__main__":
    main()
