"""The Gremlin Server connection shared by every namespace, and how traversals run.

``gremlinpython`` is synchronous: its ``Client`` drives each WebSocket on a private
``asyncio`` loop of its own (``run_until_complete``) and blocks on a queue when
its pool is busy, so neither ``toList()`` nor its ``submit_async`` futures may be
called from the server's event loop. Every traversal therefore runs in a worker
thread of this client's own ``ThreadPoolExecutor`` (as many threads as pooled
connections), awaited with ``loop.run_in_executor``: the event loop never blocks.

Traversals are bytecode (``g.V().has(...)`` built in Python): every value a user
gave travels as a typed GraphBinary argument, never as Gremlin script text.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from lightrag.vocabulary.errors import StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

__all__ = [
    "GremlinClient",
    "GremlinConfig",
    "gremlin_client",
    "release_gremlin_client",
]

T = TypeVar("T")

_RETRY_FIRST_DELAY = 0.2
_RETRY_MAX_DELAY = 2.0
_MAX_MESSAGE = 10 * 1024 * 1024  # bytes: gremlinpython's default and Gremlin Server's


class GremlinConfig(BaseModel):
    """Connection parameters of the Gremlin graph storage (``GREMLIN_*``)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "localhost"
    port: int = Field(8182, ge=1, le=65535)
    graph: str = Field("LightRAG", min_length=1)
    """Prefix of every vertex label (``GREMLIN_GRAPH``): one Gremlin graph can hold
    several LightRAG graphs side by side."""
    user: str = ""
    password: SecretStr = SecretStr("")
    traverse_source: str = Field("g", min_length=1)
    """Name of the traversal source bound on the server (``GREMLIN_TRAVERSE_SOURCE``)."""
    ssl: bool = False
    """``wss://`` instead of ``ws://``."""
    path: str = "/gremlin"
    pool_size: int = Field(8, ge=1)
    """WebSocket connections (and worker threads) shared by every namespace."""
    request_timeout: float = Field(60.0, gt=0)
    """Seconds to wait for one reply."""
    reconnect_seconds: float = Field(20.0, ge=0)
    """How long a traversal retries a lost connection before ``StorageUnavailableError``."""
    batch_size: int = Field(1000, ge=1)
    """Rows per request of the batch writes and look-ups."""

    def url(self) -> str:
        return f"{'wss' if self.ssl else 'ws'}://{self.host}:{self.port}{self.path}"


def client_key(config: GremlinConfig) -> Hashable:
    """One connection pool per server, user and traversal source."""
    return ("gremlin", config.url(), config.user, config.traverse_source)


def _connection_errors() -> tuple[type[BaseException], ...]:
    import aiohttp

    # gremlinpython reports a dropped WebSocket as RuntimeError ("Connection was closed
    # by server", "Received error on read"); a refused connect as aiohttp/OS errors
    return (aiohttp.ClientError, OSError, RuntimeError, asyncio.TimeoutError)


def _transport_factory(config: GremlinConfig) -> Callable[[], Any]:
    """Transports whose clean-up is safe wherever the garbage collector runs it.

    gremlinpython's transport closes itself in ``__del__`` by running its private loop,
    which raises when the collector runs inside any running loop (ours, or another
    transport's); then only its loop is closed (the socket is dead or closed anyway).
    """
    from gremlin_python.driver.aiohttp.transport import AiohttpTransport

    class Transport(AiohttpTransport):
        def __del__(self) -> None:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # no loop running in this thread: the normal close
                self.close()
                return
            if not self._loop.is_running() and not self._loop.is_closed():
                self._loop.close()

    return lambda: Transport(
        read_timeout=config.request_timeout,
        write_timeout=config.request_timeout,
        max_content_length=_MAX_MESSAGE,
    )


class GremlinClient:
    """A ``DriverRemoteConnection`` (pool of WebSockets) and the threads that use it."""

    def __init__(self, config: GremlinConfig) -> None:
        self.config = config
        self._executor: ThreadPoolExecutor | None = None
        self._remote: Any = None
        self._source: Any = None
        self._generation = 0
        self._swap = threading.Lock()
        self._write_locks: dict[str, asyncio.Lock] = {}

    def write_lock(self, scope: str) -> asyncio.Lock:
        """The lock writers of one label take (Gremlin graphs such as TinkerGraph have no
        transactions: a check-then-create must not interleave within this process)."""
        return self._write_locks.setdefault(scope, asyncio.Lock())

    def unavailable(self, exc: BaseException) -> StorageUnavailableError:
        return StorageUnavailableError(
            f"gremlin: cannot reach {self.config.url()} (traversal source "
            f"{self.config.traverse_source!r}): {type(exc).__name__}: {exc}"
        )

    def _connect(self) -> None:
        from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
        from gremlin_python.process.anonymous_traversal import traversal

        cfg = self.config
        remote = DriverRemoteConnection(
            cfg.url(),
            cfg.traverse_source,
            username=cfg.user,
            password=cfg.password.get_secret_value(),
            pool_size=cfg.pool_size,
            transport_factory=_transport_factory(cfg),
        )
        self._remote = remote
        self._source = traversal().with_(remote)
        self._generation += 1

    def _reconnect(self, seen: int) -> None:
        """Replace the connection unless another thread already did since ``seen``."""
        with self._swap:
            if self._generation != seen:
                return
            old = self._remote
            self._connect()
        if old is not None:
            with contextlib.suppress(Exception):  # a broken pool may fail to close: dropped
                old.close()

    async def open(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(
            max_workers=self.config.pool_size, thread_name_prefix="gremlin"
        )
        try:
            await self._in_thread(self._connect)
            source = self._source
            await self._in_thread(lambda: source.inject(1).to_list())
        except _connection_errors() as exc:  # down at start: say so now, no retries
            await self.close()
            raise self.unavailable(exc) from exc
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        remote, self._remote = self._remote, None
        self._source = None
        if remote is not None:
            await asyncio.get_running_loop().run_in_executor(executor, remote.close)
        if executor is not None:
            executor.shutdown(wait=False)

    async def _in_thread(self, action: Callable[[], T]) -> T:
        if self._executor is None:
            raise RuntimeError(f"gremlin client for {self.config.url()} is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, action)

    async def run(self, traversal: Callable[[Any], T]) -> T:
        """``traversal(g)`` in a worker thread (it builds and runs one traversal);
        retried on a new connection while the connection fails, for up to
        ``reconnect_seconds``. Traversals must be idempotent or fail whole."""
        if self._executor is None:
            raise RuntimeError(f"gremlin client for {self.config.url()} is not open")
        errors = _connection_errors()
        deadline = time.monotonic() + self.config.reconnect_seconds
        delay = _RETRY_FIRST_DELAY
        while True:
            seen, source = self._generation, self._source
            try:
                return await self._in_thread(functools.partial(traversal, source))
            except errors as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self.unavailable(exc) from exc
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, _RETRY_MAX_DELAY)
                try:
                    await self._in_thread(functools.partial(self._reconnect, seen))
                except errors:
                    continue  # still down: the next attempt reconnects again


async def gremlin_client(ctx: StorageContext, config: GremlinConfig) -> GremlinClient:
    """The connection of ``config``'s server, shared through ``ctx.clients``."""
    return await ctx.clients.acquire(client_key(config), lambda: GremlinClient(config))


async def release_gremlin_client(ctx: StorageContext, config: GremlinConfig) -> None:
    await ctx.clients.release(client_key(config))
