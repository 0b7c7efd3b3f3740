"""The contract suites run against the TiDB storages on a real TiDB (unistore).

The server comes from ``LIGHTRAG_TEST_TIDB_DSN`` or is started by the launcher
(``tests/integration/servers/tidb.py``) from the cached ``tidb-server`` binary;
without either the tests skip, saying why and how to build the binary.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lightrag.storage.tidb.client import TiDBConfig
from lightrag.storage.tidb.doc_status import TiDBDocStatusStorage
from lightrag.storage.tidb.graph import TiDBGraphStorage
from lightrag.storage.tidb.kv import TiDBKVStorage
from lightrag.storage.tidb.vector import TiDBVectorStorage
from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.errors import StorageSchemaError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

from .doc_status import DocStatusStorageContract
from .graph import GraphStorageContract
from .kv import KVStorageContract
from .support import Backend
from .vector import VectorStorageContract

pytestmark = pytest.mark.tidb


def mysql_backend(cls: type, server: Any) -> Backend:
    """The backend with the server's params, and its restart hook (the suite's reconnect
    tests) when the server was started by the launcher."""
    extra: dict[str, Any] = {}
    if server.can_restart:

        async def restart() -> None:
            await asyncio.to_thread(server.restart)

        extra["restart"] = restart
    return Backend(cls, dict(server.params), **extra)


class TestTiDBKVStorage(KVStorageContract):
    @pytest.fixture
    def backend(self, tidb_server: Any) -> Backend:
        return mysql_backend(TiDBKVStorage, tidb_server)


class TestTiDBDocStatusStorage(DocStatusStorageContract):
    @pytest.fixture
    def backend(self, tidb_server: Any) -> Backend:
        return mysql_backend(TiDBDocStatusStorage, tidb_server)


class TestTiDBGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, tidb_server: Any) -> Backend:
        return mysql_backend(TiDBGraphStorage, tidb_server)


class TestTiDBVectorStorage(VectorStorageContract):
    @pytest.fixture
    def backend(self, tidb_server: Any) -> Backend:
        return mysql_backend(TiDBVectorStorage, tidb_server)


# What the TiDB storages add beyond the contract.


def _context(tmp_path: Any, namespace: str, hub: ClientHub, dim: int = 0) -> StorageContext:
    return StorageContext(
        working_dir=tmp_path,
        namespace=namespace,
        workspace="tidb_extra",
        embedding_dim=dim,
        clients=hub,
    )


async def test_server_is_tidb(tidb_server: Any) -> None:
    assert "TiDB" in tidb_server.version, tidb_server.version


async def test_a_vector_table_of_another_dimension_is_refused_naming_both(
    tidb_server: Any, tmp_path: Any
) -> None:
    hub = ClientHub()
    params = {**tidb_server.params, "vector_table": "lightrag_vectors_dimcheck"}
    first = TiDBVectorStorage(_context(tmp_path, "entities", hub, dim=8), params)
    await first.initialize()
    try:
        other = TiDBVectorStorage(_context(tmp_path, "entities", hub, dim=16), params)
        with pytest.raises(StorageSchemaError, match=r"dimension 8.*gives 16.*TIDB_VECTOR_TABLE"):
            await other.initialize()
    finally:
        await first.client.execute("DROP TABLE lightrag_vectors_dimcheck")
        await first.finalize()
        await hub.close()


async def test_storages_of_every_role_share_one_pool(tidb_server: Any, tmp_path: Any) -> None:
    hub = ClientHub()
    params = dict(tidb_server.params)
    storages = [
        TiDBKVStorage(_context(tmp_path, "full_docs", hub), params),
        TiDBDocStatusStorage(_context(tmp_path, "doc_status", hub), params),
        TiDBGraphStorage(_context(tmp_path, "chunk_entity_relation", hub), params),
        TiDBVectorStorage(_context(tmp_path, "chunks", hub, dim=8), params),
    ]
    try:
        await asyncio.gather(*(storage.initialize() for storage in storages))
        assert hub.open_count() == 1
    finally:
        for storage in storages:
            await storage.finalize()
        await hub.close()


async def test_wrong_password_is_refused_naming_host_and_user_not_the_password(
    tidb_server: Any, tmp_path: Any
) -> None:
    params = {**tidb_server.params, "password": "not-the-Pa55word", "reconnect_seconds": 0}
    storage = TiDBKVStorage(_context(tmp_path, "full_docs", ClientHub()), params)
    with pytest.raises(StorageUnavailableError) as caught:
        await storage.initialize()
    message = str(caught.value)
    assert TiDBConfig(**params).where() in message and repr(params["user"]) in message
    assert "not-the-Pa55word" not in message


async def test_an_id_longer_than_the_index_allows_is_a_clear_error(
    tidb_server: Any, tmp_path: Any
) -> None:
    hub = ClientHub()
    graph = TiDBGraphStorage(_context(tmp_path, "chunk_entity_relation", hub), tidb_server.params)
    await graph.initialize()
    try:
        with pytest.raises(ValueError, match=r"2000 bytes.*at most 1024"):
            await graph.upsert_node("x" * 2000, {"description": "too long"})
        assert await graph.node_count() == 0
    finally:
        await graph.drop()
        await graph.finalize()
        await hub.close()


async def test_servers_starting_together_create_a_new_table_without_error_recorded_once(
    tidb_server: Any, tmp_path: Any
) -> None:
    params = {**tidb_server.params, "vector_table": "lightrag_vectors_race"}
    hubs = [ClientHub() for _ in range(4)]  # four pools: as four servers would have
    storages = [
        TiDBVectorStorage(_context(tmp_path, "entities", hub, dim=8), params) for hub in hubs
    ]
    try:
        await asyncio.gather(*(storage.initialize() for storage in storages))
        rows = await storages[0].client.fetch(
            "SELECT version FROM lightrag_schema_migrations WHERE component = %s",
            ["vector:lightrag_vectors_race"],
        )
        assert [int(row[0]) for row in rows] == [1]
    finally:
        await storages[0].client.execute("DROP TABLE IF EXISTS lightrag_vectors_race")
        await storages[0].client.execute(
            "DELETE FROM lightrag_schema_migrations WHERE component = %s",
            ["vector:lightrag_vectors_race"],
        )
        for storage, hub in zip(storages, hubs, strict=True):
            await storage.finalize()
            await hub.close()
