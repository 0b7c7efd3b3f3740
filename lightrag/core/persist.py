"""Coalesced persistence: many writers wait for one shared persist of the file stores."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

__all__ = ["CoalescingPersister"]


class CoalescingPersister:
    """Coalesces persist requests: ``flush`` returns after a persist that began after the call.

    Persists start at least ``min_interval`` seconds apart, so a burst of
    finishing documents shares one persist instead of rewriting files per document.
    """

    def __init__(self, persist: Callable[[], Awaitable[None]], *, min_interval: float) -> None:
        self._persist = persist
        self._min_interval = min_interval
        self._last_start = -min_interval
        self._waiting: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()

    async def flush(self, *, hurry: bool = False) -> None:
        """Wait for a persist that starts after this call; ``hurry`` skips the interval
        (nobody else is coming to share it). Raises what the persist raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        if hurry:
            self._hurry.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            pause = self._last_start + self._min_interval - loop.time()
            if pause > 0 and not self._hurry.is_set():
                with contextlib.suppress(TimeoutError):  # the pause ends early when hurried
                    await asyncio.wait_for(self._hurry.wait(), pause)
            self._hurry.clear()
            self._last_start = loop.time()
            batch, self._waiting = self._waiting, []
            try:
                await self._persist()
            except Exception as exc:  # handed to every waiter, who re-raises it
                for future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for future in batch:
                if not future.done():
                    future.set_result(None)
