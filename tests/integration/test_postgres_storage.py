"""PostgreSQL storages against a real server: the shared pool, concurrent schema creation,
errors for a server that is down and for a table of another dimension, metadata filters,
and recovery after the server restarts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pytest

from lightrag.storage.postgres.client import PostgresClient, PostgresConfig
from lightrag.storage.postgres.doc_status import PostgresDocStatusStorage
from lightrag.storage.postgres.kv import PostgresKVStorage
from lightrag.storage.postgres.vector import PostgresVectorStorage
from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.errors import StorageSchemaError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

from .servers.base import free_port

pytestmark = pytest.mark.postgres


def _ctx(tmp_path: Path, namespace: str, hub: ClientHub | None = None, **extra: Any) -> Any:
    return StorageContext(
        working_dir=tmp_path,
        namespace=namespace,
        workspace="it_" + uuid.uuid4().hex[:8],
        clients=hub or ClientHub(),
        **extra,
    )


@pytest.fixture
async def empty_database(postgres_server: Any) -> AsyncIterator[dict[str, Any]]:
    """Params of a new, empty database, dropped afterwards."""
    params = dict(postgres_server.params)
    name = "lr_it_" + uuid.uuid4().hex[:10]
    admin = PostgresClient(PostgresConfig(**params))
    await admin.open()
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield {**params, "database": name}
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


async def test_ten_namespaces_share_one_pool(postgres_server: Any, tmp_path: Path) -> None:
    hub = ClientHub()
    storages = [
        PostgresKVStorage(_ctx(tmp_path, f"ns_{i}", hub), postgres_server.params) for i in range(10)
    ]
    for storage in storages:
        await storage.initialize()
    assert hub.open_count() == 1
    await storages[0].upsert({"k": {"v": 1}})
    assert await storages[1].get("k") is None  # namespaces stay apart on the shared pool
    for storage in storages:
        await storage.drop()
        await storage.finalize()
    assert hub.open_count() == 0


async def test_concurrent_start_on_an_empty_database_creates_the_schema_once(
    empty_database: dict[str, Any], tmp_path: Path
) -> None:
    # Five "servers" (each its own hub, so its own pool) start together.
    storages = [
        PostgresKVStorage(_ctx(tmp_path, "full_docs"), empty_database),
        PostgresKVStorage(_ctx(tmp_path, "text_chunks"), empty_database),
        PostgresDocStatusStorage(_ctx(tmp_path, "doc_status"), empty_database),
        PostgresVectorStorage(_ctx(tmp_path, "chunks", embedding_dim=4), empty_database),
        PostgresVectorStorage(_ctx(tmp_path, "entities", embedding_dim=4), empty_database),
    ]
    await asyncio.gather(*(storage.initialize() for storage in storages))
    try:
        rows = await storages[0].client.fetch(
            "SELECT component, version FROM lightrag_schema_migrations ORDER BY 1, 2"
        )
        assert [tuple(row) for row in rows] == [
            ("doc_status", 1),
            ("kv", 1),
            ("vector:lightrag_vectors", 1),
            ("vector:lightrag_vectors", 2),
        ]
    finally:
        for storage in storages:
            await storage.finalize()


async def test_a_server_that_is_down_names_host_and_port_not_the_password(
    tmp_path: Path,
) -> None:
    port = free_port()
    params = {"host": "127.0.0.1", "port": port, "password": "s3cret-pw", "connect_timeout": 3}
    storage = PostgresKVStorage(_ctx(tmp_path, "kv"), params)
    with pytest.raises(StorageUnavailableError) as caught:
        await storage.initialize()
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert "s3cret-pw" not in message
    assert storage.ctx.clients.open_count() == 0


async def test_a_vector_table_of_another_dimension_is_refused_naming_both(
    postgres_server: Any, tmp_path: Path
) -> None:
    params = {**postgres_server.params, "vector_table": "lr_dim_" + uuid.uuid4().hex[:8]}
    first = PostgresVectorStorage(_ctx(tmp_path, "chunks", embedding_dim=8), params)
    await first.initialize()
    other = PostgresVectorStorage(_ctx(tmp_path, "chunks", embedding_dim=16), params)
    try:
        with pytest.raises(StorageSchemaError, match=r"dimension 8.*gives 16") as caught:
            await other.initialize()
        assert params["vector_table"] in str(caught.value)
        assert other.ctx.clients.open_count() == 0  # the failed storage released its pool
    finally:
        await first.client.execute(f"DROP TABLE {params['vector_table']}")
        await first.finalize()


async def test_query_filtered_by_document_id_ranks_only_that_documents_chunks(
    postgres_server: Any, tmp_path: Path
) -> None:
    ctx = _ctx(tmp_path, "chunks", embedding_dim=4, meta_fields=frozenset({"full_doc_id"}))
    table = "lr_filter_" + uuid.uuid4().hex[:8]  # a 4-d table of its own
    vdb = PostgresVectorStorage(ctx, {**postgres_server.params, "vector_table": table})
    await vdb.initialize()
    try:
        await vdb.upsert(
            {
                "c1": {"full_doc_id": "doc-1"},
                "c2": {"full_doc_id": "doc-1"},
                "c3": {"full_doc_id": "doc-2"},
                "c4": {"full_doc_id": "doc-3"},
            },
            np.asarray(
                [[1, 0, 0, 0], [0.9, 0.1, 0, 0], [0.6, 0.4, 0, 0], [0.5, 0.5, 0, 0]],
                dtype=np.float32,
            ),
        )
        query = np.asarray([1, 0, 0, 0], dtype=np.float32)
        hits = await vdb.query(query, top_k=2, filters={"full_doc_id": ["doc-2", "doc-3"]})
        assert [hit["id"] for hit in hits] == ["c3", "c4"]
        assert {hit["full_doc_id"] for hit in hits} == {"doc-2", "doc-3"}
        assert await vdb.query(query, top_k=5, filters={"full_doc_id": ["nope"]}) == []
        with pytest.raises(ValueError, match="file_path"):
            await vdb.query(query, top_k=1, filters={"file_path": ["x"]})
    finally:
        await vdb.client.execute(f"DROP TABLE {table}")
        await vdb.finalize()


async def test_storage_keeps_working_after_the_server_restarts(
    postgres_server: Any, tmp_path: Path
) -> None:
    if not postgres_server.can_restart:
        pytest.skip("the server comes from LIGHTRAG_TEST_POSTGRES_DSN: cannot restart it")
    kv = PostgresKVStorage(_ctx(tmp_path, "kv"), postgres_server.params)
    await kv.initialize()
    try:
        await kv.upsert({"before": {"v": 1}})
        await asyncio.to_thread(postgres_server.restart)
        # every pooled connection is now dead: the first call retries on a new one
        assert await kv.get("before") == {"v": 1}
        await kv.upsert({"after": {"v": 2}})
        assert sorted(await kv.keys()) == ["after", "before"]
    finally:
        await kv.drop()
        await kv.finalize()


async def test_a_statement_error_is_not_retried_or_disguised(
    postgres_server: Any, tmp_path: Path
) -> None:
    kv = PostgresKVStorage(_ctx(tmp_path, "kv"), postgres_server.params)
    await kv.initialize()
    try:
        with pytest.raises(asyncpg.exceptions.UndefinedTableError):
            await kv.client.execute("SELECT * FROM lightrag_no_such_table")
    finally:
        await kv.finalize()
