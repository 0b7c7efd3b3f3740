"""The contract suites (KV, doc status, vector, graph + graph batch) against Oracle.

No Oracle server or emulator can run on the test machines (none is in any registry we
reach), so these run only against a database you give: ``LIGHTRAG_TEST_ORACLE_DSN``
(``host:port/service``, e.g. a ``gvenzl/oracle-free`` container at
``localhost:1521/FREEPDB1``) with ``LIGHTRAG_TEST_ORACLE_USER`` and
``LIGHTRAG_TEST_ORACLE_PASSWORD`` (a user allowed to CREATE TABLE). The vector suite
needs Oracle 23ai (the ``VECTOR`` type). Without the DSN every test here skips,
printing that reason. What runs without a server is in
``tests/unit/storage/test_oracle_*.py`` (SQL text, binds, type and error mapping).
There is no restart hook (the database is not ours to restart), so the suites'
reconnect tests skip saying so.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from lightrag.storage.oracle.client import OracleConfig
from lightrag.storage.oracle.doc_status import OracleDocStatusStorage
from lightrag.storage.oracle.graph import OracleGraphStorage
from lightrag.storage.oracle.kv import OracleKVStorage
from lightrag.storage.oracle.vector import OracleVectorStorage
from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.errors import StorageSchemaError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

from .doc_status import DocStatusStorageContract
from .graph import GraphStorageContract
from .kv import KVStorageContract
from .support import DIM, Backend, require_env
from .vector import VectorStorageContract

pytestmark = pytest.mark.oracle

DSN_VAR = "LIGHTRAG_TEST_ORACLE_DSN"
VECTOR_TABLE = f"lightrag_ct_vectors_{DIM}"  # the contract's dimension, apart from real data


@pytest.fixture(scope="session")
def oracle_params() -> dict[str, Any]:
    """Connection params from the environment; skips (printing why) without a DSN."""
    dsn = require_env(
        DSN_VAR,
        "Oracle database (none can run here: give one, e.g. localhost:1521/FREEPDB1, "
        "with LIGHTRAG_TEST_ORACLE_USER and LIGHTRAG_TEST_ORACLE_PASSWORD)",
    )
    return {
        "dsn": dsn,
        "user": os.environ.get("LIGHTRAG_TEST_ORACLE_USER", ""),
        "password": os.environ.get("LIGHTRAG_TEST_ORACLE_PASSWORD", ""),
        "vector_table": VECTOR_TABLE,
        "reconnect_seconds": 5,
    }


class TestOracleKVStorage(KVStorageContract):
    @pytest.fixture
    def backend(self, oracle_params: dict[str, Any]) -> Backend:
        return Backend(OracleKVStorage, oracle_params)


class TestOracleDocStatusStorage(DocStatusStorageContract):
    @pytest.fixture
    def backend(self, oracle_params: dict[str, Any]) -> Backend:
        return Backend(OracleDocStatusStorage, oracle_params)


class TestOracleVectorStorage(VectorStorageContract):
    @pytest.fixture
    def backend(self, oracle_params: dict[str, Any]) -> Backend:
        return Backend(OracleVectorStorage, oracle_params)


class TestOracleGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, oracle_params: dict[str, Any]) -> Backend:
        return Backend(OracleGraphStorage, oracle_params)


# What the Oracle storages add beyond the contracts.


def _context(tmp_path: Path, namespace: str, workspace: str, **extra: Any) -> StorageContext:
    return StorageContext(working_dir=tmp_path, namespace=namespace, workspace=workspace, **extra)


async def test_storages_starting_together_create_the_schema_once(
    oracle_params: dict[str, Any], tmp_path: Path
) -> None:
    hubs = [ClientHub() for _ in range(4)]  # four pools: four "servers"
    stores = [
        OracleKVStorage(
            _context(tmp_path, "ct_schema", f"ct_schema_{i}", clients=hub), oracle_params
        )
        for i, hub in enumerate(hubs)
    ]
    try:
        await asyncio.gather(*(store.initialize() for store in stores))
        await asyncio.gather(*(s.upsert({"k": {"by": i}}) for i, s in enumerate(stores)))
        assert [await s.get("k") for s in stores] == [{"by": i} for i in range(4)]
        rows = await stores[0].client.fetchall(
            "SELECT COUNT(*) FROM lightrag_schema_migrations WHERE component = :c", {"c": "kv"}
        )
        assert rows == [(1,)]
    finally:
        for store in stores:
            await store.drop()
            await store.finalize()
        for hub in hubs:
            await hub.close()


async def test_the_empty_workspace_is_stored_under_its_own_name(
    oracle_params: dict[str, Any], tmp_path: Path
) -> None:
    store = OracleKVStorage(_context(tmp_path, "ct_empty_ws", ""), oracle_params)
    await store.initialize()
    try:
        await store.upsert({"k": {"v": 1}})
        rows = await store.client.fetchall(
            "SELECT workspace FROM lightrag_kv WHERE namespace = :ns", {"ns": "ct_empty_ws"}
        )
        assert rows == [("-",)]
        assert await store.get("k") == {"v": 1}
    finally:
        await store.drop()
        await store.finalize()
        await store.ctx.clients.close()


async def test_a_vector_table_of_another_dimension_is_refused_naming_both(
    oracle_params: dict[str, Any], tmp_path: Path
) -> None:
    first = OracleVectorStorage(
        _context(tmp_path, "ct_dims", "ct_dims", embedding_dim=DIM), oracle_params
    )
    await first.initialize()
    await first.finalize()
    other = OracleVectorStorage(
        _context(tmp_path, "ct_dims", "ct_dims", embedding_dim=DIM * 2), oracle_params
    )
    with pytest.raises(StorageSchemaError, match=rf"dimension {DIM}.*gives {DIM * 2}"):
        await other.initialize()
    assert other.ctx.clients.open_count() == 0


async def test_wrong_password_is_refused_naming_dsn_and_user_not_the_password(
    oracle_params: dict[str, Any], tmp_path: Path
) -> None:
    params = {**oracle_params, "password": "not-the-Pa55word"}
    store = OracleKVStorage(_context(tmp_path, "ct_auth", "ct_auth"), params)
    with pytest.raises(StorageUnavailableError) as caught:
        await store.initialize()
    message = str(caught.value)
    assert OracleConfig(**params).where() in message and repr(params["user"]) in message
    assert "not-the-Pa55word" not in message
    assert store.ctx.clients.open_count() == 0
