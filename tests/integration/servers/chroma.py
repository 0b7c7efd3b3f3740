"""Chroma test server: ``chroma run`` from the chromadb package (PyPI).

Fixture ``chroma_server``: the URL in ``LIGHTRAG_TEST_CHROMA_URL`` when set, else a
``chroma run`` server started here on 127.0.0.1 (``pip install chromadb`` if missing).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .base import LaunchError, RunningServer, ServerLauncher, spawn
from .fixtures import server_or_skip

__all__ = ["ChromaLauncher", "chroma_server"]


class ChromaLauncher(ServerLauncher):
    name = "chroma"
    start_timeout = 120.0

    def _binary(self) -> str | None:
        found = shutil.which("chroma")
        if found:
            return found
        beside = Path(sys.executable).with_name("chroma")
        return str(beside) if beside.exists() else None

    def install(self) -> None:
        if self._binary():
            return
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "chromadb"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not self._binary():
            raise LaunchError(f"pip install chromadb failed: {done.stderr[-2000:]}")

    def start(self, data_dir: Path, port: int) -> RunningServer:
        binary = self._binary()
        if binary is None:
            raise LaunchError("chromadb (the chroma command) is not installed")
        command = [binary, "run", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--path", str(data_dir / "data")]
        pid = spawn(command, data_dir / "server.log")
        url = f"http://127.0.0.1:{port}"
        return RunningServer(self.name, url, "127.0.0.1", port, data_dir, pid=pid)

    def ready(self, server: RunningServer) -> bool:
        with urllib.request.urlopen(f"{server.dsn}/api/v2/heartbeat", timeout=2) as response:
            return "nanosecond heartbeat" in json.loads(response.read())


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[RunningServer | str]:
    """A Chroma URL: ``LIGHTRAG_TEST_CHROMA_URL`` or a ``chroma run`` started for the session."""
    with server_or_skip("LIGHTRAG_TEST_CHROMA_URL", ChromaLauncher()) as server:
        yield server
