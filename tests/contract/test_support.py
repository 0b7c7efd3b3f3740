"""The contract suite's own helpers: the restart hook built from a test-server launcher."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from integration.servers.base import RunningServer, ServerLauncher, spawn

from .support import launcher_restart


class HttpLauncher(ServerLauncher):
    """A real (tiny) server: Python's http.server serving its data directory."""

    name = "http"
    start_timeout = 20.0

    def install(self) -> None:
        return None

    def start(self, data_dir: Path, port: int) -> RunningServer:
        command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
        pid = spawn([*command, "--directory", str(data_dir)], data_dir / "server.log")
        return RunningServer("http", f"http://127.0.0.1:{port}", "127.0.0.1", port, data_dir, pid)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read())


async def test_launcher_restart_hook_restarts_on_the_same_port_and_data() -> None:
    launcher = HttpLauncher()
    server = launcher.launch()
    try:
        (server.data_dir / "kept.txt").write_text("still here")
        first_pid = server.pid
        await launcher_restart(launcher, server)()
        assert server.pid != first_pid  # updated in place: the fixture stops the new process
        assert fetch(f"{server.dsn}/kept.txt") == b"still here"
    finally:
        launcher.stop(server)
    assert not server.data_dir.exists()
