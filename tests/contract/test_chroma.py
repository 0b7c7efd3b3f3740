"""The vector contract and the server checks against Chroma: ``chroma run`` over HTTP
and the local persistent client."""

from __future__ import annotations

import pytest

from lightrag.storage.vdb_chroma import ChromaVectorStorage
from tests.integration.servers.base import RunningServer, free_port
from tests.integration.servers.chroma import ChromaLauncher

from .support import Backend
from .vector import VectorStorageContract
from .vector_server import SECRET, ServerVectorStorageChecks, server_backend

pytestmark = pytest.mark.chroma


def _url(server: RunningServer | str) -> str:
    return server if isinstance(server, str) else server.dsn


class TestChromaHttpVectorStorage(VectorStorageContract):
    @pytest.fixture
    def backend(self, chroma_server: RunningServer | str) -> Backend:
        return server_backend(
            ChromaVectorStorage, {"url": _url(chroma_server)}, chroma_server, ChromaLauncher()
        )


class TestChromaHttpServerChecks(ServerVectorStorageChecks):
    @pytest.fixture
    def backend(self, chroma_server: RunningServer | str) -> Backend:
        return Backend(ChromaVectorStorage, {"url": _url(chroma_server)})

    @pytest.fixture
    def down_backend(self) -> tuple[Backend, str]:
        port = free_port()
        params = {"url": f"http://127.0.0.1:{port}", "auth_token": SECRET}
        return Backend(ChromaVectorStorage, params), f"127.0.0.1:{port}"


class TestChromaLocalVectorStorage(VectorStorageContract):
    in_process = True  # no server: the database-only tests do not apply

    @pytest.fixture
    def backend(self) -> Backend:
        return Backend(ChromaVectorStorage, {"local_path": "chroma_data"})
