"""MariaDB test server (Debian ``mariadb-server``): the MySQL protocol without vectors.

The TiDB KV, doc status and graph storages speak one SQL dialect that MariaDB runs
too, so their contract suites also run here, cheaply (no 50-minute build). The
vector storage needs TiDB's ``VECTOR`` type (MariaDB 10.11 has none) and is tested
against TiDB only. ``apt-get install mariadb-server`` when ``mariadbd`` is missing;
the server runs as the ``mysql`` user (``--user=mysql``) with its data in a
temporary directory owned by that user, bound to 127.0.0.1 on a free port.

Session fixture ``mariadb_server`` yields a ``MySQLTestServer`` (see ``_mysql.py``).
Set ``LIGHTRAG_TEST_MARIADB_DSN`` (``mysql://user:password@host:port/db``) to use a
MySQL or MariaDB of your own instead.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._mysql import MySQLTestServer, account_dsn, answers, create_test_account, mysql_server
from .base import LaunchError, RunningServer, ServerLauncher, spawn

__all__ = ["MariaDBLauncher", "mariadb_server"]

SYSTEM_USER = "mysql"


def _run(command: list[str], what: str, timeout: float = 600) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LaunchError(f"{what} failed: {exc}") from exc
    if result.returncode != 0:
        raise LaunchError(f"{what} failed (exit {result.returncode}): {result.stderr[-2000:]}")


def _wait_for_apt(timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = subprocess.run(["pgrep", "-x", "apt-get"], capture_output=True, check=False)
        if busy.returncode != 0:
            return
        time.sleep(2.0)
    raise LaunchError("another apt-get is still running after 10 minutes")


class MariaDBLauncher(ServerLauncher):
    name = "mariadb"
    start_timeout = 60.0

    def install(self) -> None:
        if shutil.which("mariadbd") and shutil.which("mariadb-install-db"):
            return
        _wait_for_apt()
        _run(
            ["apt-get", "install", "-y", "-qq", "mariadb-server"], "apt-get install mariadb-server"
        )
        if not shutil.which("mariadbd"):
            raise LaunchError("mariadb-server installed but mariadbd is not on PATH")

    def start(self, data_dir: Path, port: int) -> RunningServer:
        datadir = data_dir / "data"
        shutil.chown(data_dir, SYSTEM_USER)
        if not datadir.exists():
            _run(
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    f"--datadir={datadir}",
                    f"--user={SYSTEM_USER}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                "mariadb-install-db",
            )
        command = [
            "mariadbd",
            "--no-defaults",
            f"--datadir={datadir}",
            f"--user={SYSTEM_USER}",
            "--bind-address=127.0.0.1",
            f"--port={port}",
            f"--socket={data_dir / 'mysqld.sock'}",
            f"--pid-file={data_dir / 'mysqld.pid'}",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=128M",
            "--innodb-flush-log-at-trx-commit=2",
            "--max-allowed-packet=64M",
        ]
        pid = spawn(command, data_dir / "server.log")
        return RunningServer(
            name=self.name,
            dsn=account_dsn(port),
            host="127.0.0.1",
            port=port,
            data_dir=data_dir,
            pid=pid,
        )

    def ready(self, server: RunningServer) -> bool:
        """root over the unix socket sets up the test account, which must then log in
        over TCP."""
        create_test_account(
            {"unix_socket": str(server.data_dir / "mysqld.sock"), "user": "root", "password": ""}
        )
        return answers(server.host, server.port)


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MySQLTestServer]:
    """A MariaDB: ``LIGHTRAG_TEST_MARIADB_DSN``, else Debian's ``mariadbd`` started here."""
    yield from mysql_server("LIGHTRAG_TEST_MARIADB_DSN", MariaDBLauncher())
