"""Waiting on a server process the benchmarks started: ready, then done indexing."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

__all__ = ["wait_processed", "wait_ready"]


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def wait_ready(
    client: httpx.Client,
    process: subprocess.Popen[bytes],
    log: Path,
    timeout: float = 300.0,
    poll: float = 0.2,
) -> None:
    """Until ``/health`` answers 200; exits with the log's tail if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{_log_tail(log)}")
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(poll)
    raise SystemExit(f"server not ready:\n{_log_tail(log)}")


def wait_processed(
    client: httpx.Client, count: int, timeout: float, poll: float = 0.2
) -> dict[str, int]:
    """The status counts once ``count`` documents are processed or failed and the
    pipeline is idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = client.get("/documents/status_counts").json()["status_counts"]
        busy = client.get("/documents/pipeline_status").json().get("busy", False)
        if counts.get("processed", 0) + counts.get("failed", 0) >= count and not busy:
            return {key: int(value) for key, value in counts.items()}
        time.sleep(poll)
    raise SystemExit(f"documents not processed within {timeout:.0f} s")
