"""Exclusive holds on sets of keys (entity keys during merges and deletions)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from lightrag.vocabulary.coordination import HoldTimeoutError

__all__ = ["KeyedLocks", "acquire_within"]


class KeyedLocks:
    """Exclusive holds on sets of keys, taken all at once.

    A holder never keeps some keys while waiting for others, so two holders
    cannot deadlock and one busy key does not make every later holder of any of
    its other keys wait too (no convoy). Waiters whose keys are free are let in
    first come, first served.
    """

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._waiters: list[tuple[frozenset[str], asyncio.Future[None]]] = []

    def _grant(self) -> None:
        still: list[tuple[frozenset[str], asyncio.Future[None]]] = []
        for keys, future in self._waiters:
            if future.done():
                continue
            if self._held.isdisjoint(keys):
                self._held |= keys
                future.set_result(None)
            else:
                still.append((keys, future))
        self._waiters = still

    def try_acquire(self, keys: Iterable[str]) -> bool:
        """Take ``keys`` if none is held now (never waits); returns whether it did.

        Safe while holding other keys: only waiting while holding can deadlock.
        """
        wanted = frozenset(keys)
        if not self._held.isdisjoint(wanted):
            return False
        self._held |= wanted
        return True

    def try_acquire_each(self, keys: Iterable[str]) -> frozenset[str]:
        """Take those of ``keys`` that are free now, each on its own (never waits);
        returns the ones taken."""
        return frozenset(key for key in sorted(set(keys)) if self.try_acquire((key,)))

    async def acquire(self, keys: Iterable[str]) -> None:
        """Wait until every one of ``keys`` is free and take them all at once.

        Call it holding nothing (see the class docstring); pair it with ``release``.
        """
        await self._acquire(frozenset(keys))

    def release(self, keys: Iterable[str]) -> None:
        """Give back keys taken with ``acquire`` or ``try_acquire``."""
        self._release(frozenset(keys))

    async def _acquire(self, keys: frozenset[str]) -> None:
        if self._held.isdisjoint(keys):
            self._held |= keys
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((keys, future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release(keys)  # granted just as we were cancelled
            raise

    def _release(self, keys: frozenset[str]) -> None:
        self._held -= keys
        self._grant()

    @asynccontextmanager
    async def hold(self, keys: Iterable[str]) -> AsyncIterator[None]:
        wanted = frozenset(keys)
        await self._acquire(wanted)
        try:
            yield
        finally:
            self._release(wanted)


async def acquire_within(locks: KeyedLocks, keys: frozenset[str], seconds: float | None) -> None:
    """``locks.acquire(keys)`` waiting at most ``seconds`` (``None``: no limit); raises
    ``HoldTimeoutError`` naming (up to five of) the keys."""
    try:
        async with asyncio.timeout(seconds):
            await locks.acquire(keys)
    except TimeoutError:
        raise HoldTimeoutError.waited(seconds, keys, "another task of this process") from None
