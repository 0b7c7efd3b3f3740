"""HTTP server benchmark: request rate and latency of the API over real uvicorn.

Runs the app (``create_app``) under uvicorn on a loopback port in this process,
with the fake chat model and hashing embedder, file storages in a temp dir, and
a small indexed corpus. Then, for each route below, sends ``--requests``
requests with ``--concurrency`` in flight and reports requests/s and latency
percentiles (for ``/query/stream``: time to the first answer line, too).

- ``GET /health``: the floor (auth, routing, JSON).
- ``POST /query`` (mix, cache hit after the first call): the query path minus the LLM.
- ``POST /query/stream``: NDJSON streaming.
- ``POST /documents/text``: enqueue latency (indexing runs in the background, in the
  same process, so this one competes with the pipeline for the CPU).

The load generator (httpx) shares the process and its event loop with the
server, so the rates are a lower bound; compare runs, not absolute numbers.

    python benchmarks/server_http.py                   # human-readable
    python benchmarks/server_http.py --json --requests 500 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from lightrag.config.models import AppConfig, BackendChoice, ServerConfig
from lightrag.server.app import create_app
from lightrag.testing import register_fakes

CORPUS = [
    f"Person{i} Surname{i} works at Company{i % 7} in City{i % 5}. "
    f"Company{i % 7} partners with Company{(i + 1) % 7}."
    for i in range(20)
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _true(value: bool) -> bool:
    return value


async def _poll(check: Callable[[], Awaitable[bool]], *, pause: float) -> None:
    """Wait until ``check()`` is true (the server exposes no event to wait on)."""
    while True:
        if await check():
            return
        await asyncio.sleep(pause)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _measure(
    name: str, call: Callable[[int], Awaitable[float | None]], requests: int, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    first_bytes: list[float] = []
    slots = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with slots:
            start = time.perf_counter()
            first = await call(index)
            latencies.append(time.perf_counter() - start)
            if first is not None:
                first_bytes.append(first - start)

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(requests)))
    wall = time.perf_counter() - began
    result = {
        "route": name,
        "requests": requests,
        "requests_per_s": round(requests / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p95_ms": round(1000 * _percentile(latencies, 0.95), 2),
    }
    if first_bytes:
        result["first_line_p50_ms"] = round(1000 * statistics.median(first_bytes), 2)
    return result


async def run(requests: int, concurrency: int) -> list[dict[str, Any]]:
    register_fakes()
    workdir = Path(tempfile.mkdtemp(prefix="lightrag-bench-"))
    port = _free_port()
    config = AppConfig(
        server=ServerConfig(
            host="127.0.0.1",
            port=port,
            working_dir=workdir / "rag",
            input_dir=workdir / "inputs",
            log_level="WARNING",
        ),
        llm=BackendChoice(type="fake"),
        embedding=BackendChoice(type="fake"),
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    await _poll(lambda: _true(server.started), pause=0.05)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as client:
        await client.post("/documents/texts", json={"texts": CORPUS})

        async def indexed() -> bool:
            counts = (await client.get("/documents/status_counts")).json()["status_counts"]
            return bool(counts["processed"] + counts["failed"] == len(CORPUS))

        await _poll(indexed, pause=0.1)
        question = {"query": "Where does Person1 Surname1 work?", "mode": "mix"}

        async def health(_: int) -> None:
            (await client.get("/health")).raise_for_status()

        async def insert(index: int) -> None:
            body = {"text": f"Bench{index} Writer{index} visits Town{index}. {time.time_ns()}"}
            (await client.post("/documents/text", json=body)).raise_for_status()

        async def query(_: int) -> None:
            (await client.post("/query", json=question)).raise_for_status()

        async def stream(_: int) -> float | None:
            first = None
            async with client.stream("POST", "/query/stream", json=question) as response:
                async for line in response.aiter_lines():
                    if first is None and '"response"' in line:
                        first = time.perf_counter()
            return first

        results = [
            await _measure("GET /health", health, requests, concurrency),
            await _measure("POST /query (cached)", query, requests, concurrency),
            await _measure("POST /query/stream (cached)", stream, requests, concurrency),
            # last: the documents it enqueues are indexed in the background meanwhile
            await _measure("POST /documents/text", insert, requests, concurrency),
        ]
    server.should_exit = True
    await serving
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="print one JSON list")
    args = parser.parse_args()
    results = asyncio.run(run(args.requests, args.concurrency))
    if args.json:
        print(json.dumps(results))
        return
    for row in results:
        extra = (
            f"  first line p50 {row['first_line_p50_ms']} ms" if "first_line_p50_ms" in row else ""
        )
        print(
            f"{row['route']:<30} {row['requests_per_s']:>8} req/s  "
            f"p50 {row['p50_ms']:>7} ms  p95 {row['p95_ms']:>7} ms{extra}"
        )


if __name__ == "__main__":
    main()
