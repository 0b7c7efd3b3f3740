"""Cached, slot-bounded LLM calls for the insert path (extraction, gleaning, summaries).

Every call first looks in the LLM cache (no slot taken); a miss waits for one
of the pipeline's ``max_async`` slots, so all documents and chunks share one
bounded pool and slots never idle while any chunk has work ready. The pool is a
``PrioritySlots`` (``lightrag.vocabulary.priority``, re-exported here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from lightrag.core.cache import LLMCache
from lightrag.core.context import EngineContext
from lightrag.vocabulary.priority import Priority, PrioritySlots
from lightrag.vocabulary.types import Message

__all__ = ["PRIORITY", "CancelledByRequest", "InsertLLM", "PrioritySlots"]


class CancelledByRequest(Exception):
    """The pipeline was asked to stop before this LLM call started."""


PRIORITY = {
    "summary": Priority.INGEST,
    "glean": Priority.INGEST + 1,
    "extract": Priority.INGEST + 2,
}
"""Lower runs first: summaries hold merge locks, gleanings finish chunks already begun;
all of them behind queries (``Priority.QUERY``)."""


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
        async with self.slots.slot(
            PRIORITY.get(kind or cache_type, Priority.INGEST + len(PRIORITY))
        ):
            if self.cancelled():
                raise CancelledByRequest("the pipeline was asked to stop")
            self.calls[cache_type] += 1
            answer = await self.ctx.llm.complete(prompt, history=history)
        if use_cache and answer.strip():
            await self.ctx.cache.put(key, answer)
        return answer
