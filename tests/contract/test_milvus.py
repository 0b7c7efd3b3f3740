"""The vector contract and the server checks against Milvus (a milvus-lite server)."""

from __future__ import annotations

import pytest

from lightrag.storage.vdb_milvus import MilvusVectorStorage
from tests.integration.servers.base import RunningServer, free_port
from tests.integration.servers.milvus import MilvusLiteLauncher

from .support import Backend
from .vector import VectorStorageContract
from .vector_server import SECRET, ServerVectorStorageChecks, server_backend

pytestmark = pytest.mark.milvus


def _uri(server: RunningServer | str) -> str:
    return server if isinstance(server, str) else server.dsn


class TestMilvusVectorStorage(VectorStorageContract):
    @pytest.fixture
    def backend(self, milvus_server: RunningServer | str) -> Backend:
        return server_backend(
            MilvusVectorStorage, {"uri": _uri(milvus_server)}, milvus_server, MilvusLiteLauncher()
        )


class TestMilvusServerChecks(ServerVectorStorageChecks):
    @pytest.fixture
    def backend(self, milvus_server: RunningServer | str) -> Backend:
        return Backend(MilvusVectorStorage, {"uri": _uri(milvus_server)})

    @pytest.fixture
    def down_backend(self) -> tuple[Backend, str]:
        port = free_port()
        params = {"uri": f"http://127.0.0.1:{port}", "token": SECRET, "timeout": 3}
        return Backend(MilvusVectorStorage, params), f"127.0.0.1:{port}"
