"""MongoDB connection settings, the client shared by every namespace, collection names.

One ``MongoClient`` (one ``pymongo.AsyncMongoClient`` and its pool) per server and
database, handed out through ``ctx.clients`` (the server's ``ClientHub``), so ten
namespaces on one database open one pool. Operations go through ``run``: a lost
connection (a server restart, a replica-set election) is retried with growing
pauses for up to ``reconnect_seconds``; every write of these storages is a replace,
upsert or delete by key, so running one again is harmless.

Workspaces are a collection prefix: the storage of namespace ``ns`` in workspace
``ws`` lives in collection ``ws.ns`` (``ns`` alone when the workspace is empty).
Workspaces are letters, digits and ``_`` (the server's rule) and namespaces hold no
``.``, so no two (workspace, namespace) pairs share a collection.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pymongo import AsyncMongoClient
from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from lightrag.vocabulary.errors import StorageError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

__all__ = [
    "CONNECTION_ERRORS",
    "MongoClient",
    "MongoConfig",
    "acquire_client",
    "collection_base",
    "effective_workspace",
    "release_client",
]

T = TypeVar("T")

_NAMESPACE = re.compile(r"^[A-Za-z0-9_-]+$")
_WORKSPACE = re.compile(r"^[A-Za-z0-9_]*$")
_RETRY_FIRST_DELAY = 0.2
_RETRY_MAX_DELAY = 2.0


class MongoConfig(BaseModel):
    """Parameters of the MongoDB storages (every role shares them; secrets never printed)."""

    model_config = ConfigDict(extra="forbid")

    uri: SecretStr = SecretStr("mongodb://localhost:27017/")
    """``mongodb://[user:password@]host[:port][,host...]/[?options]`` or ``mongodb+srv://``."""
    database: str = Field("LightRAG", min_length=1, pattern=r"^[^/\\. \"$*<>:|?]{1,63}$")
    """Database holding every collection (``MONGO_DATABASE``)."""
    workspace: str = Field("", pattern=r"^[A-Za-z0-9_]*$")
    """Workspace used when the server's own workspace is empty (``MONGO_WORKSPACE``)."""
    max_pool_size: int = Field(100, ge=1)
    """Connections of the pool shared by every namespace on this database."""
    server_selection_timeout: float = Field(30.0, gt=0)
    """Seconds one operation waits for a reachable server."""
    reconnect_seconds: float = Field(20.0, ge=0)
    """How long an operation retries a lost connection before it fails with
    ``StorageUnavailableError``; 0 fails at the first loss."""
    vector_search: Literal["atlas", "exact"] = "atlas"
    """Vector storage only: ``atlas`` queries with ``$vectorSearch`` (Atlas, or mongod
    with mongot); ``exact`` computes every cosine in an aggregation (any server; a
    scan of the namespace, for small collections)."""
    vector_index: str = Field("lightrag_vector_index", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    """Vector storage with ``atlas`` search only: the name of the vector search index."""

    def endpoint(self) -> str:
        """The hosts of the URI (never the credentials): safe to print."""
        parts = urlsplit(self.uri.get_secret_value())
        hosts = parts.netloc.rpartition("@")[2] or "localhost:27017"
        return f"{parts.scheme}://{hosts}/{self.database}"

    def client_key(self) -> Hashable:
        """The hub key: storages with the same connection settings share one client."""
        return (
            "mongo",
            self.uri.get_secret_value(),
            self.database,
            self.max_pool_size,
            self.server_selection_timeout,
        )


def effective_workspace(ctx: StorageContext, config: MongoConfig) -> str:
    """The server's workspace, or the configured ``workspace`` when the server has none."""
    return ctx.workspace or config.workspace


def collection_base(workspace: str, namespace: str) -> str:
    """``workspace.namespace`` (``namespace`` when the workspace is empty).

    Raises ``ValueError`` for a namespace that is not letters, digits, ``_`` and
    ``-``, or a workspace that is not letters, digits and ``_``.
    """
    if not _NAMESPACE.match(namespace):
        raise ValueError(
            f"mongo storage: namespace {namespace!r} must be letters, digits, '_' or '-'"
        )
    if not _WORKSPACE.match(workspace):
        raise ValueError(f"mongo storage: workspace {workspace!r} must be letters, digits or '_'")
    return f"{workspace}.{namespace}" if workspace else namespace


CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionFailure,
    ServerSelectionTimeoutError,
    OSError,
)
"""Errors that mean the connection (not the operation) failed: worth retrying."""


class MongoClient:
    """An ``AsyncMongoClient`` on one database; a ``SharedClient`` for ``ClientHub``."""

    def __init__(self, config: MongoConfig) -> None:
        self.config = config
        self._client: Any = None
        self._db: Any = None
        self._indexed: set[tuple[str, str]] = set()
        self._index_lock = asyncio.Lock()

    @property
    def db(self) -> Any:
        """The ``AsyncDatabase``; raises ``RuntimeError`` before ``open``."""
        if self._db is None:
            raise RuntimeError(f"mongo client for {self.config.endpoint()} is not open")
        return self._db

    def unavailable(self, exc: BaseException, what: str) -> StorageUnavailableError:
        reason = _redact(str(exc), self.config.uri.get_secret_value())
        return StorageUnavailableError(
            f"mongo at {self.config.endpoint()} is unavailable ({what}): "
            f"{type(exc).__name__}: {reason}"
        )

    async def open(self) -> None:
        if self._client is not None:
            return
        cfg = self.config
        timeout_ms = int(cfg.server_selection_timeout * 1000)
        try:
            client: Any = AsyncMongoClient(
                cfg.uri.get_secret_value(),
                maxPoolSize=cfg.max_pool_size,
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=min(timeout_ms, 10_000),
                appname="lightrag",
                tz_aware=True,
            )
        except ConfigurationError as exc:
            raise StorageError(
                f"mongo: invalid MONGO_URI for {cfg.endpoint()}: "
                f"{_redact(str(exc), cfg.uri.get_secret_value())}"
            ) from None
        try:
            await client.admin.command("ping")
        except OperationFailure as exc:
            await client.close()
            raise StorageUnavailableError(
                f"mongo at {cfg.endpoint()} refused the connection (credentials?): "
                f"{_redact(str(exc), cfg.uri.get_secret_value())}"
            ) from exc
        except CONNECTION_ERRORS as exc:
            await client.close()
            raise self.unavailable(exc, "connect") from exc
        except BaseException:
            await client.close()
            raise
        self._client = client
        self._db = client[cfg.database]

    async def close(self) -> None:
        client, self._client, self._db = self._client, None, None
        self._indexed.clear()
        if client is not None:
            await client.close()

    def start_session(self) -> Any:
        """A client session (for transactions); raises ``RuntimeError`` before ``open``."""
        if self._client is None:
            raise RuntimeError(f"mongo client for {self.config.endpoint()} is not open")
        return self._client.start_session()

    async def run(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """``await operation()``, again with growing pauses while the connection is lost,
        for up to ``reconnect_seconds``; then ``StorageUnavailableError`` naming ``what``.
        Operations must be idempotent (replace, upsert or delete by key)."""
        deadline = time.monotonic() + self.config.reconnect_seconds
        delay = _RETRY_FIRST_DELAY
        while True:
            try:
                return await operation()
            except CONNECTION_ERRORS as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self.unavailable(exc, what) from exc
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, _RETRY_MAX_DELAY)

    async def ensure_indexes(self, collection: str, indexes: list[Any]) -> None:
        """Create ``indexes`` (``pymongo.IndexModel``) on ``collection`` once per client.

        ``createIndexes`` with the same keys and options is a no-op on the server, so
        replicas starting together create each index once; an index of the same name
        with other keys or options is an error naming it.
        """
        names = ",".join(sorted(model.document["name"] for model in indexes))
        async with self._index_lock:
            if (collection, names) in self._indexed:
                return
            try:
                await self.run(
                    f"create indexes on {collection}",
                    lambda: self.db[collection].create_indexes(indexes),
                )
            except OperationFailure as exc:
                if exc.code not in (85, 86):  # IndexOptionsConflict, IndexKeySpecsConflict
                    raise
                raise StorageError(
                    f"mongo: collection {collection!r} in {self.config.endpoint()} has an index "
                    f"of the same name but another definition ({exc}); drop that index"
                ) from exc
            self._indexed.add((collection, names))


def _redact(message: str, uri: str) -> str:
    password = urlsplit(uri).password
    return message.replace(password, "***") if password else message


async def acquire_client(ctx: StorageContext, config: MongoConfig) -> MongoClient:
    """The shared client of ``config``'s database, opened by the first storage to ask."""
    return await ctx.clients.acquire(config.client_key(), lambda: MongoClient(config))


async def release_client(ctx: StorageContext, config: MongoConfig) -> None:
    """Give back what ``acquire_client`` handed out (the last user closes the client)."""
    await ctx.clients.release(config.client_key())
