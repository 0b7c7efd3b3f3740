"""The contract suite run against the PostgreSQL KV, doc status and vector storages.

The server comes from ``LIGHTRAG_TEST_POSTGRES_DSN`` or is started by the launcher
(``tests/integration/servers/postgres.py``); without either the tests skip, saying why.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lightrag.storage.postgres.doc_status import PostgresDocStatusStorage
from lightrag.storage.postgres.kv import PostgresKVStorage
from lightrag.storage.postgres.vector import PostgresVectorStorage

from .doc_status import DocStatusStorageContract
from .kv import KVStorageContract
from .support import Backend
from .vector import VectorStorageContract

pytestmark = pytest.mark.postgres


def _backend(cls: type, server: Any) -> Backend:
    """The backend with the server's params, and its restart hook (the suite's reconnect
    tests) when the server was started by the launcher."""
    extra: dict[str, Any] = {}
    if server.can_restart:

        async def restart() -> None:
            await asyncio.to_thread(server.restart)

        extra["restart"] = restart
    return Backend(cls, dict(server.params), **extra)


class TestPostgresKVStorage(KVStorageContract):
    @pytest.fixture
    def backend(self, postgres_server: Any) -> Backend:
        return _backend(PostgresKVStorage, postgres_server)


class TestPostgresDocStatusStorage(DocStatusStorageContract):
    @pytest.fixture
    def backend(self, postgres_server: Any) -> Backend:
        return _backend(PostgresDocStatusStorage, postgres_server)


class TestPostgresVectorStorage(VectorStorageContract):
    @pytest.fixture
    def backend(self, postgres_server: Any) -> Backend:
        return _backend(PostgresVectorStorage, postgres_server)
