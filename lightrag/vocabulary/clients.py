"""Shared database clients: one connection pool per database, whatever the namespaces."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Protocol, TypeVar, runtime_checkable

__all__ = ["ClientHub", "SharedClient"]


@runtime_checkable
class SharedClient(Protocol):
    """A connection (pool) to one database, shared by every storage that uses it."""

    async def open(self) -> None:
        """Connect (create the pool). Called once by the hub before first use."""

    async def close(self) -> None:
        """Close every connection. Called once by the hub after the last user left."""


ClientT = TypeVar("ClientT", bound=SharedClient)


class ClientHub:
    """One ``SharedClient`` per key (a database's connection parameters), reference-counted.

    ``await acquire(key, factory)`` returns the client for ``key``, built by
    ``factory()`` and opened the first time only, even when several storages ask at
    once; ``await release(key)`` closes it when its last user releases it;
    ``await close()`` closes whatever is still open (server shutdown).
    """

    def __init__(self) -> None:
        self._clients: dict[Hashable, SharedClient] = {}
        self._users: dict[Hashable, int] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, key: Hashable, factory: Callable[[], ClientT]) -> ClientT:
        async with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = factory()
                await client.open()  # a failure leaves nothing registered
                self._clients[key] = client
                self._users[key] = 0
            self._users[key] += 1
            return client  # type: ignore[return-value]

    async def release(self, key: Hashable) -> None:
        async with self._lock:
            if key not in self._clients:
                return
            self._users[key] -= 1
            if self._users[key] <= 0:
                client = self._clients.pop(key)
                del self._users[key]
                await client.close()

    def open_count(self) -> int:
        """How many distinct clients are open (one per database in use)."""
        return len(self._clients)

    async def close(self) -> None:
        async with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
            self._users.clear()
        for client in clients:
            await client.close()
