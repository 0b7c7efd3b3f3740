"""What every PostgreSQL storage shares: params, the pooled client, scoping, lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from lightrag.storage._params import parse_params
from lightrag.storage.postgres.client import (
    PostgresClient,
    PostgresConfig,
    effective_workspace,
    postgres_client,
    release_postgres_client,
)
from lightrag.vocabulary.storage import StorageContext

__all__ = ["PostgresStorageBase", "like_prefix"]


def like_prefix(prefix: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern matching strings that start with ``prefix``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


class PostgresStorageBase:
    """Scoped by ``(workspace, namespace)``; the pool comes from ``ctx.clients``."""

    shared: ClassVar[bool] = True
    config_model: ClassVar[type[PostgresConfig]] = PostgresConfig
    backend_name: ClassVar[str] = "postgres storage"

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(PostgresConfig, params, self.backend_name)
        self.workspace = effective_workspace(ctx, self.config)
        self.namespace = ctx.namespace
        self._client: PostgresClient | None = None

    @property
    def client(self) -> PostgresClient:
        if self._client is None:
            raise RuntimeError(
                f"{self.backend_name} {self.namespace!r} is not initialised (call initialize())"
            )
        return self._client

    async def initialize(self) -> None:
        if self._client is not None:
            return
        client = await postgres_client(self.ctx, self.config)
        try:
            await self._create_schema(client)
        except BaseException:
            await release_postgres_client(self.ctx, self.config)
            raise
        self._client = client

    async def _create_schema(self, client: PostgresClient) -> None:
        """Apply this storage's migrations (and check the schema fits)."""

    async def finalize(self) -> None:
        if self._client is None:
            return
        self._client = None
        await release_postgres_client(self.ctx, self.config)

    async def index_done(self) -> None:
        """Nothing to flush: every write is committed when it returns."""
