"""TiDB test server: ``tidb-server`` with its embedded storage (unistore) on 127.0.0.1.

The binary is built from the Go module proxy by ``scripts/build-tidb.sh`` (about 50
minutes on two cores, so it is built once and cached: ``$LIGHTRAG_CI_CACHE/tidb/
tidb-server``, default ``/var/cache/lightrag-ci/tidb``; ``LIGHTRAG_TIDB_SERVER``
names another binary). The launcher never builds it: when the binary is missing the
TiDB tests skip, saying so and how to build it (``.ci/run`` starts the build in the
background at its start on a cache miss, and ``scripts/test-backends.sh tidb`` waits
for it, bounded). Unistore keeps its data under the data directory, so it survives
``restart``; it has no TiFlash, so no vector index (search is exact).

Session fixture ``tidb_server`` yields a ``MySQLTestServer`` (DSN, the ``TiDBConfig``
params with a password-protected test user and database, and a ``restart`` when
started here). Set ``LIGHTRAG_TEST_TIDB_DSN`` (``mysql://user:password@host:port/db``)
to use a TiDB of your own instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._mysql import (
    MySQLTestServer,
    account_dsn,
    answers,
    create_test_account,
    mysql_server,
    params_from_dsn,
)
from .base import LaunchError, RunningServer, ServerLauncher, free_port, spawn

__all__ = ["TiDBLauncher", "params_from_dsn", "tidb_binary", "tidb_server"]

BUILD_SCRIPT = "scripts/build-tidb.sh"


def tidb_binary() -> Path:
    """Where the cached ``tidb-server`` is (it may not exist yet)."""
    explicit = os.environ.get("LIGHTRAG_TIDB_SERVER", "")
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("LIGHTRAG_CI_CACHE", "/var/cache/lightrag-ci"))
    return cache / "tidb" / "tidb-server"


class TiDBLauncher(ServerLauncher):
    name = "tidb"
    start_timeout = 120.0

    def install(self) -> None:
        binary = tidb_binary()
        if not os.access(binary, os.X_OK):
            raise LaunchError(f"no tidb-server at {binary}: build it with {BUILD_SCRIPT}")

    def start(self, data_dir: Path, port: int) -> RunningServer:
        status_port = free_port()
        command = [
            str(tidb_binary()),
            "-store=unistore",
            f"-path={data_dir / 'tdata'}",
            "-host=127.0.0.1",
            f"-P={port}",
            "-status-host=127.0.0.1",
            f"-status={status_port}",
            f"-log-file={data_dir / 'tidb.log'}",
            "-socket=",
            f"-log-slow-query={data_dir / 'tidb-slow.log'}",
        ]
        pid = spawn(command, data_dir / "server.log")
        return RunningServer(
            name=self.name,
            dsn=account_dsn(port),
            host="127.0.0.1",
            port=port,
            data_dir=data_dir,
            pid=pid,
            extra={"status_port": str(status_port)},
        )

    def ready(self, server: RunningServer) -> bool:
        """root (no password, as a fresh TiDB has it) sets up the test account, which
        must then log in over TCP."""
        create_test_account({"host": server.host, "port": server.port, "user": "root"})
        return answers(server.host, server.port)


@pytest.fixture(scope="session")
def tidb_server() -> Iterator[MySQLTestServer]:
    """A TiDB: ``LIGHTRAG_TEST_TIDB_DSN``, else the cached ``tidb-server`` started here.

    Without either the tests skip (even under ``LIGHTRAG_TEST_REQUIRE_SERVERS=1``: the
    binary takes ~50 min to build, so CI may run before its first build is done), and
    the reason says where the binary was looked for and how to build it.
    """
    if not os.environ.get("LIGHTRAG_TEST_TIDB_DSN") and not os.access(tidb_binary(), os.X_OK):
        reason = (
            f"tidb: no LIGHTRAG_TEST_TIDB_DSN and no tidb-server binary at {tidb_binary()} "
            f"(build it once with {BUILD_SCRIPT}, ~50 min; CI starts that build in the "
            "background on a cache miss)"
        )
        print(f"\nSKIP {reason}")
        pytest.skip(reason)
    yield from mysql_server("LIGHTRAG_TEST_TIDB_DSN", TiDBLauncher())
