"""What the MySQL-protocol test servers (TiDB, MariaDB) share: the test account, DSNs,
readiness, and the session fixture's body."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from .base import RunningServer, ServerLauncher
from .fixtures import server_or_skip

__all__ = [
    "TEST_DATABASE",
    "TEST_PASSWORD",
    "TEST_USER",
    "MySQLTestServer",
    "account_dsn",
    "answers",
    "create_test_account",
    "mysql_server",
    "params_from_dsn",
]

TEST_USER = "lightrag"
TEST_PASSWORD = "lightrag-test-password"
TEST_DATABASE = "lightrag"


def params_from_dsn(dsn: str) -> dict[str, Any]:
    """``TiDBConfig`` parameters from ``mysql://user:password@host:port/database``."""
    parts = urlsplit(dsn)
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 4000,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": (parts.path or "/").lstrip("/") or "test",
    }


def create_test_account(connect: dict[str, Any]) -> None:
    """Create the test database and the password-protected test user (idempotent)."""
    import pymysql

    conn = pymysql.connect(**connect, connect_timeout=2, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {TEST_DATABASE}")
            cursor.execute(
                f"CREATE USER IF NOT EXISTS '{TEST_USER}'@'%%' IDENTIFIED BY %s",
                (TEST_PASSWORD,),
            )
            cursor.execute(f"GRANT ALL PRIVILEGES ON {TEST_DATABASE}.* TO '{TEST_USER}'@'%'")
    finally:
        conn.close()


def answers(host: str, port: int) -> bool:
    """The test user can log in over TCP and run ``SELECT 1``."""
    import pymysql

    conn = pymysql.connect(
        host=host,
        port=port,
        user=TEST_USER,
        password=TEST_PASSWORD,
        database=TEST_DATABASE,
        connect_timeout=2,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    finally:
        conn.close()


def account_dsn(port: int) -> str:
    return f"mysql://{TEST_USER}:{quote(TEST_PASSWORD)}@127.0.0.1:{port}/{TEST_DATABASE}"


@dataclass
class MySQLTestServer:
    """What MySQL-protocol tests need: the DSN, ``TiDBConfig`` params, and a restart."""

    dsn: str
    params: dict[str, Any]
    launcher: ServerLauncher | None = None
    running: RunningServer | None = field(default=None, repr=False)
    version: str = ""

    @property
    def can_restart(self) -> bool:
        return self.launcher is not None and self.running is not None

    def restart(self) -> None:
        """Stop and start the server on the same port and data (launched servers only).

        ``running`` is updated in place, so the session fixture that started the server
        stops the new process, not the old one."""
        if self.launcher is None or self.running is None:
            pytest.skip("cannot restart a server given by a DSN")
        restarted = self.launcher.restart(self.running)
        self.running.pid = restarted.pid
        self.running.stop_command = restarted.stop_command


def server_version(params: dict[str, Any]) -> str:
    import pymysql

    conn = pymysql.connect(
        host=params["host"],
        port=params["port"],
        user=params["user"],
        password=params["password"],
        database=params["database"],
        connect_timeout=5,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            return str(cursor.fetchone()[0])
    finally:
        conn.close()


def mysql_server(env_var: str, launcher: ServerLauncher) -> Iterator[MySQLTestServer]:
    """The server named by ``env_var``, else one started by ``launcher``."""
    with server_or_skip(env_var, launcher) as server:
        if isinstance(server, str):
            params = params_from_dsn(server)
            yield MySQLTestServer(dsn=server, params=params, version=server_version(params))
        else:
            params = params_from_dsn(server.dsn)
            yield MySQLTestServer(
                dsn=server.dsn,
                params=params,
                launcher=launcher,
                running=server,
                version=server_version(params),
            )
