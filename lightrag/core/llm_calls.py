"""Cached, slot-bounded LLM calls for the insert path (extraction, gleaning, summaries).

Every call first looks in the LLM cache (no slot taken); a miss waits for one
of the pipeline's ``max_async`` slots, so all documents and chunks share one
bounded pool and slots never idle while any chunk has work ready.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from lightrag.core.cache import LLMCache
from lightrag.core.context import EngineContext
from lightrag.vocabulary.types import Message

__all__ = ["PRIORITY", "CancelledByRequest", "InsertLLM", "PrioritySlots"]


class CancelledByRequest(Exception):
    """The pipeline was asked to stop before this LLM call started."""


PRIORITY = {"summary": 0, "glean": 1, "extract": 2}
"""Lower runs first: summaries hold merge locks, gleanings finish chunks already begun."""


class PrioritySlots:
    """A semaphore whose waiters are served by priority (lower first), then by arrival."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"max_async must be at least 1, got {size}")
        self.size = size
        self._free = size
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @property
    def waiting(self) -> int:
        return sum(1 for *_, future in self._waiters if not future.done())

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self.waiting:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrivals), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over just as we were cancelled
            raise

    def release(self) -> None:
        while self._waiters:
            *_, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                return
        self._free += 1

    @asynccontextmanager
    async def slot(self, priority: int) -> AsyncIterator[None]:
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()


class InsertLLM:
    """The insert path's gateway to the chat model.

    ``slots`` bounds concurrent model calls; ``cancelled`` is polled before each
    call (a pending cancellation raises ``CancelledByRequest``). ``calls`` and
    ``cache_hits`` count by cache type.
    """

    def __init__(
        self,
        ctx: EngineContext,
        *,
        slots: PrioritySlots,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self.ctx = ctx
        self.slots = slots
        self.cancelled = cancelled
        self.calls: Counter[str] = Counter()
        self.cache_hits: Counter[str] = Counter()

    def _cache_enabled(self, cache_type: str) -> bool:
        if cache_type == "extract":
            return self.ctx.config.enable_llm_cache_for_extract
        return True

    async def complete(
        self, cache_type: str, prompt: str, history: Sequence[Message] = (), *, kind: str = ""
    ) -> str:
        """The model's answer to ``prompt`` after ``history``, from the cache when known.

        The cache key covers the prompt, the history and the model identity; a
        blank answer is not cached (it is a failure, not a result to reuse).
        ``kind`` (default: ``cache_type``) picks the slot priority (``PRIORITY``).
        Raises ``CancelledByRequest`` or the model's ``ModelError``.
        """
        use_cache = self._cache_enabled(cache_type)
        key = LLMCache.key(
            cache_type, "default", [prompt, [dict(m) for m in history], self.ctx.llm.identity]
        )
        if use_cache:
            cached = await self.ctx.cache.get(key)
            if cached is not None:
                self.cache_hits[cache_type] += 1
                return cached
        if self.cancelled():
            raise CancelledByRequest("the pipeline was asked to stop")
        async with self.slots.slot(PRIORITY.get(kind or cache_type, len(PRIORITY))):
            if self.cancelled():
                raise CancelledByRequest("the pipeline was asked to stop")
            self.calls[cache_type] += 1
            answer = await self.ctx.llm.complete(prompt, history=history)
        if use_cache and answer.strip():
            await self.ctx.cache.put(key, answer)
        return answer
