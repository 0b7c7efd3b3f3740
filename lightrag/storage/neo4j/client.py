"""The Neo4j driver shared by every namespace's storage, its settings, errors and schema.

One ``Neo4jClient`` (one ``neo4j`` async driver, one connection pool) per server and
credentials, handed out through ``ctx.clients`` (the server's ``ClientHub``), so the
graph and the vector namespaces on one Neo4j open one pool. Work runs in managed
transactions (``read``/``write``): the driver retries them on transient errors
(deadlocks, leader changes) and lost connections (a server restart) for up to
``max_transaction_retry_time`` seconds, so every unit of work is idempotent.
``ensure_schema`` creates constraints and indexes once per client with
``IF NOT EXISTS`` (servers starting together may race: the loser's "already exists"
is not an error) and waits until they are online.

Workspaces are a property of every node, never a database: Neo4j Community has one
user database (``neo4j``) and cannot create others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from lightrag.vocabulary.errors import StorageError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

__all__ = [
    "Neo4jClient",
    "Neo4jConfig",
    "client_key",
    "effective_workspace",
    "neo4j_client",
    "release_neo4j_client",
]

T = TypeVar("T")

_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
_INDEX_ONLINE_TIMEOUT = 300  # seconds a new index may take to come online


class Neo4jConfig(BaseModel):
    """Connection parameters of the Neo4j storages (graph and vector share them)."""

    model_config = ConfigDict(extra="forbid")

    uri: str = "neo4j://localhost:7687"
    """``neo4j://`` (routing), ``bolt://`` (one server), ``+s``/``+ssc`` for TLS."""
    username: str = "neo4j"
    password: SecretStr = SecretStr("")
    database: str = "neo4j"
    """The database to use; empty = the server's default. Community has only ``neo4j``."""
    workspace: str = ""
    """Workspace used when the server's own workspace is empty (``NEO4J_WORKSPACE``)."""
    max_connection_pool_size: int = Field(50, ge=1)
    """Connections in the pool shared by every namespace on this server."""
    connection_timeout: float = Field(30.0, gt=0)
    """Seconds to wait for a new connection."""
    connection_acquisition_timeout: float = Field(30.0, gt=0)
    """Seconds to wait for a free connection of the pool."""
    max_transaction_retry_time: float = Field(30.0, ge=0)
    """How long a transaction is retried on transient errors and lost connections (a
    server restart) before it fails with ``StorageUnavailableError``."""
    max_connection_lifetime: float = Field(300.0, gt=0)
    """Seconds after which a pooled connection is closed and replaced."""
    liveness_check_timeout: float | None = Field(30.0, ge=0)
    """A connection idle this long is checked before use (``None``: never)."""
    keep_alive: bool = True
    batch_size: int = Field(2000, ge=1)
    """Rows per ``UNWIND`` statement of a batch write (one transaction per batch)."""
    vector_label_prefix: str = Field("LightRAGVector", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,40}$")
    """Label prefix of the vector storage's nodes: each namespace gets the label
    ``<prefix>_<namespace>_<hash>`` and a vector index of the dimension it was created
    with, so a new embedding dimension needs another prefix (or dropping the index)."""

    @field_validator("uri")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in _SCHEMES:
            raise ValueError(
                f"{value!r} is not a Neo4j URI: the scheme must be one of {', '.join(_SCHEMES)} "
                "(e.g. neo4j://localhost:7687)"
            )
        return value

    def address(self) -> str:
        """``host:port`` of the server (never the password), for messages."""
        parts = urlsplit(self.uri)
        try:
            port = parts.port or 7687
        except ValueError:
            port = 7687
        return f"{parts.hostname or 'localhost'}:{port}"

    def database_name(self) -> str | None:
        return self.database or None


def client_key(config: Neo4jConfig) -> Hashable:
    """The hub key: one driver per server, credentials, database and pool settings."""
    return (
        "neo4j",
        config.uri,
        config.username,
        config.password.get_secret_value(),
        config.database,
        config.max_connection_pool_size,
        config.connection_timeout,
        config.connection_acquisition_timeout,
        config.max_transaction_retry_time,
        config.max_connection_lifetime,
        config.liveness_check_timeout,
        config.keep_alive,
    )


def effective_workspace(ctx: StorageContext, config: Neo4jConfig) -> str:
    """The server's workspace, or the configured ``workspace`` when the server has none."""
    return ctx.workspace or config.workspace


class Neo4jClient:
    """One ``neo4j.AsyncDriver`` (its pool) plus schema bookkeeping; a ``SharedClient``."""

    def __init__(self, config: Neo4jConfig) -> None:
        self.config = config
        self._driver: Any = None
        self._schema_done: set[str] = set()
        self._schema_lock = asyncio.Lock()

    @property
    def driver(self) -> Any:
        if self._driver is None:
            raise RuntimeError(f"neo4j client for {self.config.address()} is not open")
        return self._driver

    async def open(self) -> None:
        if self._driver is not None:
            return
        from neo4j import AsyncGraphDatabase

        cfg = self.config
        driver = AsyncGraphDatabase.driver(
            cfg.uri,
            auth=(cfg.username, cfg.password.get_secret_value()),
            max_connection_pool_size=cfg.max_connection_pool_size,
            connection_timeout=cfg.connection_timeout,
            connection_acquisition_timeout=cfg.connection_acquisition_timeout,
            max_transaction_retry_time=cfg.max_transaction_retry_time,
            max_connection_lifetime=cfg.max_connection_lifetime,
            liveness_check_timeout=cfg.liveness_check_timeout,
            keep_alive=cfg.keep_alive,
            user_agent="lightrag-server",
        )
        try:
            async with self.guard("connect"):
                await driver.verify_connectivity()
                # a missing database (NEO4J_DATABASE on Community) fails here, at start-up
                async with driver.session(database=cfg.database_name()) as session:
                    result = await session.run("RETURN 1")
                    await result.consume()
        except BaseException:
            await driver.close()
            raise
        self._driver = driver

    async def close(self) -> None:
        driver, self._driver = self._driver, None
        self._schema_done.clear()
        if driver is not None:
            await driver.close()

    # -- work in managed (retried) transactions ----------------------------------------

    def _session(self, access_mode: str) -> Any:
        return self.driver.session(
            database=self.config.database_name(),
            default_access_mode=access_mode,
            bookmark_manager=self.driver.execute_query_bookmark_manager,
        )

    async def read(self, work: Callable[[Any], Awaitable[T]], what: str) -> T:
        """``await work(tx)`` in a read transaction, retried by the driver."""
        async with self.guard(what), self._session("READ") as session:
            return await session.execute_read(work)

    async def write(self, work: Callable[[Any], Awaitable[T]], what: str) -> T:
        """``await work(tx)`` in a write transaction, retried by the driver; ``work`` must
        be idempotent (it may run again after a transient failure)."""
        async with self.guard(what), self._session("WRITE") as session:
            return await session.execute_write(work)

    async def fetch(self, cypher: str, what: str, **params: Any) -> list[Any]:
        """The records of one read statement."""

        async def work(tx: Any) -> list[Any]:
            result = await tx.run(cypher, params)
            return [record async for record in result]

        return await self.read(work, what)

    async def execute(self, cypher: str, what: str, **params: Any) -> None:
        """Run one write statement in its own transaction."""

        async def work(tx: Any) -> None:
            result = await tx.run(cypher, params)
            await result.consume()

        await self.write(work, what)

    # -- schema ---------------------------------------------------------------------

    async def ensure_schema(
        self, component: str, statements: Sequence[str], index_names: Sequence[str]
    ) -> None:
        """Run ``statements`` (``CREATE ... IF NOT EXISTS``) once per client, then wait until
        the named indexes are online. Several servers may do this at once: a statement
        that lost the race ("already exists") counts as done."""
        from neo4j.exceptions import ClientError

        async with self._schema_lock:
            if component in self._schema_done:
                return
            for statement in statements:
                try:
                    await self.execute(statement, f"create schema ({component})")
                except ClientError as exc:
                    if not str(exc.code or "").endswith("AlreadyExists"):
                        raise
            for name in index_names:
                await self.execute(
                    "CALL db.awaitIndex($name, $timeout)",
                    f"wait for index {name}",
                    name=name,
                    timeout=_INDEX_ONLINE_TIMEOUT,
                )
            self._schema_done.add(component)

    # -- errors -----------------------------------------------------------------------

    @asynccontextmanager
    async def guard(self, what: str) -> AsyncIterator[None]:
        """Turn connection and credential failures into ``StorageUnavailableError`` naming
        host and port (never the password), and a missing database into a hint."""
        from neo4j.exceptions import (
            AuthError,
            ClientError,
            ConnectionAcquisitionTimeoutError,
            ServiceUnavailable,
            SessionExpired,
        )

        cfg = self.config
        try:
            yield
        except AuthError as exc:
            raise StorageUnavailableError(
                f"neo4j at {cfg.address()} refused the credentials of user {cfg.username!r} "
                f"({what}): {exc.message or exc}"
            ) from exc
        except (
            ServiceUnavailable,
            SessionExpired,
            ConnectionAcquisitionTimeoutError,
            OSError,
        ) as exc:
            raise StorageUnavailableError(
                f"neo4j: cannot reach {cfg.address()} as user {cfg.username!r} ({what}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        except ClientError as exc:
            if exc.code == "Neo.ClientError.Database.DatabaseNotFound":
                raise StorageError(
                    f"neo4j at {cfg.address()} has no database {cfg.database!r} ({what}); "
                    "Neo4j Community has only the default database: set NEO4J_DATABASE=neo4j "
                    "(workspaces are kept apart by a property, not by databases)"
                ) from exc
            raise


async def neo4j_client(ctx: StorageContext, config: Neo4jConfig) -> Neo4jClient:
    """The driver of ``config``'s server, shared through ``ctx.clients`` (opened once)."""
    return await ctx.clients.acquire(client_key(config), lambda: Neo4jClient(config))


async def release_neo4j_client(ctx: StorageContext, config: Neo4jConfig) -> None:
    """Give back what ``neo4j_client`` handed out (the last user closes the driver)."""
    await ctx.clients.release(client_key(config))
