"""Milvus test server: ``milvus-lite server`` (the Milvus protocol, one process, PyPI).

Fixture ``milvus_server``: the URI in ``LIGHTRAG_TEST_MILVUS_URI`` when set, else a
milvus-lite server started here on 127.0.0.1 (``pip install milvus-lite`` if missing).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .base import LaunchError, RunningServer, ServerLauncher, spawn
from .fixtures import server_or_skip

__all__ = ["MilvusLiteLauncher", "milvus_server"]


class MilvusLiteLauncher(ServerLauncher):
    name = "milvus"
    start_timeout = 90.0

    def _binary(self) -> str | None:
        found = shutil.which("milvus-lite")
        if found:
            return found
        beside = Path(sys.executable).with_name("milvus-lite")
        return str(beside) if beside.exists() else None

    def install(self) -> None:
        if self._binary():
            return
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "milvus-lite"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not self._binary():
            raise LaunchError(f"pip install milvus-lite failed: {done.stderr[-2000:]}")

    def start(self, data_dir: Path, port: int) -> RunningServer:
        binary = self._binary()
        if binary is None:
            raise LaunchError("milvus-lite is not installed")
        command = [binary, "server", "--data-dir", str(data_dir / "data")]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        pid = spawn(command, data_dir / "server.log")
        uri = f"http://127.0.0.1:{port}"
        return RunningServer(self.name, uri, "127.0.0.1", port, data_dir, pid=pid)

    def ready(self, server: RunningServer) -> bool:
        from pymilvus import MilvusClient

        client = MilvusClient(uri=server.dsn, timeout=2)
        try:
            client.list_collections(timeout=2)
        finally:
            client.close()
        return True


@pytest.fixture(scope="session")
def milvus_server() -> Iterator[RunningServer | str]:
    """A Milvus URI: ``LIGHTRAG_TEST_MILVUS_URI`` or a milvus-lite server started for the session."""
    with server_or_skip("LIGHTRAG_TEST_MILVUS_URI", MilvusLiteLauncher()) as server:
        yield server
