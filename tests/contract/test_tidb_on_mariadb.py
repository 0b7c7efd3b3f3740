"""The TiDB KV, doc status and graph storages on MariaDB (their SQL is one MySQL dialect).

MariaDB from Debian is the cheap protocol-compatible server (no 50-minute TiDB
build); the server comes from ``LIGHTRAG_TEST_MARIADB_DSN`` or is started by the
launcher (``tests/integration/servers/mariadb.py``). The vector storage needs TiDB's
``VECTOR`` type: here it must refuse to start with a clear error.
"""

from __future__ import annotations

from typing import Any

import pytest

from lightrag.storage.tidb.doc_status import TiDBDocStatusStorage
from lightrag.storage.tidb.graph import TiDBGraphStorage
from lightrag.storage.tidb.kv import TiDBKVStorage
from lightrag.storage.tidb.vector import TiDBVectorStorage
from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.errors import StorageSchemaError
from lightrag.vocabulary.storage import StorageContext

from .doc_status import DocStatusStorageContract
from .graph import GraphStorageContract
from .kv import KVStorageContract
from .support import Backend
from .test_tidb import mysql_backend

pytestmark = pytest.mark.mariadb


class TestTiDBKVStorageOnMariaDB(KVStorageContract):
    @pytest.fixture
    def backend(self, mariadb_server: Any) -> Backend:
        return mysql_backend(TiDBKVStorage, mariadb_server)


class TestTiDBDocStatusStorageOnMariaDB(DocStatusStorageContract):
    @pytest.fixture
    def backend(self, mariadb_server: Any) -> Backend:
        return mysql_backend(TiDBDocStatusStorage, mariadb_server)


class TestTiDBGraphStorageOnMariaDB(GraphStorageContract):
    @pytest.fixture
    def backend(self, mariadb_server: Any) -> Backend:
        return mysql_backend(TiDBGraphStorage, mariadb_server)


async def test_server_is_mariadb(mariadb_server: Any) -> None:
    assert "MariaDB" in mariadb_server.version, mariadb_server.version


async def test_the_vector_storage_says_it_needs_tidb(mariadb_server: Any, tmp_path: Any) -> None:
    hub = ClientHub()
    ctx = StorageContext(working_dir=tmp_path, namespace="entities", embedding_dim=8, clients=hub)
    storage = TiDBVectorStorage(ctx, dict(mariadb_server.params))
    with pytest.raises(StorageSchemaError, match="needs TiDB"):
        await storage.initialize()
    assert hub.open_count() == 0
