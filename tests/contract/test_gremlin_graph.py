"""The graph contract suite run against a Gremlin Server (TinkerGraph).

The server comes from ``LIGHTRAG_TEST_GREMLIN_URL`` or is started by the launcher
(``tests/integration/servers/gremlin.py``); without either the tests skip, saying why.
"""

from __future__ import annotations

import pytest
from integration.servers.base import RunningServer
from integration.servers.gremlin import GremlinLauncher, gremlin_params

from lightrag.storage.gremlin.graph import GremlinGraphStorage

from . import support
from .graph import GraphStorageContract
from .support import Backend

pytestmark = pytest.mark.gremlin


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
