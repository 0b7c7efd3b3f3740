"""The contract suite run against the MongoDB KV, doc status, graph and vector storages.

KV, doc status and graph run against ``LIGHTRAG_TEST_MONGO_URI`` or a secantusdb
server started by the launcher (``tests/integration/servers/mongo.py``). The vector
storage runs twice: with ``vector_search: exact`` (an aggregation any server answers)
on that same server, and with ``vector_search: atlas`` (``$vectorSearch``) only
against ``LIGHTRAG_TEST_MONGO_VECTOR_URI``, a server with vector search, since none
can run here; without it those tests skip, saying so.
"""

from __future__ import annotations

from typing import Any

import pytest
from integration.servers.base import RunningServer
from integration.servers.mongo import SecantusLauncher

from lightrag.storage.mongo.doc_status import MongoDocStatusStorage
from lightrag.storage.mongo.graph import MongoGraphStorage
from lightrag.storage.mongo.kv import MongoKVStorage
from lightrag.storage.mongo.vector import MongoVectorStorage

from . import support
from .doc_status import DocStatusStorageContract
from .graph import GraphStorageContract
from .kv import KVStorageContract
from .support import Backend
from .vector import VectorStorageContract

pytestmark = pytest.mark.mongo

# A fresh database per session run, so an env server keeps nothing between runs
# beyond what the factory drops.
_DATABASE = "lightrag_contract"


def mongo_backend(cls: type, server: RunningServer | str, **params: Any) -> Backend:
    """The backend on ``server``; with the launcher's restart hook when the server was
    started here (not an env URI)."""
    base = {"database": _DATABASE, "server_selection_timeout": 10.0, **params}
    if isinstance(server, str):
        return Backend(cls, {"uri": server, **base})
    restart = support.launcher_restart(SecantusLauncher(), server)
    return Backend(cls, {"uri": server.dsn, **base}, restart=restart)


class TestMongoKVStorage(KVStorageContract):
    @pytest.fixture
    def backend(self, mongo_server: RunningServer | str) -> Backend:
        return mongo_backend(MongoKVStorage, mongo_server)


class TestMongoDocStatusStorage(DocStatusStorageContract):
    @pytest.fixture
    def backend(self, mongo_server: RunningServer | str) -> Backend:
        return mongo_backend(MongoDocStatusStorage, mongo_server)


class TestMongoGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, mongo_server: RunningServer | str) -> Backend:
        return mongo_backend(MongoGraphStorage, mongo_server)


class TestMongoExactVectorStorage(VectorStorageContract):
    """``vector_search: exact``: cosine computed in an aggregation, on any server."""

    @pytest.fixture
    def backend(self, mongo_server: RunningServer | str) -> Backend:
        return mongo_backend(MongoVectorStorage, mongo_server, vector_search="exact")


class TestMongoAtlasVectorStorage(VectorStorageContract):
    """``vector_search: atlas`` (``$vectorSearch``): only against a server with vector
    search (``LIGHTRAG_TEST_MONGO_VECTOR_URI``); skipped here, saying why."""

    @pytest.fixture
    def backend(self, mongo_vector_uri: str) -> Backend:
        return mongo_backend(MongoVectorStorage, mongo_vector_uri, vector_search="atlas")
