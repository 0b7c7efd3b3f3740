"""Many workspaces in one server on PostgreSQL: memory, cold start and warm query latency.

Every storage role on one PostgreSQL database (a new database per run, dropped at the
end), the fake chat model and hashing embedder, the app driven in-process through
httpx's ASGI transport. Steps:

1. **baseline**: a single-workspace server (its own database) with ``--docs``
   documents, kept running: its ``/query`` requests (mix mode: keywords, vector and
   graph retrieval, context, answer; every question new, so no cache hit) alternate
   with the pooled server's in step 4, so both see the same machine load.
2. **ingest**: a server with ``--workspaces`` workspaces (created by
   ``POST /workspaces``), ``--docs`` documents each, ``--parallel`` workspaces at a time.
3. **memory**: a fresh server (the pool bound above the workspace count) opens every
   workspace with one cheap request; the Python heap they keep (``tracemalloc``) and the
   RSS growth, each divided by the workspaces, = memory per idle pooled workspace (RSS
   understates it when the heap reuses memory freed earlier).
4. **warm**: the same questions, each to a random open workspace (first a pass where
   most workspaces answer their first question, then one where each answered before),
   and to one workspace again and again; p50s and the ratio to the baseline (target
   <= 1.2).
5. **cold**: a server whose pool holds ``--cold-pool`` engines; the first ``/query``
   to a workspace that is not open (engine built, storages opened) — time to answer.

    python benchmarks/workspaces.py --dsn postgresql://postgres@127.0.0.1:5432/postgres
    python benchmarks/workspaces.py --dsn ... --workspaces 1000 --docs 20 --json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from asgi_lifespan import LifespanManager

from lightrag.config.models import AppConfig, BackendChoice, ServerConfig, StorageConfig
from lightrag.server.app import create_app
from lightrag.storage.postgres.client import PostgresClient, PostgresConfig
from lightrag.testing import register_fakes

HEADER = "LIGHTRAG-WORKSPACE"


def _params(dsn: str) -> dict[str, Any]:
    parts = urlsplit(dsn)
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "database": (parts.path or "/postgres").lstrip("/") or "postgres",
    }


def _corpus(tag: str, docs: int) -> list[str]:
    return [
        f"Person{i} Surname{i} of {tag} works at Company{i % 7} in City{i % 5}. "
        f"Company{i % 7} of {tag} partners with Company{(i + 1) % 7} on project P{i}."
        for i in range(docs)
    ]


def _questions(count: int) -> list[str]:
    return [f"Who works at Company{i % 7} in City{i % 5}, question {i}?" for i in range(count)]


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


@asynccontextmanager
async def _database(admin_params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    name = "lr_bench_ws_" + uuid.uuid4().hex[:8]
    admin = PostgresClient(PostgresConfig(**admin_params))
    await admin.open()
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield {**admin_params, "database": name}
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def _config(
    root: Path, params: dict[str, Any], *, workspace: str, max_engines: int, coordination: str
) -> AppConfig:
    def pg(**extra: Any) -> BackendChoice:
        return BackendChoice.model_validate({"type": "postgres", **params, **extra})

    config = AppConfig(
        server=ServerConfig(
            working_dir=root / "rag", input_dir=root / "inputs", workspace=workspace
        ),
        storage=StorageConfig(kv=pg(), vector=pg(), graph=pg(), doc_status=pg()),
        coordination=pg() if coordination == "postgres" else BackendChoice(type="local"),
        llm=BackendChoice(type="fake"),
        embedding=BackendChoice(type="fake"),
    )
    config.server.workspaces.max_engines = max_engines
    return config


@asynccontextmanager
async def _served(config: AppConfig) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = create_app(config)
    async with (
        LifespanManager(app, startup_timeout=120, shutdown_timeout=600) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url="http://bench",
            timeout=600,
        ) as client,
    ):
        yield client, app


async def _wait_idle(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, int]:
    while True:
        busy = (await client.get("/documents/pipeline_status", headers=headers)).json()["busy"]
        counts = (await client.get("/documents/status_counts", headers=headers)).json()
        counts = counts["status_counts"]
        if not busy and not counts.get("pending") and not counts.get("processing"):
            return dict(counts)
        await asyncio.sleep(0.1)


async def _ingest(client: httpx.AsyncClient, headers: dict[str, str], texts: list[str]) -> None:
    response = await client.post("/documents/texts", json={"texts": texts}, headers=headers)
    response.raise_for_status()
    counts = await _wait_idle(client, headers)
    if counts.get("processed") != len(texts):
        raise RuntimeError(f"ingest of {headers or 'default'} ended with {counts}")


async def _query(client: httpx.AsyncClient, question: str, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    response = await client.post("/query", json={"query": question, "mode": "mix"}, headers=headers)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p90_ms": round(1000 * ordered[int(0.9 * (len(ordered) - 1))], 2),
        "max_ms": round(1000 * ordered[-1], 2),
    }


def _name(index: int) -> str:
    return f"ws{index:05d}"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    register_fakes()
    admin = _params(args.dsn)
    questions = _questions(args.queries)
    results: dict[str, Any] = {
        "workspaces": args.workspaces,
        "docs_per_workspace": args.docs,
        "queries": args.queries,
        "coordination": args.coordination,
    }
    names = [_name(i) for i in range(args.workspaces)]

    def config_of(directory: str, params: dict[str, Any], **kw: Any) -> AppConfig:
        return _config(root / directory, params, coordination=args.coordination, **kw)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        async with (
            _database(admin) as solo_params,
            _database(admin) as params,
            # 1. the baseline: one workspace alone in its own database, kept running so
            # that its queries interleave with the pooled ones (the machine's load drifts)
            _served(config_of("solo", solo_params, workspace="solo", max_engines=1)) as (
                solo,
                _solo_app,
            ),
        ):
            await _ingest(solo, {}, _corpus("solo", args.docs))

            # 2. ingest every workspace, a few at a time
            started = time.perf_counter()
            many_config = config_of("many", params, workspace="", max_engines=args.parallel + 1)
            async with _served(many_config) as (client, _app):
                for name in names:
                    (await client.post("/workspaces", json={"name": name})).raise_for_status()
                for first in range(0, len(names), args.parallel):
                    batch = names[first : first + args.parallel]
                    await asyncio.gather(
                        *(_ingest(client, {HEADER: n}, _corpus(n, args.docs)) for n in batch)
                    )
            results["ingest_seconds"] = round(time.perf_counter() - started, 1)

            # 3. memory per idle pooled workspace, then 4. warm queries
            all_open = config_of("many", params, workspace="", max_engines=len(names) + 1)
            async with _served(all_open) as (client, app):
                await _query(client, "warm-up", {HEADER: names[0]})
                await _query(solo, "warm-up", {})
                gc.collect()
                before = _rss_bytes()
                tracemalloc.start()  # what the opened engines keep, at Python-object level
                opened = time.perf_counter()
                for name in names:
                    response = await client.get("/documents/status_counts", headers={HEADER: name})
                    response.raise_for_status()
                open_seconds = time.perf_counter() - opened
                gc.collect()
                kept, _peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                after = _rss_bytes()
                pool = app.state.pool
                results["memory"] = {
                    "rss_before_mib": round(before / 2**20, 1),
                    "rss_all_open_mib": round(after / 2**20, 1),
                    "rss_per_idle_workspace_kib": round((after - before) / len(names) / 1024, 1),
                    "heap_per_idle_workspace_kib": round(kept / len(names) / 1024, 1),
                    "engines_open": len(pool.open_names),
                    "database_clients": app.state.clients.open_count(),
                    "open_all_seconds": round(open_seconds, 2),
                }
                rng = random.Random(7)
                single: list[float] = []
                first_answers: list[float] = []
                for question in questions:  # interleaved: baseline, then a random workspace
                    single.append(await _query(solo, question, {}))
                    first_answers.append(
                        await _query(client, question, {HEADER: rng.choice(names)})
                    )
                for name in names:  # every workspace answers once ...
                    await _query(client, f"first question of {name}", {HEADER: name})
                again: list[float] = []
                same: list[float] = []
                for question in questions:  # ... then again, interleaved with the baseline
                    single.append(await _query(solo, question + " again", {}))
                    again.append(
                        await _query(client, question + " again", {HEADER: rng.choice(names)})
                    )
                    same.append(await _query(client, question + " same", {HEADER: names[0]}))
            results["single_workspace_query"] = _ms(single)
            results["warm_random_workspace_query"] = _ms(first_answers + again)
            results["warm_random_answered_before_query"] = _ms(again)
            results["warm_same_workspace_query"] = _ms(same)
            results["warm_vs_single_p50"] = round(
                results["warm_random_workspace_query"]["p50_ms"]
                / results["single_workspace_query"]["p50_ms"],
                2,
            )

            # 5. cold: first answer from a workspace whose engine is not open
            cold_config = config_of("many", params, workspace="", max_engines=args.cold_pool)
            async with _served(cold_config) as (client, app):
                rng = random.Random(11)
                sample = rng.sample(names, min(args.cold_samples, len(names)))
                cold = []
                for index, name in enumerate(sample):
                    if app.state.pool.get_open(name) is not None:
                        continue
                    question = questions[index % len(questions)]
                    cold.append(await _query(client, question, {HEADER: name}))
                results["cold_first_answer"] = {**_ms(cold), "samples": len(cold)}
                results["evictions"] = app.state.pool.evictions
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="postgresql://user:pw@host:port/db")
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--docs", type=int, default=20, help="documents per workspace")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=8, help="workspaces ingested at once")
    parser.add_argument("--cold-pool", type=int, default=8, help="pool bound for the cold step")
    parser.add_argument("--cold-samples", type=int, default=30)
    parser.add_argument("--coordination", choices=("local", "postgres"), default="local")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
