"""The coordination contract against ``local`` (in process), PostgreSQL and Redis."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from lightrag.core.local_coordination import LocalCoordinator

from .coordination import CoordinationContract


class TestLocalCoordination(CoordinationContract):
    in_process: ClassVar[bool] = True

    @pytest.fixture
    def coordination(self) -> tuple[type, dict[str, Any]]:
        return LocalCoordinator, {}


@pytest.mark.postgres
class TestPostgresCoordination(CoordinationContract):
    @pytest.fixture
    def coordination(self, postgres_server: Any) -> tuple[type, dict[str, Any]]:
        from lightrag.storage.postgres.coordination import PostgresCoordinator

        return PostgresCoordinator, dict(postgres_server.params)
