"""The graph contract suite run against a Gremlin Server (TinkerGraph).

The server comes from ``LIGHTRAG_TEST_GREMLIN_URL`` or is started by the launcher
(``tests/integration/servers/gremlin.py``); without either the tests skip, saying why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from integration.servers.base import RunningServer, free_port
from integration.servers.gremlin import GremlinLauncher, gremlin_params

from lightrag.storage.gremlin.graph import GremlinGraphStorage
from lightrag.vocabulary.errors import StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

from . import support
from .graph import GraphStorageContract
from .support import Backend

pytestmark = pytest.mark.gremlin

SECRET = "gremlin-test-password"


def gremlin_backend(server: RunningServer | str) -> Backend:
    """The backend on ``server``, with the launcher's restart hook when started here."""
    if isinstance(server, str):
        return Backend(GremlinGraphStorage, gremlin_params(server))
    restart = support.launcher_restart(GremlinLauncher(), server)
    return Backend(GremlinGraphStorage, gremlin_params(server.dsn), restart=restart)


class TestGremlinGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, gremlin_server: RunningServer | str) -> Backend:
        return gremlin_backend(gremlin_server)


async def test_unreachable_server_fails_at_initialize_naming_the_url(tmp_path: Path) -> None:
    port = free_port()
    params = {"host": "127.0.0.1", "port": port, "reconnect_seconds": 0, "password": SECRET}
    storage = GremlinGraphStorage(
        StorageContext(working_dir=tmp_path, namespace="chunk_entity_relation"), params
    )
    with pytest.raises(StorageUnavailableError) as caught:
        await storage.initialize()
    assert f"ws://127.0.0.1:{port}/gremlin" in str(caught.value)
    assert SECRET not in str(caught.value)
