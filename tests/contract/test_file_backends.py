"""The contract suite run against the default file backends (always available)."""

from __future__ import annotations

import pytest

from lightrag.storage.docstatus_json import JsonDocStatusStorage
from lightrag.storage.graph_networkx import NetworkXGraphStorage
from lightrag.storage.kv_json import JsonKVStorage
from lightrag.storage.vdb_nano import NanoVectorStorage

from .doc_status import DocStatusStorageContract
from .graph import GraphStorageContract
from .kv import KVStorageContract
from .support import Backend
from .vector import VectorStorageContract


class TestJsonKVStorage(KVStorageContract):
    in_process = True  # no server: the database-only tests do not apply

    @pytest.fixture
    def backend(self) -> Backend:
        return Backend(JsonKVStorage)


class TestJsonKVStorageWithoutJournal(KVStorageContract):
    in_process = True  # no server: the database-only tests do not apply

    @pytest.fixture
    def backend(self) -> Backend:
        return Backend(JsonKVStorage, {"journal": False})


class TestJsonDocStatusStorage(DocStatusStorageContract):
    in_process = True  # no server: the database-only tests do not apply

    @pytest.fixture
    def backend(self) -> Backend:
        return Backend(JsonDocStatusStorage)


class TestNanoVectorStorage(VectorStorageContract):
    in_process = True  # no server: the database-only tests do not apply

    @pytest.fixture
    def backend(self) -> Backend:
        return Backend(NanoVectorStorage)


class TestNetworkXGraphStorage(GraphStorageContract):
    in_process = True  # no server: the database-only tests do not apply

    @pytest.fixture
    def backend(self) -> Backend:
        return Backend(NetworkXGraphStorage)
