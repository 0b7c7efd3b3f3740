"""The graph contract suite run against the Neo4j graph storage on a real Neo4j 5.26.

The server comes from ``LIGHTRAG_TEST_NEO4J_URI`` or is started by the launcher
(``tests/integration/servers/neo4j.py``: Neo4j Community embedded, built with Maven);
without either the tests skip, saying why.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lightrag.storage.neo4j.graph import Neo4jGraphStorage

from .graph import GraphStorageContract
from .support import Backend

pytestmark = pytest.mark.neo4j


def neo4j_backend(cls: type, server: Any) -> Backend:
    """The backend with the server's params, and its restart hook (the suite's reconnect
    tests) when the server was started by the launcher."""
    extra: dict[str, Any] = {}
    if server.can_restart:

        async def restart() -> None:
            await asyncio.to_thread(server.restart)

        extra["restart"] = restart
    return Backend(cls, dict(server.params), **extra)


class TestNeo4jGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, neo4j_server: Any) -> Backend:
        return neo4j_backend(Neo4jGraphStorage, neo4j_server)
