"""The launcher protocol and what every launcher shares: ports, readiness, stop by PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "LaunchError",
    "RunningServer",
    "ServerLauncher",
    "free_port",
    "spawn",
    "tcp_open",
    "wait_until",
]


class LaunchError(RuntimeError):
    """A server could not be installed or did not come up; the message says why."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    ready: Callable[[], bool], *, timeout: float, what: str, log: Path | None = None
) -> None:
    """Poll ``ready`` until it is true; raise ``LaunchError`` (with the log's tail) on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except Exception:  # not up yet: connection refused, protocol not ready, ...
            pass
        time.sleep(0.2)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    raise LaunchError(f"{what} did not answer within {timeout:.0f} s{tail}")


def tcp_open(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=0.5):
        return True


@dataclass
class RunningServer:
    """A started server: how to reach it and how to stop it."""

    name: str
    dsn: str
    host: str
    port: int
    data_dir: Path
    pid: int | None = None
    stop_command: Sequence[str] | None = None  # used instead of SIGTERM when set
    extra: dict[str, str] = field(default_factory=dict)


class ServerLauncher(ABC):
    """Install-if-missing, start, wait, stop. Subclasses fill in the three steps."""

    name: str = ""
    start_timeout: float = 60.0

    @abstractmethod
    def install(self) -> None:
        """Make the server's binaries available (idempotent; fast when already there)."""

    @abstractmethod
    def start(self, data_dir: Path, port: int) -> RunningServer:
        """Start the server on 127.0.0.1:``port`` with its data under ``data_dir``."""

    def launch(self) -> RunningServer:
        """Install if needed, start on a free port in a new temporary directory, wait."""
        self.install()
        data_dir = Path(tempfile.mkdtemp(prefix=f"lightrag-{self.name}-"))
        server = self.start(data_dir, free_port())
        try:
            wait_until(
                lambda: self.ready(server),
                timeout=self.start_timeout,
                what=f"{self.name} on 127.0.0.1:{server.port}",
                log=data_dir / "server.log",
            )
        except BaseException:
            self.stop(server)
            raise
        return server

    def ready(self, server: RunningServer) -> bool:
        """Whether the server answers; TCP accept by default, protocol checks are better."""
        return tcp_open(server.host, server.port)

    def stop(self, server: RunningServer, *, remove_data: bool = True) -> None:
        """Stop by PID (or the server's own stop command) and remove its data."""
        if server.stop_command is not None:
            subprocess.run(list(server.stop_command), check=False, capture_output=True)
        elif server.pid is not None:
            _terminate(server.pid)
        if remove_data:
            shutil.rmtree(server.data_dir, ignore_errors=True)

    def restart(self, server: RunningServer) -> RunningServer:
        """Stop and start again on the same port and data (for reconnect tests)."""
        self.stop(server, remove_data=False)
        restarted = self.start(server.data_dir, server.port)
        try:
            wait_until(
                lambda: self.ready(restarted),
                timeout=self.start_timeout,
                what=f"{self.name} restart on 127.0.0.1:{server.port}",
                log=server.data_dir / "server.log",
            )
        except BaseException:  # the caller only knows the old process: stop the new one
            self.stop(restarted, remove_data=False)
            raise
        return restarted


def _terminate(pid: int, timeout: float = 15.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM) if _is_group_leader(pid) else os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _is_group_leader(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fall back to a signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def spawn(command: Sequence[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start ``command`` in its own process group with output to ``log``; its PID."""
    handle = log.open("ab")
    process = subprocess.Popen(
        list(command),
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    handle.close()
    return process.pid
