"""The vector contract and the server checks against Neo4j's vector index (Neo4j 5.26).

The server comes from ``LIGHTRAG_TEST_NEO4J_URI`` or is started by the launcher
(``tests/integration/servers/neo4j.py``); without either the tests skip, saying why.
"""

from __future__ import annotations

from typing import Any

import pytest

from lightrag.storage.neo4j.vector import Neo4jVectorStorage
from tests.integration.servers.base import free_port

from .support import Backend
from .test_neo4j_graph import neo4j_backend
from .vector import VectorStorageContract
from .vector_server import SECRET, ServerVectorStorageChecks

pytestmark = pytest.mark.neo4j


class TestNeo4jVectorStorage(VectorStorageContract):
    @pytest.fixture
    def backend(self, neo4j_server: Any) -> Backend:
        return neo4j_backend(Neo4jVectorStorage, neo4j_server)


class TestNeo4jVectorServerChecks(ServerVectorStorageChecks):
    @pytest.fixture
    def backend(self, neo4j_server: Any) -> Backend:
        return Backend(Neo4jVectorStorage, dict(neo4j_server.params))

    @pytest.fixture
    def down_backend(self) -> tuple[Backend, str]:
        port = free_port()
        params = {
            "uri": f"bolt://127.0.0.1:{port}",
            "password": SECRET,
            "connection_timeout": 3,
        }
        return Backend(Neo4jVectorStorage, params), f"127.0.0.1:{port}"
