"""The graph contract suite run against the PostgreSQL plain-table graph storage."""

from __future__ import annotations

from typing import Any

import pytest

from lightrag.storage.postgres.graph import PostgresGraphStorage

from .graph import GraphStorageContract
from .support import Backend

pytestmark = pytest.mark.postgres


class TestPostgresGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, postgres_server: Any) -> Backend:
        return Backend(PostgresGraphStorage, dict(postgres_server.params))
