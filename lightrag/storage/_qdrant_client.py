"""The Qdrant client shared by every namespace's vector storage (server or local mode).

Server mode (``url`` set): one ``AsyncQdrantClient`` per URL and API key, handed out
through ``ctx.clients``. A server that cannot be reached gives
``StorageUnavailableError`` naming the URL (never the key).

Local mode (no ``url``): ``AsyncQdrantClient(path=...)`` keeps every collection of
the directory in memory and holds an exclusive lock on it, so a process may open
one client per directory. Its ``async`` methods do their work (SQLite writes,
numpy search) synchronously, so the client lives on its own thread with its own
event loop and every call is submitted there: the server's loop never blocks and
calls are serialised, as the local client needs. The per-directory client is
reference-counted process-wide, so storages built on different ``ClientHub``s (two
engines in one process, tests) still share it instead of failing on the lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from pathlib import Path
from typing import Any, TypeVar

from qdrant_client import AsyncQdrantClient
from qdrant_client.http.exceptions import ResponseHandlingException

from lightrag.vocabulary.errors import StorageUnavailableError

__all__ = ["QdrantConnection", "connection_key"]

T = TypeVar("T")


def connection_key(url: str | None, api_key: str | None, path: Path) -> Hashable:
    """The hub key: one client per server URL (and key), or per local directory."""
    if url:
        digest = hashlib.sha256((api_key or "").encode()).hexdigest()[:16]
        return ("qdrant", "server", url, digest)
    return ("qdrant", "local", str(path.resolve()))


class _LocalWorker:
    """A thread running an event loop that owns one local-mode client."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name=f"qdrant-local:{path.name}", daemon=True
        )
        self.client: AsyncQdrantClient | None = None

    def start(self) -> None:
        """Blocking: start the thread and open the client on it (loads every collection)."""
        self.thread.start()

        async def make() -> AsyncQdrantClient:
            self.path.mkdir(parents=True, exist_ok=True)
            return AsyncQdrantClient(path=str(self.path))

        try:
            self.client = asyncio.run_coroutine_threadsafe(make(), self.loop).result()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Blocking: close the client and end the thread."""
        client, self.client = self.client, None
        if client is not None:
            asyncio.run_coroutine_threadsafe(client.close(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))


_local_lock = threading.Lock()
_local_workers: dict[str, tuple[_LocalWorker, int]] = {}


def _acquire_local(path: Path) -> _LocalWorker:
    key = str(path.resolve())
    with _local_lock:
        worker, users = _local_workers.get(key, (None, 0))
        if worker is None:
            worker = _LocalWorker(path)
            worker.start()
        _local_workers[key] = (worker, users + 1)
        return worker


def _release_local(path: Path) -> None:
    key = str(path.resolve())
    with _local_lock:
        worker, users = _local_workers.get(key, (None, 0))
        if worker is None:
            return
        if users > 1:
            _local_workers[key] = (worker, users - 1)
            return
        del _local_workers[key]
        worker.stop()


class QdrantConnection:
    """A ``SharedClient``: ``run(lambda client: client.method(...))`` in either mode."""

    def __init__(self, *, url: str | None, api_key: str | None, path: Path, timeout: int) -> None:
        self.url = url
        self.path = path
        self._api_key = api_key
        self._timeout = timeout
        self._client: AsyncQdrantClient | None = None
        self._local: _LocalWorker | None = None

    @property
    def local(self) -> bool:
        return not self.url

    def where(self) -> str:
        """The server URL, or the local directory (for messages; never the key)."""
        return self.url or f"local mode at {str(self.path)!r}"

    def unavailable(self, exc: BaseException) -> StorageUnavailableError:
        return StorageUnavailableError(
            f"qdrant: cannot reach the server at {self.url}: {type(exc).__name__}: {exc}"
        )

    async def open(self) -> None:
        if self.local:
            self._local = await asyncio.to_thread(_acquire_local, self.path)
            return
        client = AsyncQdrantClient(
            url=self.url,
            api_key=self._api_key,
            timeout=self._timeout,
            check_compatibility=False,  # its check is a blocking request; probed below instead
        )
        try:
            await client.get_collections()  # fail now, with the URL, if the server is down
        except BaseException as exc:
            await client.close()
            if isinstance(exc, ResponseHandlingException | OSError):
                raise self.unavailable(exc) from exc
            raise
        self._client = client

    async def close(self) -> None:
        if self._local is not None:
            self._local = None
            await asyncio.to_thread(_release_local, self.path)
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def run(self, call: Callable[[AsyncQdrantClient], Awaitable[T]]) -> T:
        """Await ``call(client)``: on the local worker's loop, or here for a server."""
        if self._local is not None:
            client = self._local.client
            if client is None:
                raise RuntimeError(f"qdrant client for {self.where()} is closed")

            async def on_worker() -> T:
                return await call(client)

            return await self._local.run(on_worker())
        if self._client is None:
            raise RuntimeError(f"qdrant client for {self.where()} is not open")
        try:
            return await call(self._client)
        except (ResponseHandlingException, OSError) as exc:
            raise self.unavailable(exc) from exc
