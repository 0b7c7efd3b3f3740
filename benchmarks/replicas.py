"""Scale-out: ingest wall time of N server replicas on one PostgreSQL versus one replica.

Starts a PostgreSQL with the test launcher, then for each replica count N: N server
processes (``python -m lightrag.testing.serve``, every storage on PostgreSQL,
``postgres`` coordination, the fake chat model with ``--latency-ms`` per call,
``max_async`` 4 each) in a fresh workspace; posts the documents spread over the N
replicas and times until every one is processed. Prints one JSON line per N and the
speed-up of each N over N=1.

    python benchmarks/replicas.py --docs 150 --replicas 1 3
    python benchmarks/replicas.py --corpus distinct   # no entity shared between documents
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import synthetic_documents
from ingest_server import _free_port, _launched
from served import wait_ready

from lightrag.vocabulary.types import GRAPH_FIELD_SEP


def _documents(count: int, corpus: str) -> list[str]:
    if corpus == "synthetic":  # 15 popular entities shared by many documents
        return synthetic_documents(count)
    return [
        f"in report {i}, Person{i} Alder works with Person{i} Birch at Company{i} Works. "
        f"Person{i} Birch founded Company{i} Works in City{i} Harbor."
        for i in range(count)
    ]


def _processed(client: httpx.Client) -> int:
    counts = client.get("/documents/status_counts").json()["status_counts"]
    return int(counts.get("processed", 0)) + int(counts.get("failed", 0))


SUMMARY_THRESHOLD = 8  # rag.force_llm_summary_on_merge's default


def _description_fragments(client: httpx.Client) -> list[int]:
    """Per entity of the graph, how many ``<SEP>``-joined fragments its description has
    (a summary counts one): how far merges left descriptions past the summary threshold."""
    graph = client.get("/graphs", params={"label": "*", "max_nodes": 100000}).json()
    return [
        len(str(node["properties"].get("description", "")).split(GRAPH_FIELD_SEP))
        for node in graph["nodes"]
    ] or [0]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(
    replicas: int, texts: list[str], env_extra: dict[str, str], latency_ms: float
) -> dict[str, Any]:
    workspace = f"bench{uuid.uuid4().hex[:8]}"
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="lightrag-replicas-") as tmp:
        clients = []
        try:
            for index in range(replicas):
                port = _free_port()
                log = Path(tmp) / f"server-{index}.log"
                command = [
                    sys.executable,
                    "-m",
                    "lightrag.testing.serve",
                    "+recipe=postgres",
                    "llm=fake",
                    "embedding=fake",
                    f"llm.latency_ms={latency_ms}",
                    "rag.max_async=4",
                    "rag.max_graph_nodes=100000",
                    f"server.port={port}",
                    "server.host=127.0.0.1",
                    f"server.working_dir={tmp}/rag{index}",
                    f"server.input_dir={tmp}/inputs{index}",
                    f"server.workspace={workspace}",
                    f"server.replicas={replicas}",
                    *(
                        [f"llm.calls_log={os.environ['CALLS_LOG']}-{replicas}-{index}"]
                        if os.environ.get("CALLS_LOG")
                        else []
                    ),
                ]
                env = {**os.environ, **env_extra, "POSTGRES_VECTOR_TABLE": "bench_vectors"}
                with log.open("wb") as handle:
                    processes.append(
                        subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
                    )
                client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
                wait_ready(client, processes[-1], log, timeout=120)
                clients.append(client)
            started = time.perf_counter()
            step = max(1, len(texts) // (4 * replicas))
            for turn, first in enumerate(range(0, len(texts), step)):
                batch = texts[first : first + step]
                reply = clients[turn % replicas].post("/documents/texts", json={"texts": batch})
                reply.raise_for_status()
            deadline = time.monotonic() + 900
            while _processed(clients[0]) < len(texts):
                if time.monotonic() > deadline:
                    raise SystemExit("documents not processed within 900 s")
                time.sleep(0.1)
            wall = time.perf_counter() - started
            cpu = sum(_cpu_seconds(process.pid) for process in processes)
            fragments = _description_fragments(clients[0])
        finally:
            for client in clients:
                client.close()
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
    return {
        "replicas": replicas,
        "docs": len(texts),
        "wall_s": round(wall, 2),
        "server_cpu_s": round(cpu, 1),
        "max_fragments": max(fragments),
        "over_threshold": sum(1 for n in fragments if n >= SUMMARY_THRESHOLD),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=150)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--corpus", choices=["synthetic", "distinct"], default="synthetic")
    args = parser.parse_args(argv)
    texts = _documents(args.docs, args.corpus)
    results = []
    with _launched("postgres") as (_, env):
        for count in args.replicas:
            result = run(count, texts, env, args.latency_ms)
            results.append(result)
            print(json.dumps({**result, "corpus": args.corpus}), flush=True)
    base = next((r for r in results if r["replicas"] == 1), None)
    if base:
        for result in results:
            print(f"{result['replicas']} replicas: {base['wall_s'] / result['wall_s']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
