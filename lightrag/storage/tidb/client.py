"""The TiDB (MySQL protocol) connection pool shared by every namespace's storage, and migrations.

One ``TiDBClient`` (one ``aiomysql`` pool) per database, handed out through
``ctx.clients`` under a key made of the connection parameters, so ten namespaces
on one database open one pool. ``migrate`` applies each component's schema steps
once, recorded in ``lightrag_schema_migrations`` and serialised by ``GET_LOCK`` so
servers starting together create the schema once. Operations go through
``run``: a lost connection (server restarted) is retried on a fresh one for up to
``reconnect_seconds``; a transaction the server aborted to break a deadlock or a
write conflict is run again (every operation here is idempotent or one
transaction that rolls back whole).

Every session runs with ``sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'``:
too-long values are errors instead of silent truncation, and backslash escapes
stay on, which the driver's client-side quoting relies on.
"""

from __future__ import annotations

import asyncio
import random
import ssl as _ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiomysql
import pymysql
from aiomysql import Connection
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from lightrag.storage.tidb import sql
from lightrag.vocabulary.errors import StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

__all__ = [
    "Connection",
    "TiDBClient",
    "TiDBConfig",
    "client_key",
    "effective_workspace",
    "release_tidb_client",
    "tidb_client",
    "transaction",
]

T = TypeVar("T")


_CONNECTION_CODES = frozenset(
    {
        1040,  # too many connections
        1053,  # server shutdown in progress
        1927,  # connection killed
        2003,  # can't connect
        2006,  # server has gone away
        2013,  # lost connection during query
        2014,  # commands out of sync (a connection broken mid-result)
        2055,  # lost connection (system error)
        8027,  # TiDB: information schema / PD unreachable while a node restarts
        9001,  # TiDB: PD server timeout
        9005,  # TiDB: region unavailable
    }
)
"""MySQL/TiDB error codes that mean the connection (not the statement) failed."""

_RETRY_CODES = frozenset(
    {
        1205,  # lock wait timeout
        1213,  # deadlock found; the transaction was rolled back
        8002,  # TiDB: SELECT FOR UPDATE cannot be retried (optimistic conflict)
        8022,  # TiDB: transaction retry failed
        8028,  # TiDB: the schema changed during the transaction
        9007,  # TiDB: write conflict
    }
)
"""Error codes of a transaction the server aborted (deadlock, write conflict): run it again."""

_RETRY_MESSAGES = ("pessimistic lock retry limit reached",)
"""TiDB reports some aborts under the generic code 1105; these messages mark them."""

_SESSION_SQL_MODE = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"
_MIGRATION_LOCK = "lightrag_schema_migrations"
_MIGRATION_LOCK_SECONDS = 120
_RETRY_FIRST_DELAY = 0.2
_RETRY_MAX_DELAY = 2.0
_CONFLICT_RETRIES = 10


class _Cursor(aiomysql.Cursor):
    """A cursor that does not ask ``SHOW WARNINGS`` after a statement with warnings (a
    round trip each; ``CREATE TABLE IF NOT EXISTS`` warns on every start). Strict mode
    makes data problems errors, which are raised as usual."""

    async def _show_warnings(self, conn: Any) -> None:
        return None


class TiDBConfig(BaseModel):
    """Connection parameters of the TiDB storages (every role shares them)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "localhost"
    port: int = Field(4000, ge=1, le=65535)
    user: str = "root"
    password: SecretStr = SecretStr("")
    database: str = Field("test", min_length=1, max_length=64)
    """The database (schema) holding the tables; it must exist (``TIDB_DATABASE``)."""
    workspace: str = ""
    """Workspace used when the server's own workspace is empty (``TIDB_WORKSPACE``)."""
    max_connections: int = Field(12, ge=1)
    """Pool size, shared by every namespace on this database (``TIDB_MAX_CONNECTIONS``)."""
    connect_timeout: float = Field(10.0, gt=0)
    """Seconds to wait for a new connection."""
    reconnect_seconds: float = Field(20.0, ge=0)
    """How long an operation retries a lost connection (a server restart) before it
    fails with ``StorageUnavailableError``; 0 fails at the first loss."""
    ssl: bool = False
    """Connect over TLS, verifying the server against the system CAs (TiDB Cloud)."""
    ssl_ca: str | None = None
    """A CA bundle to verify the server with instead of the system CAs (implies ``ssl``)."""
    vector_table: str = Field("lightrag_vectors", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """Table of the vector storage; its ``VECTOR(dim)`` column keeps the dimension it was
    created with, so a new embedding dimension needs another table name (or a drop)."""

    def where(self) -> str:
        """``host:port/database`` for messages (never the password)."""
        return f"{self.host}:{self.port}/{self.database}"

    def ssl_context(self) -> _ssl.SSLContext | None:
        if not (self.ssl or self.ssl_ca):
            return None
        return _ssl.create_default_context(cafile=self.ssl_ca)


def client_key(config: TiDBConfig) -> Hashable:
    """The hub key of a database: one pool per (host, port, user, database, TLS)."""
    return (
        "tidb",
        config.host,
        config.port,
        config.user,
        config.database,
        config.ssl,
        config.ssl_ca,
    )


def effective_workspace(ctx: StorageContext, config: TiDBConfig) -> str:
    """The server's workspace, or the configured ``workspace`` when the server has none."""
    return ctx.workspace or config.workspace


def _error_code(exc: BaseException) -> int | None:
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        return exc.args[0]
    return None


def _connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, OSError | asyncio.IncompleteReadError | pymysql.err.InterfaceError):
        return True
    return _error_code(exc) in _CONNECTION_CODES


def _aborted(exc: BaseException) -> bool:
    code = _error_code(exc)
    if code == 1105:
        return any(message in str(exc) for message in _RETRY_MESSAGES)
    return code in _RETRY_CODES


@asynccontextmanager
async def transaction(conn: Connection) -> AsyncIterator[None]:
    """``BEGIN`` ... ``COMMIT``; ``ROLLBACK`` (or, if that fails, a closed connection,
    which the pool then drops) when the body raises."""
    await conn.begin()
    try:
        yield
    except BaseException:
        try:
            await conn.rollback()
        except Exception:
            conn.close()
        raise
    await conn.commit()


class TiDBClient:
    """An ``aiomysql`` pool to one database plus schema migrations; a ``SharedClient``."""

    def __init__(self, config: TiDBConfig) -> None:
        self.config = config
        self._pool: aiomysql.Pool | None = None
        self._migrated: dict[str, int] = {}
        self._migrate_lock = asyncio.Lock()

    @property
    def pool(self) -> aiomysql.Pool:
        if self._pool is None:
            raise RuntimeError(f"tidb client for {self.config.where()} is not open")
        return self._pool

    def unavailable(self, exc: BaseException) -> StorageUnavailableError:
        """The error for a server that cannot be reached (host, port, database; no password)."""
        cfg = self.config
        return StorageUnavailableError(
            f"tidb: cannot reach {cfg.where()} as user {cfg.user!r}: {type(exc).__name__}: {exc}"
        )

    async def open(self) -> None:
        if self._pool is not None:
            return
        cfg = self.config
        try:
            pool = await aiomysql.create_pool(
                host=cfg.host,
                port=cfg.port,
                user=cfg.user,
                password=cfg.password.get_secret_value(),
                db=cfg.database,
                minsize=1,
                maxsize=cfg.max_connections,
                connect_timeout=cfg.connect_timeout,
                ssl=cfg.ssl_context(),
                charset="utf8mb4",
                autocommit=True,
                init_command=_SESSION_SQL_MODE,
                pool_recycle=3600,
                cursorclass=_Cursor,
            )
        except (OSError, pymysql.err.MySQLError, TimeoutError) as exc:
            raise self.unavailable(exc) from exc
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        self._migrated.clear()
        if pool is None:
            return
        pool.close()
        try:
            await asyncio.wait_for(pool.wait_closed(), timeout=10.0)
        except TimeoutError:
            pool.terminate()

    # -- operations retried while the connection is lost ---------------------------

    async def run(self, operation: Callable[[Connection], Awaitable[T]]) -> T:
        """``await operation(conn)`` on a pooled connection (autocommit unless the
        operation opens a ``transaction``). Retried on a fresh connection with growing
        pauses while the connection fails, for up to ``reconnect_seconds``, and again
        (a few times) when the server aborted it for a deadlock or write conflict."""
        deadline = time.monotonic() + self.config.reconnect_seconds
        delay = _RETRY_FIRST_DELAY
        conflicts = 0
        while True:
            try:
                async with self.pool.acquire() as conn:
                    try:
                        return await operation(conn)
                    except BaseException as exc:
                        if _connection_lost(exc):
                            conn.close()  # never hand a broken connection out again
                        raise
            except Exception as exc:
                if _aborted(exc) and conflicts < _CONFLICT_RETRIES:
                    conflicts += 1
                    # jittered, so the contenders that collided do not collide again
                    await asyncio.sleep(0.01 * conflicts * (1 + random.random()))
                    continue
                if not _connection_lost(exc):
                    raise
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self.unavailable(exc) from exc
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, _RETRY_MAX_DELAY)

    async def execute(self, statement: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""

        async def op(conn: Connection) -> int:
            async with conn.cursor() as cursor:
                return int(await cursor.execute(statement, tuple(args)))

        return await self.run(op)

    async def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """An ``INSERT ... VALUES (%s, ...)`` for many rows: multi-row statements of about
        1 MB each (the driver's batching), committed one by one (each row is idempotent)."""
        if not rows:
            return

        async def op(conn: Connection) -> None:
            async with conn.cursor() as cursor:
                await cursor.executemany(statement, [tuple(row) for row in rows])

        await self.run(op)

    async def fetch(self, statement: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async def op(conn: Connection) -> list[tuple[Any, ...]]:
            return await fetch(conn, statement, args)

        return await self.run(op)

    async def fetchval(self, statement: str, args: Sequence[Any] = ()) -> Any:
        rows = await self.fetch(statement, args)
        return rows[0][0] if rows else None

    # -- schema ---------------------------------------------------------------------

    async def migrate(self, component: str, steps: Sequence[Sequence[str]]) -> None:
        """Apply, in order, the steps of ``component`` not applied yet (version = 1-based
        index; a step is a list of statements), each recorded in
        ``lightrag_schema_migrations``, under ``GET_LOCK`` so concurrent servers on an
        empty database apply them once. DDL commits implicitly in MySQL and TiDB, so
        every statement must be idempotent (``CREATE TABLE IF NOT EXISTS``)."""
        async with self._migrate_lock:
            if self._migrated.get(component, 0) >= len(steps):
                return

            async def apply(conn: Connection) -> int:
                got = await fetch(
                    conn, "SELECT GET_LOCK(%s, %s)", (_MIGRATION_LOCK, _MIGRATION_LOCK_SECONDS)
                )
                if not got or got[0][0] != 1:
                    raise StorageUnavailableError(
                        f"tidb: schema migration lock not granted on {self.config.where()} "
                        f"within {_MIGRATION_LOCK_SECONDS} s (another server migrating?)"
                    )
                try:
                    async with conn.cursor() as cursor:
                        await cursor.execute(sql.MIGRATIONS_TABLE)
                        await cursor.execute(sql.MIGRATIONS_APPLIED, (component,))
                        applied = int((await cursor.fetchone())[0])
                        for version, step in enumerate(steps, start=1):
                            if version <= applied:
                                continue
                            for statement in step:
                                await cursor.execute(statement)
                            await cursor.execute(sql.MIGRATIONS_RECORD, (component, version))
                    return max(applied, len(steps))
                finally:
                    await fetch(conn, "SELECT RELEASE_LOCK(%s)", (_MIGRATION_LOCK,))

            self._migrated[component] = await self.run(apply)


async def fetch(
    conn: Connection, statement: str, args: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """Every row of one query on ``conn``."""
    async with conn.cursor() as cursor:
        await cursor.execute(statement, tuple(args))
        return list(await cursor.fetchall())


async def tidb_client(ctx: StorageContext, config: TiDBConfig) -> TiDBClient:
    """The pool of ``config``'s database, shared through ``ctx.clients`` (opened once)."""
    return await ctx.clients.acquire(client_key(config), lambda: TiDBClient(config))


async def release_tidb_client(ctx: StorageContext, config: TiDBConfig) -> None:
    """Give back what ``tidb_client`` handed out (the last user closes the pool)."""
    await ctx.clients.release(client_key(config))
