"""What every Oracle storage shares: params, the pooled client, scoping, lifecycle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import oracledb

from lightrag.storage._params import parse_params
from lightrag.storage.oracle import sql
from lightrag.storage.oracle.client import (
    OracleClient,
    OracleConfig,
    effective_workspace,
    fetch,
    oracle_client,
    release_oracle_client,
)
from lightrag.storage.oracle.codec import split_by_size, stored_workspace
from lightrag.vocabulary.storage import StorageContext

__all__ = ["OracleStorageBase", "write_rows"]


async def write_rows(conn: Any, statement: str, rows: list[dict[str, Any]], lob: str) -> None:
    """``executemany`` of ``statement`` over ``rows``: rows whose ``lob`` column fits a
    VARCHAR2 bind first, then the others with that column bound as a CLOB."""
    small, large = split_by_size(rows, lob)
    with conn.cursor() as cursor:
        if small:
            await cursor.executemany(statement, small)
    if large:
        with conn.cursor() as cursor:
            cursor.setinputsizes(**{lob: oracledb.DB_TYPE_CLOB})
            await cursor.executemany(statement, large)


class OracleStorageBase:
    """Scoped by ``(workspace, namespace)``; the pool comes from ``ctx.clients``."""

    shared: ClassVar[bool] = True
    config_model: ClassVar[type[OracleConfig]] = OracleConfig
    backend_name: ClassVar[str] = "oracle storage"
    schema_component: ClassVar[str] = ""
    schema_steps: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(OracleConfig, params, self.backend_name)
        self.workspace = effective_workspace(ctx, self.config)
        self.namespace = ctx.namespace
        self._client: OracleClient | None = None

    @property
    def client(self) -> OracleClient:
        if self._client is None:
            raise RuntimeError(
                f"{self.backend_name} {self.namespace!r} is not initialised (call initialize())"
            )
        return self._client

    def binds(self, **extra: Any) -> dict[str, Any]:
        """``:ws``/``:ns`` of this storage plus ``extra``."""
        return sql.scoped(stored_workspace(self.workspace), self.namespace, **extra)

    async def initialize(self) -> None:
        if self._client is not None:
            return
        client = await oracle_client(self.ctx, self.config)
        try:
            await self._create_schema(client)
        except BaseException:
            await release_oracle_client(self.ctx, self.config)
            raise
        self._client = client

    async def _create_schema(self, client: OracleClient) -> None:
        """Apply this storage's schema steps (and check the schema fits)."""
        if self.schema_steps:
            await client.migrate(self.schema_component, self.schema_steps)

    async def finalize(self) -> None:
        if self._client is None:
            return
        self._client = None
        await release_oracle_client(self.ctx, self.config)

    async def index_done(self) -> None:
        """Nothing to flush: every write is committed when it returns."""

    async def fetch_by_ids(
        self, statement_for: Any, ids: Sequence[str], **extra: Any
    ) -> list[tuple[Any, ...]]:
        """Rows of ``statement_for(count)`` over the distinct ``ids``, one ``IN``-list
        chunk of at most ``sql.MAX_IN`` ids per statement, on one pooled connection."""
        unique = list(dict.fromkeys(ids))
        if not unique:
            return []

        async def op(conn: Any) -> list[tuple[Any, ...]]:
            rows: list[tuple[Any, ...]] = []
            for chunk in sql.chunks(unique):
                binds = self.binds(**extra, **sql.in_binds("k", chunk))
                rows.extend(await fetch(conn, statement_for(len(chunk)), binds))
            return rows

        return await self.client.run(op)
