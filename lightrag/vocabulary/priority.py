"""Query-first scheduling: priorities, the running request's priority, a slot pool served by it.

Every shared resource a query touches (LLM and embedding slots of the bindings, the
engine's embedding batches, the embedded models' inference runs) is a
``PrioritySlots`` pool: a semaphore whose waiters are served by priority (lower
first), then by arrival. Callers do not pass a priority: a pool reads the
context variable ``current_priority()``, which query paths set to ``QUERY``
(``with running_at(Priority.QUERY):``) and ingestion leaves at its default,
``INGEST``. Context variables follow tasks created and threads started
(``asyncio.to_thread``) inside the block, so a query's whole fan-out is served
ahead of queued ingestion work, one slot at a time: nothing already running is
interrupted, and ingestion still gets one slot in ``STARVATION_LIMIT + 1`` when
queries never stop coming.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from enum import IntEnum
from typing import TypeVar

__all__ = [
    "STARVATION_LIMIT",
    "Priority",
    "PrioritySlots",
    "at_query_priority",
    "current_priority",
    "running_at",
]

T = TypeVar("T")

STARVATION_LIMIT = 8
"""Slots in a row a pool gives to later, better-priority waiters before its longest waiter."""


class Priority(IntEnum):
    """Lower is served first. Ingestion's own kinds (summary, gleaning, extraction) are
    ``INGEST`` plus a small offset, all behind ``QUERY``."""

    QUERY = 0
    INGEST = 10


_current: ContextVar[int] = ContextVar("lightrag_priority", default=int(Priority.INGEST))


def current_priority() -> int:
    """The priority of the work running in this context (``INGEST`` unless set)."""
    return _current.get()


@contextmanager
def running_at(priority: int) -> Iterator[None]:
    """Run the block (and the tasks and threads it starts) at ``priority``."""
    token = _current.set(int(priority))
    try:
        yield
    finally:
        _current.reset(token)


async def at_query_priority(source: AsyncIterator[T]) -> AsyncIterator[T]:
    """Relay ``source``, each step run at ``QUERY`` priority (for answers that stream:
    their pieces are pulled by whichever task serves the response). Closing this
    iterator closes ``source``."""
    try:
        while True:
            token = _current.set(int(Priority.QUERY))
            try:
                piece = await anext(source)
            except StopAsyncIteration:
                return
            finally:
                _current.reset(token)
            yield piece
    finally:
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()


class PrioritySlots:
    """A semaphore of ``size`` slots whose waiters are served by priority (lower first),
    then by arrival. A waiter cancelled while waiting gives up its place; one cancelled
    just as a slot was handed to it passes the slot on.

    Nothing starves: once ``starvation_limit`` slots in a row went to later arrivals
    of better priority, the waiter that has waited longest is served next. Under a
    sustained stream of queries, queued ingestion still gets at least one slot in
    ``starvation_limit + 1``.
    """

    def __init__(self, size: int, *, starvation_limit: int = STARVATION_LIMIT) -> None:
        if size < 1:
            raise ValueError(f"a slot pool needs at least 1 slot (max_async), got {size}")
        if starvation_limit < 1:
            raise ValueError(f"starvation_limit must be at least 1, got {starvation_limit}")
        self.size = size
        self.starvation_limit = starvation_limit
        self._free = size
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []  # by priority
        self._arrived: deque[asyncio.Future[None]] = deque()  # by arrival
        self._live = 0  # waiters neither served nor cancelled
        self._passed_over = 0  # slots in a row not given to the longest waiter
        self._arrivals = itertools.count()

    @property
    def waiting(self) -> int:
        """How many callers are waiting for a slot."""
        return self._live

    @property
    def in_use(self) -> int:
        """How many slots are held."""
        return self.size - self._free

    async def acquire(self, priority: int | None = None) -> None:
        """Wait for a slot; ``priority`` defaults to ``current_priority()``."""
        if self._free > 0 and self._live == 0:
            self._free -= 1
            return
        level = current_priority() if priority is None else priority
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (level, next(self._arrivals), future))
        self._arrived.append(future)
        self._live += 1
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over just as we were cancelled
            else:
                self._live -= 1
            raise

    def _first_by_priority(self) -> asyncio.Future[None] | None:
        while self._waiters and self._waiters[0][2].done():
            heapq.heappop(self._waiters)
        return self._waiters[0][2] if self._waiters else None

    def _first_by_arrival(self) -> asyncio.Future[None] | None:
        while self._arrived and self._arrived[0].done():
            self._arrived.popleft()
        return self._arrived[0] if self._arrived else None

    def release(self) -> None:
        """Give a slot back: to the first waiter by priority (or to the longest waiter,
        past ``starvation_limit``), else to the pool."""
        best = self._first_by_priority()
        if best is None:
            self._free += 1
            return
        oldest = self._first_by_arrival()
        chosen = best
        if oldest is None or oldest is best:
            self._passed_over = 0
        elif self._passed_over >= self.starvation_limit:
            chosen, self._passed_over = oldest, 0
        else:
            self._passed_over += 1
        self._live -= 1
        chosen.set_result(None)

    @asynccontextmanager
    async def slot(self, priority: int | None = None) -> AsyncIterator[None]:
        """Hold a slot for the block (``priority`` as in ``acquire``)."""
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()
