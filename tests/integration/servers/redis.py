"""Redis test server: Debian ``redis-server`` on 127.0.0.1, data (AOF) in a temp dir.

Session fixture ``redis_server``: ``LIGHTRAG_TEST_REDIS_URI`` when set, else a
server started here. ``appendonly yes`` keeps the data across ``restart``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .base import LaunchError, RunningServer, ServerLauncher, spawn
from .fixtures import server_or_skip

__all__ = ["RedisLauncher", "redis_server"]


class RedisLauncher(ServerLauncher):
    name = "redis"
    start_timeout = 30.0

    def install(self) -> None:
        if shutil.which("redis-server"):
            return
        _wait_for_apt()
        result = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "redis-server"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not shutil.which("redis-server"):
            raise LaunchError(f"apt-get install redis-server failed: {result.stderr[-2000:]}")

    def start(self, data_dir: Path, port: int) -> RunningServer:
        command = [
            "redis-server",
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--save", "",
            "--appendonly", "yes",
            "--dir", str(data_dir),
        ]  # fmt: skip
        pid = spawn(command, data_dir / "server.log")
        return RunningServer(
            name=self.name,
            dsn=f"redis://127.0.0.1:{port}/0",
            host="127.0.0.1",
            port=port,
            data_dir=data_dir,
            pid=pid,
        )

    def ready(self, server: RunningServer) -> bool:
        """PING answers PONG (the server loaded its AOF and accepts commands)."""
        with socket.create_connection((server.host, server.port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")


def _wait_for_apt(timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = subprocess.run(["pgrep", "-x", "apt-get"], capture_output=True, check=False)
        if busy.returncode != 0:
            return
        time.sleep(2.0)
    raise LaunchError("another apt-get is still running after 10 minutes")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RunningServer | str]:
    """A running Redis: the server started here, or the URI in ``LIGHTRAG_TEST_REDIS_URI``."""
    with server_or_skip("LIGHTRAG_TEST_REDIS_URI", RedisLauncher()) as server:
        yield server
