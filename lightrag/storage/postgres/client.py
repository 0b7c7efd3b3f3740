"""The PostgreSQL connection pool shared by every namespace's storage, and schema migrations.

One ``PostgresClient`` (one ``asyncpg`` pool) per database, handed out through
``ctx.clients`` (the server's ``ClientHub``) under a key made of the connection
parameters, so ten namespaces on one database open one pool. ``migrate`` applies
each component's SQL steps once, recorded in ``lightrag_schema_migrations`` and
serialised by an advisory lock, so servers starting together create the schema
once. Operations go through ``run``/``execute``/``fetch``...: a connection-level
error (server restarted) expires the pool's connections and retries once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any, Literal, TypeVar

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from lightrag.vocabulary.errors import StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

__all__ = [
    "CONNECTION_ERRORS",
    "PostgresClient",
    "PostgresConfig",
    "client_key",
    "effective_workspace",
    "postgres_client",
    "release_postgres_client",
]

T = TypeVar("T")

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.InterfaceError,
    # raised while a pooled connection is reset on release after the server dropped it
    asyncpg.exceptions.InternalClientError,
    OSError,
)
"""Errors that mean the connection (not the statement) failed: worth retrying."""

_MIGRATION_LOCK = 0x4C525F4D4947  # pg_advisory_xact_lock key of schema migrations ("LR_MIG")
_RETRY_FIRST_DELAY = 0.2
_RETRY_MAX_DELAY = 2.0


class PostgresConfig(BaseModel):
    """Connection parameters of the PostgreSQL storages (every role shares them)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "localhost"
    port: int = Field(5432, ge=1, le=65535)
    user: str = "postgres"
    password: SecretStr = SecretStr("")
    database: str = "postgres"
    workspace: str = ""
    """Workspace used when the server's own workspace is empty (``POSTGRES_WORKSPACE``)."""
    max_connections: int = Field(12, ge=1)
    """Pool size, shared by every namespace on this database (``POSTGRES_MAX_CONNECTIONS``)."""
    connect_timeout: float = Field(10.0, gt=0)
    """Seconds to wait for a new connection."""
    reconnect_seconds: float = Field(20.0, ge=0)
    """How long an operation retries a lost connection (a server restart or fail-over)
    before it fails with ``StorageUnavailableError``; 0 fails at the first loss."""
    ssl_mode: SslMode | None = None
    """libpq-style SSL mode; ``None`` leaves asyncpg's default (``prefer``)."""
    vector_table: str = Field("lightrag_vectors", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """Table of the vector storage; its vector column has the dimension it was created with,
    so a new embedding dimension needs another table name (or dropping this one)."""

    def where(self) -> str:
        """``host:port/database`` for messages (never the password)."""
        return f"{self.host}:{self.port}/{self.database}"


def client_key(config: PostgresConfig) -> Hashable:
    """The hub key of a database: one pool per (host, port, user, database, ssl)."""
    return ("postgres", config.host, config.port, config.user, config.database, config.ssl_mode)


def effective_workspace(ctx: StorageContext, config: PostgresConfig) -> str:
    """The server's workspace, or the configured ``workspace`` when the server has none."""
    return ctx.workspace or config.workspace


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("jsonb", "json"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset query on release (a round trip per operation): the storages
    leave no session state behind (transaction-scoped locks and ``SET LOCAL`` only, no
    LISTEN, no cursors); an open transaction is still rolled back by the pool."""


class PostgresClient:
    """An ``asyncpg`` pool to one database plus schema migrations; a ``SharedClient``."""

    def __init__(self, config: PostgresConfig) -> None:
        self.config = config
        self._pool: asyncpg.Pool | None = None
        self._migrated: dict[str, int] = {}
        self._migrate_lock = asyncio.Lock()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"postgres client for {self.config.where()} is not open")
        return self._pool

    def unavailable(self, exc: BaseException) -> StorageUnavailableError:
        """The error for a server that cannot be reached (host, port, database; no password)."""
        cfg = self.config
        return StorageUnavailableError(
            f"postgres: cannot reach {cfg.where()} as user {cfg.user!r}: "
            f"{type(exc).__name__}: {exc}"
        )

    async def open(self) -> None:
        if self._pool is not None:
            return
        cfg = self.config
        try:
            self._pool = await asyncpg.create_pool(
                host=cfg.host,
                port=cfg.port,
                user=cfg.user,
                password=cfg.password.get_secret_value() or None,
                database=cfg.database,
                min_size=1,
                max_size=cfg.max_connections,
                timeout=cfg.connect_timeout,
                ssl=cfg.ssl_mode,
                init=_init_connection,
                reset=_keep_session,
                server_settings={"application_name": "lightrag"},
            )
        except (*CONNECTION_ERRORS, asyncpg.PostgresError, TimeoutError) as exc:
            raise self.unavailable(exc) from exc

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        self._migrated.clear()
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), timeout=10.0)
        except TimeoutError:
            pool.terminate()

    # -- operations retried while the connection is lost ---------------------------

    async def run(self, operation: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """``await operation(conn)`` on a pooled connection, retried on a fresh connection
        with growing pauses while the connection fails (a server restart), for up to
        ``reconnect_seconds``. Operations must be idempotent (every write here is an
        upsert or delete by key, or a transaction that rolls back whole)."""
        deadline = time.monotonic() + self.config.reconnect_seconds
        delay = _RETRY_FIRST_DELAY
        while True:
            try:
                async with self.pool.acquire() as conn:
                    return await operation(conn)
            except CONNECTION_ERRORS as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self.unavailable(exc) from exc
                await self.pool.expire_connections()
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, _RETRY_MAX_DELAY)

    async def execute(self, sql: str, *args: Any) -> str:
        return await self.run(lambda conn: conn.execute(sql, *args))

    async def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        rows = list(args)
        if not rows:
            return

        async def op(conn: asyncpg.Connection) -> None:
            async with conn.transaction():
                await conn.executemany(sql, rows)

        await self.run(op)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.run(lambda conn: conn.fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self.run(lambda conn: conn.fetchrow(sql, *args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.run(lambda conn: conn.fetchval(sql, *args))

    # -- schema ---------------------------------------------------------------------

    async def migrate(self, component: str, steps: Sequence[str]) -> None:
        """Apply, in order, the steps of ``component`` not applied yet (version = 1-based
        index), each recorded in ``lightrag_schema_migrations``, in one transaction under
        an advisory lock so concurrent servers on an empty database apply them once."""
        async with self._migrate_lock:
            if self._migrated.get(component, 0) >= len(steps):
                return

            async def apply(conn: asyncpg.Connection) -> int:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
                    await conn.execute(
                        "CREATE TABLE IF NOT EXISTS lightrag_schema_migrations ("
                        " component text NOT NULL, version integer NOT NULL,"
                        " applied_at timestamptz NOT NULL DEFAULT now(),"
                        " PRIMARY KEY (component, version))"
                    )
                    applied = await conn.fetchval(
                        "SELECT coalesce(max(version), 0) FROM lightrag_schema_migrations"
                        " WHERE component = $1",
                        component,
                    )
                    for version, step in enumerate(steps, start=1):
                        if version <= applied:
                            continue
                        await conn.execute(step)
                        await conn.execute(
                            "INSERT INTO lightrag_schema_migrations (component, version)"
                            " VALUES ($1, $2)",
                            component,
                            version,
                        )
                    return max(int(applied), len(steps))

            self._migrated[component] = await self.run(apply)


async def postgres_client(ctx: StorageContext, config: PostgresConfig) -> PostgresClient:
    """The pool of ``config``'s database, shared through ``ctx.clients`` (opened once)."""
    return await ctx.clients.acquire(client_key(config), lambda: PostgresClient(config))


async def release_postgres_client(ctx: StorageContext, config: PostgresConfig) -> None:
    """Give back what ``postgres_client`` handed out (the last user closes the pool)."""
    await ctx.clients.release(client_key(config))
