"""The Oracle connection pool shared by every storage on one database, and schema steps.

One ``OracleClient`` (one ``oracledb`` thin-mode async pool: no Oracle Client
libraries needed) per (dsn, user), handed out through ``ctx.clients`` so that ten
namespaces on one database open one pool. Operations go through ``run``: a lost
connection (server restart, fail-over) is dropped from the pool and the operation
retried on a fresh one for up to ``reconnect_seconds``; a write that lost a race
(two ``MERGE`` inserting one new key: ORA-00001, or a deadlock: ORA-00060) is
rolled back and run again. ``migrate`` applies a component's DDL steps once per
database, recorded in ``lightrag_schema_migrations``; a step whose object already
exists (another server created it first) counts as done.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from enum import Enum
from typing import Any, TypeVar

import oracledb
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from lightrag.storage.oracle import sql
from lightrag.vocabulary.errors import StorageSchemaError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

__all__ = [
    "ALREADY_EXISTS",
    "ErrorKind",
    "OracleClient",
    "OracleConfig",
    "classify",
    "client_key",
    "effective_workspace",
    "error_code",
    "oracle_client",
    "release_oracle_client",
]

T = TypeVar("T")

_RETRY_FIRST_DELAY = 0.2
_RETRY_MAX_DELAY = 2.0
_CONFLICT_RETRIES = 5


class ErrorKind(Enum):
    """What an Oracle error means for the operation that raised it."""

    CONNECTION = "connection"  # the session is gone: retry on a fresh connection
    CONFLICT = "conflict"  # a concurrent write won: roll back and run again
    ALREADY_EXISTS = "already_exists"  # DDL of an object that is there: done
    AUTH = "auth"  # wrong user or password, locked account: no retry
    DIMENSION = "dimension"  # a vector of another dimension than the column's
    OTHER = "other"


CONNECTION_CODES = frozenset(
    {
        "ORA-00028",  # your session has been killed
        "ORA-01012",  # not logged on
        "ORA-01033",  # initialization or shutdown in progress
        "ORA-01034",  # ORACLE not available
        "ORA-01089",  # immediate shutdown in progress
        "ORA-02396",  # exceeded maximum idle time
        "ORA-03113",  # end-of-file on communication channel
        "ORA-03114",  # not connected to ORACLE
        "ORA-03135",  # connection lost contact
        "ORA-12170",  # connect timeout
        "ORA-12514",  # listener does not know the service (yet: database starting)
        "ORA-12528",  # listener: all handlers blocked
        "ORA-12537",  # connection closed
        "ORA-12541",  # no listener
        "ORA-12547",  # lost contact
        "DPY-1001",  # not connected to database
        "DPY-4011",  # the database or network closed the connection
        "DPY-6005",  # cannot connect to database
    }
)
CONFLICT_CODES = frozenset({"ORA-00001", "ORA-00060", "ORA-08177"})
ALREADY_EXISTS = frozenset(
    {
        "ORA-00955",  # name is already used by an existing object
        "ORA-01408",  # such column list already indexed
        "ORA-02260",  # table can have only one primary key
        "ORA-02264",  # name already used by an existing constraint
        "ORA-02275",  # such a referential constraint already exists
    }
)
AUTH_CODES = frozenset({"ORA-01017", "ORA-28000", "ORA-28001", "ORA-01045"})
DIMENSION_CODES = frozenset({"ORA-51803"})  # vector dimension count must match


def error_code(exc: BaseException) -> str:
    """The ``ORA-nnnnn``/``DPY-nnnn`` code of a driver error, or ``""``."""
    if isinstance(exc, oracledb.Error) and exc.args:
        return str(getattr(exc.args[0], "full_code", "") or "")
    return ""


def classify(exc: BaseException) -> ErrorKind:
    """What ``exc`` means: see ``ErrorKind`` (``OSError`` and timeouts are connection
    losses; any other non-driver exception is ``OTHER``)."""
    if isinstance(exc, OSError | TimeoutError):
        return ErrorKind.CONNECTION
    code = error_code(exc)
    if code in AUTH_CODES:
        return ErrorKind.AUTH
    if code in CONNECTION_CODES:
        return ErrorKind.CONNECTION
    if code in CONFLICT_CODES:
        return ErrorKind.CONFLICT
    if code in ALREADY_EXISTS:
        return ErrorKind.ALREADY_EXISTS
    if code in DIMENSION_CODES:
        return ErrorKind.DIMENSION
    detail: Any = exc.args[0] if isinstance(exc, oracledb.Error) and exc.args else None
    if getattr(detail, "isrecoverable", False):
        return ErrorKind.CONNECTION
    return ErrorKind.OTHER


def _none_if_empty(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, SecretStr) and not value.get_secret_value():
        return None
    return value


class OracleConfig(BaseModel):
    """Connection parameters of the Oracle storages (every role shares them)."""

    model_config = ConfigDict(extra="forbid")

    dsn: str = "localhost:1521/XEPDB1"
    """Easy Connect string (``host:port/service``), a TNS alias or a full descriptor
    (``ORACLE_DSN``)."""
    user: str = Field("", description="ORACLE_USER")
    password: SecretStr = SecretStr("")
    config_dir: str | None = None
    """Directory of ``tnsnames.ora`` for TNS aliases (``ORACLE_CONFIG_DIR``)."""
    wallet_location: str | None = None
    """Directory of ``ewallet.pem`` for TLS (mTLS to Autonomous Database;
    ``ORACLE_WALLET_LOCATION``)."""
    wallet_password: SecretStr | None = None
    workspace: str = ""
    """Workspace used when the server's own workspace is empty (``ORACLE_WORKSPACE``)."""
    max_connections: int = Field(12, ge=1)
    """Pool size, shared by every namespace on this database (``ORACLE_MAX_CONNECTIONS``)."""
    connect_timeout: float = Field(10.0, gt=0)
    """Seconds to wait for a new connection (TCP connect)."""
    reconnect_seconds: float = Field(20.0, ge=0)
    """How long an operation retries a lost connection before it fails with
    ``StorageUnavailableError``; 0 fails at the first loss."""
    vector_table: str = Field("lightrag_vectors", pattern=sql.VECTOR_TABLE_NAME)
    """Table of the vector storage; its ``VECTOR`` column keeps the dimension it was
    created with, so a new embedding dimension needs another table (or dropping it)."""

    _empty_is_none = field_validator(
        "config_dir", "wallet_location", "wallet_password", mode="before"
    )(_none_if_empty)

    @field_validator("dsn")
    @classmethod
    def _dsn_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an Oracle DSN is needed (ORACLE_DSN, e.g. localhost:1521/FREEPDB1)")
        return value.strip()

    def where(self) -> str:
        """The DSN for messages (never the password)."""
        return self.dsn

    def pool_params(self) -> dict[str, Any]:
        """The keyword arguments of ``oracledb.create_pool_async`` (password included)."""
        params: dict[str, Any] = {
            "dsn": self.dsn,
            "user": self.user or None,
            "password": self.password.get_secret_value() or None,
            "min": 1,
            "max": self.max_connections,
            "increment": 1,
            "tcp_connect_timeout": self.connect_timeout,
            "program": "lightrag",
        }
        if self.config_dir:
            params["config_dir"] = self.config_dir
        if self.wallet_location:
            params["wallet_location"] = self.wallet_location
        if self.wallet_password is not None:
            params["wallet_password"] = self.wallet_password.get_secret_value()
        return params


def client_key(config: OracleConfig) -> Hashable:
    """The hub key of a database: one pool per (dsn, user, config dir, wallet)."""
    return ("oracle", config.dsn, config.user, config.config_dir, config.wallet_location)


def effective_workspace(ctx: StorageContext, config: OracleConfig) -> str:
    """The server's workspace, or the configured ``workspace`` when the server has none."""
    return ctx.workspace or config.workspace


class OracleClient:
    """An ``oracledb`` async pool to one database plus schema steps; a ``SharedClient``."""

    def __init__(self, config: OracleConfig) -> None:
        self.config = config
        self._pool: Any = None
        self._migrated: dict[str, int] = {}
        self._migrate_lock = asyncio.Lock()
        self._prepared: set[tuple[Any, Any]] = set()

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError(f"oracle client for {self.config.where()} is not open")
        return self._pool

    def unavailable(self, exc: BaseException) -> StorageUnavailableError:
        """The error for a database that cannot be reached (DSN and user; no password)."""
        return StorageUnavailableError(
            f"oracle: cannot reach {self.config.where()} as user {self.config.user!r}: "
            f"{type(exc).__name__}: {exc}"
        )

    async def open(self) -> None:
        """Create the pool and check one connection (so a bad DSN or password fails at
        start-up with ``StorageUnavailableError``)."""
        if self._pool is not None:
            return
        if not self.config.user:
            # without a user the driver would read "host:port/service" as "user/password"
            raise StorageUnavailableError(
                f"oracle: no user for {self.config.where()}: set ORACLE_USER and "
                "ORACLE_PASSWORD (thin mode has no external authentication)"
            )
        try:
            pool = oracledb.create_pool_async(**self.config.pool_params())
        except oracledb.Error as exc:
            raise self.unavailable(exc) from exc
        try:
            conn = await pool.acquire()
            try:
                await self._prepare(conn)
            finally:
                await pool.release(conn)
        except (oracledb.Error, OSError, TimeoutError) as exc:
            await _close_quietly(pool)
            raise self.unavailable(exc) from exc
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        self._migrated.clear()
        if pool is not None:
            await _close_quietly(pool)

    async def _prepare(self, conn: Any) -> None:
        """Per-session settings, once per database session (the pool hands out new
        connection objects for one session, so sessions are known by id and serial)."""
        session = (getattr(conn, "session_id", None), getattr(conn, "serial_num", None))
        if session[0] is not None and session in self._prepared:
            return
        with conn.cursor() as cursor:
            await cursor.execute(sql.SESSION_SETUP)
        if session[0] is not None:
            if len(self._prepared) > 10 * self.config.max_connections:
                self._prepared.clear()  # sessions that left the pool: forget them
            self._prepared.add(session)

    async def run(self, operation: Callable[[Any], Awaitable[T]], *, write: bool = False) -> T:
        """``await operation(conn)`` on a pooled connection; a write is committed after it.

        A failure rolls back. A lost connection is dropped and the operation retried with
        growing pauses for up to ``reconnect_seconds`` (then ``StorageUnavailableError``);
        a lost write race (``ErrorKind.CONFLICT``) is retried a few times. Operations must
        therefore be idempotent (upserts and deletes by key). A vector of the wrong
        dimension raises ``StorageSchemaError``.
        """
        deadline = time.monotonic() + self.config.reconnect_seconds
        delay = _RETRY_FIRST_DELAY
        conflicts = 0
        while True:
            conn: Any = None
            try:
                conn = await self.pool.acquire()
                await self._prepare(conn)
                result = await operation(conn)
                if write:
                    await conn.commit()
                await self.pool.release(conn)
                return result
            except Exception as exc:
                kind = classify(exc)
                await self._give_back(conn, healthy=kind is not ErrorKind.CONNECTION)
                if kind is ErrorKind.CONFLICT and conflicts < _CONFLICT_RETRIES:
                    conflicts += 1
                    await asyncio.sleep(0.01 * conflicts)
                    continue
                if kind is ErrorKind.DIMENSION:
                    raise StorageSchemaError(
                        f"oracle: {exc} (the vector table on {self.config.where()} was made "
                        "for another embedding dimension)"
                    ) from exc
                if kind is ErrorKind.AUTH:
                    raise self.unavailable(exc) from exc
                if kind is not ErrorKind.CONNECTION:
                    raise
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self.unavailable(exc) from exc
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, _RETRY_MAX_DELAY)

    async def _give_back(self, conn: Any, *, healthy: bool) -> None:
        if conn is None:
            return
        try:
            if healthy:
                await conn.rollback()
                await self.pool.release(conn)
            else:
                await self.pool.drop(conn)
        except Exception:  # the session is gone already: drop it, never mask the cause
            with contextlib.suppress(Exception):
                await self.pool.drop(conn)

    # -- helpers ----------------------------------------------------------------------

    async def fetchall(self, statement: str, binds: dict[str, Any]) -> list[tuple[Any, ...]]:
        async def op(conn: Any) -> list[tuple[Any, ...]]:
            return await fetch(conn, statement, binds)

        return await self.run(op)

    async def fetchone(self, statement: str, binds: dict[str, Any]) -> tuple[Any, ...] | None:
        rows = await self.fetchall(statement, binds)
        return rows[0] if rows else None

    async def execute(self, statement: str, binds: dict[str, Any]) -> int:
        """Run one DML statement and commit; returns the row count."""

        async def op(conn: Any) -> int:
            with conn.cursor() as cursor:
                await cursor.execute(statement, binds)
                return int(cursor.rowcount or 0)

        return await self.run(op, write=True)

    # -- schema -------------------------------------------------------------------------

    async def migrate(self, component: str, steps: Sequence[str]) -> None:
        """Apply the steps of ``component`` not recorded yet (version = 1-based index).

        DDL commits by itself in Oracle, so concurrent servers may both run a step: the
        loser's "already exists" error counts as done, and so does a duplicate record.
        """
        async with self._migrate_lock:
            if self._migrated.get(component, 0) >= len(steps):
                return

            async def apply(conn: Any) -> int:
                with conn.cursor() as cursor:
                    await _ddl(cursor, sql.MIGRATIONS_SCHEMA)
                    await cursor.execute(sql.MIGRATION_APPLIED, {"component": component})
                    row = await cursor.fetchone()
                    applied = int(row[0]) if row else 0
                    for version, step in enumerate(steps, start=1):
                        if version <= applied:
                            continue
                        await _ddl(cursor, step)
                        # a duplicate: another server recorded it first
                        with contextlib.suppress(oracledb.IntegrityError):
                            await cursor.execute(
                                sql.MIGRATION_RECORD, {"component": component, "version": version}
                            )
                        await conn.commit()
                return max(applied, len(steps))

            self._migrated[component] = await self.run(apply)


async def fetch(conn: Any, statement: str, binds: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every row of ``statement``; CLOBs come back as ``str``."""
    with conn.cursor() as cursor:
        await cursor.execute(statement, binds, fetch_lobs=False)
        return list(await cursor.fetchall())


async def _ddl(cursor: Any, statement: str) -> None:
    try:
        await cursor.execute(statement)
    except oracledb.DatabaseError as exc:
        if classify(exc) is not ErrorKind.ALREADY_EXISTS:
            raise


async def _close_quietly(pool: Any) -> None:
    # closing a pool to a dead server must not hide the error that made us close it
    with contextlib.suppress(Exception):
        await asyncio.wait_for(pool.close(force=True), timeout=10.0)


async def oracle_client(ctx: StorageContext, config: OracleConfig) -> OracleClient:
    """The pool of ``config``'s database, shared through ``ctx.clients`` (opened once)."""
    return await ctx.clients.acquire(client_key(config), lambda: OracleClient(config))


async def release_oracle_client(ctx: StorageContext, config: OracleConfig) -> None:
    """Give back what ``oracle_client`` handed out (the last user closes the pool)."""
    await ctx.clients.release(client_key(config))
