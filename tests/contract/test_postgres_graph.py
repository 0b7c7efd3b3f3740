"""The graph contract suite run against the PostgreSQL plain-table graph storage.

The server comes from ``LIGHTRAG_TEST_POSTGRES_DSN`` or is started by the launcher
(``tests/integration/servers/postgres.py``); without either the tests skip, saying why.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lightrag.storage.postgres.graph import PostgresGraphStorage

from .graph import GraphStorageContract
from .support import Backend

pytestmark = pytest.mark.postgres


def _backend(server: Any) -> Backend:
    """The graph backend with the server's params, and its restart hook (the suite's
    reconnect tests) when the server was started by the launcher."""
    extra: dict[str, Any] = {}
    if server.can_restart:

        async def restart() -> None:
            await asyncio.to_thread(server.restart)

        extra["restart"] = restart
    return Backend(PostgresGraphStorage, dict(server.params), **extra)


class TestPostgresGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, postgres_server: Any) -> Backend:
        return _backend(postgres_server)
