"""Ingest through the real server process, per storage recipe: server CPU per document.

Starts ``python -m lightrag.testing.serve`` (the launcher with the 0 ms fake chat model
and the hashing embedder) on a loopback port, posts N synthetic documents to
``/documents/texts``, waits until every one is processed, and reads the server
process's CPU time from ``/proc`` before and after. Storages are the file defaults,
or a database started by the test launchers (``--launch postgres``), or any Hydra
overrides (``--overrides 'storage/kv=redis'`` with the env vars they read).

    python benchmarks/ingest_server.py --docs 100                 # file storages
    nice -n 10 python benchmarks/ingest_server.py --docs 10000 --timeout 5400
    python benchmarks/ingest_server.py --docs 100 --launch postgres
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ingest import synthetic_documents
from served import wait_processed, wait_ready

_STORAGE_ROLES = ("kv", "vector", "graph", "doc_status")
_POST_BATCH = 500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


@contextmanager
def _launched(name: str) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Start a database with the test launcher; the overrides and env that select it."""
    if name != "postgres":
        raise SystemExit(f"--launch knows only 'postgres', not {name!r}")
    from integration.servers.postgres import PostgresLauncher, params_from_dsn

    launcher = PostgresLauncher()
    server = launcher.launch()
    try:
        params = params_from_dsn(server.dsn)
        env = {
            "POSTGRES_HOST": str(params["host"]),
            "POSTGRES_PORT": str(params["port"]),
            "POSTGRES_USER": str(params["user"]),
            "POSTGRES_PASSWORD": str(params.get("password") or ""),
            "POSTGRES_DATABASE": str(params["database"]),
        }
        yield [f"storage/{role}=postgres" for role in _STORAGE_ROLES], env
    finally:
        launcher.stop(server)


def run(
    docs: int, overrides: list[str], env_extra: dict[str, str], *, timeout: float = 600
) -> dict[str, Any]:
    texts = synthetic_documents(docs)
    with tempfile.TemporaryDirectory(prefix="lightrag-bench-") as tmp:
        port = _free_port()
        log = Path(tmp) / "server.log"
        command = [
            sys.executable,
            "-m",
            "lightrag.testing.serve",
            "llm=fake",
            "embedding=fake",
            f"server.port={port}",
            "server.host=127.0.0.1",
            f"server.working_dir={tmp}/rag",
            f"server.input_dir={tmp}/inputs",
            *overrides,
        ]
        env = {**os.environ, **env_extra}
        with log.open("wb") as handle:
            process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                wait_ready(client, process, log, timeout=120)
                cpu_before = _cpu_seconds(process.pid)
                started = time.perf_counter()
                for start in range(0, docs, _POST_BATCH):  # one body stays under the size limit
                    batch = range(start, min(start + _POST_BATCH, docs))
                    reply = client.post(
                        "/documents/texts",
                        json={
                            "texts": [texts[i] for i in batch],
                            "file_sources": [f"doc-{i}.txt" for i in batch],
                        },
                    )
                    reply.raise_for_status()
                counts = wait_processed(client, docs, timeout=timeout)
                wall = time.perf_counter() - started
                cpu = _cpu_seconds(process.pid) - cpu_before
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {
        "docs": docs,
        "overrides": overrides,
        "wall_s": round(wall, 2),
        "server_cpu_s": round(cpu, 2),
        "server_cpu_per_doc_s": round(cpu / docs, 4),
        "status_counts": counts,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--launch", help="start a database with the test launcher: postgres")
    parser.add_argument("--overrides", default="", help="Hydra overrides, space-separated")
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait for processing (N=10,000: 3600)"
    )
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        overrides, env = ([], {})
        if args.launch:
            overrides, env = stack.enter_context(_launched(args.launch))
        overrides = [*overrides, *args.overrides.split()]
        print(json.dumps(run(args.docs, overrides, env, timeout=args.timeout)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
