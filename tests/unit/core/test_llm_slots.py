"""The insert path's LLM slot pool: bounded, served by priority, cache before slot."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lightrag.core.llm_calls import PRIORITY, CancelledByRequest, InsertLLM, PrioritySlots

from .insert_support import open_engine


async def test_waiters_are_served_by_priority_then_arrival() -> None:
    slots = PrioritySlots(1)
    served: list[str] = []
    await slots.acquire(0)

    async def wait(name: str, priority: int) -> None:
        async with slots.slot(priority):
            served.append(name)

    tasks = [
        asyncio.create_task(wait("extract-1", PRIORITY["extract"])),
        asyncio.create_task(wait("glean", PRIORITY["glean"])),
        asyncio.create_task(wait("extract-2", PRIORITY["extract"])),
        asyncio.create_task(wait("summary", PRIORITY["summary"])),
    ]
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*tasks)
    assert served == ["summary", "glean", "extract-1", "extract-2"]


async def test_a_cancelled_waiter_does_not_lose_the_slot() -> None:
    slots = PrioritySlots(1)
    await slots.acquire(0)
    waiter = asyncio.create_task(slots.acquire(1))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    slots.release()
    await asyncio.wait_for(slots.acquire(1), timeout=1)


def test_a_pool_without_slots_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_async"):
        PrioritySlots(0)


async def test_cached_answers_need_no_slot_and_cancellation_stops_new_calls(
    tmp_path: Path,
) -> None:
    rag, llm = await open_engine(tmp_path)
    try:
        stop = False
        gateway = InsertLLM(rag.ctx, slots=PrioritySlots(1), cancelled=lambda: stop)
        first = await gateway.complete("extract", "hello there")
        await gateway.slots.acquire(0)  # every slot busy: only the cache can answer
        assert await asyncio.wait_for(gateway.complete("extract", "hello there"), 1) == first
        assert llm.total_calls == 1 and gateway.cache_hits["extract"] == 1
        gateway.slots.release()
        stop = True
        with pytest.raises(CancelledByRequest):
            await gateway.complete("extract", "something new")
    finally:
        await rag.finalize()
