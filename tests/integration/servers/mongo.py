"""MongoDB test server: PyPI ``secantusdb`` (the MongoDB wire protocol on WiredTiger).

Session fixture ``mongo_server``: the URI in ``LIGHTRAG_TEST_MONGO_URI`` when set (a
real mongod or Atlas), else a ``secantusd-py`` started here on 127.0.0.1 with its data
in a temporary directory (``pip install secantusdb==<pin>`` if missing). Its data
survives ``restart``.

secantusdb speaks the wire protocol with aggregation, ``$lookup``, ``$graphLookup``,
unique indexes and transactions, but has no text indexes and no Atlas Search
(``$vectorSearch``, ``createSearchIndexes``), so the ``atlas`` vector search runs only
against ``LIGHTRAG_TEST_MONGO_VECTOR_URI`` (fixture ``mongo_vector_uri``), a server
with vector search; without it those tests skip, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .base import LaunchError, RunningServer, ServerLauncher, spawn
from .fixtures import server_or_skip

__all__ = [
    "SECANTUSDB_PIN",
    "SecantusLauncher",
    "mongo_server",
    "mongo_vector_uri",
    "params_from_uri",
]

SECANTUSDB_PIN = "secantusdb==0.7.0b3"
"""The version tested here (a beta: pinned, so a new release cannot change the suite)."""


class SecantusLauncher(ServerLauncher):
    name = "mongo"
    start_timeout = 60.0

    def _binary(self) -> str | None:
        beside = Path(sys.executable).with_name("secantusd-py")
        if beside.exists():
            return str(beside)
        return shutil.which("secantusd-py")

    def install(self) -> None:
        if self._binary():
            return
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", SECANTUSDB_PIN],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not self._binary():
            raise LaunchError(f"pip install {SECANTUSDB_PIN} failed: {done.stderr[-2000:]}")

    def start(self, data_dir: Path, port: int) -> RunningServer:
        binary = self._binary()
        if binary is None:
            raise LaunchError("secantusd-py is not installed")
        command = [
            binary,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--storage-path", str(data_dir / "data"),
            "--standalone",
            "--cache-size", "256M",
            "--log-level", "WARNING",
        ]  # fmt: skip
        pid = spawn(command, data_dir / "server.log")
        uri = f"mongodb://127.0.0.1:{port}/"
        return RunningServer(self.name, uri, "127.0.0.1", port, data_dir, pid=pid)

    def ready(self, server: RunningServer) -> bool:
        """``ping`` answers (the server opened its data and accepts commands)."""
        from pymongo import MongoClient

        client: MongoClient = MongoClient(
            server.dsn, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000
        )
        try:
            client.admin.command("ping")
        finally:
            client.close()
        return True


def params_from_uri(uri: str) -> dict[str, Any]:
    """``MongoConfig`` parameters for a server at ``uri`` (the benchmarks' database)."""
    return {"uri": uri, "database": "lightrag_bench", "server_selection_timeout": 10.0}


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[RunningServer | str]:
    """A MongoDB-protocol server: ``LIGHTRAG_TEST_MONGO_URI`` or secantusdb started here."""
    with server_or_skip("LIGHTRAG_TEST_MONGO_URI", SecantusLauncher()) as server:
        yield server


@pytest.fixture(scope="session")
def mongo_vector_uri() -> str:
    """``LIGHTRAG_TEST_MONGO_VECTOR_URI``: a server with ``$vectorSearch`` (Atlas, or
    mongod with mongot); skips, saying why, when unset."""
    uri = os.environ.get("LIGHTRAG_TEST_MONGO_VECTOR_URI", "")
    if not uri:
        pytest.skip(
            "MongoDB $vectorSearch needs Atlas or mongod + mongot, which cannot run here "
            "(secantusdb has no Atlas Search): set LIGHTRAG_TEST_MONGO_VECTOR_URI to a "
            "server with vector search to run these tests"
        )
    return uri
