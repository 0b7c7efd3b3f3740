"""Query-first slot pools: waiters by priority then arrival, the request's priority in context."""

from __future__ import annotations

import asyncio

import pytest

from lightrag.vocabulary.priority import (
    Priority,
    PrioritySlots,
    at_query_priority,
    current_priority,
    running_at,
)


async def _queue_jobs(
    slots: PrioritySlots, served: list[str], names: list[str], priority: Priority
) -> list[asyncio.Task[None]]:
    async def job(name: str) -> None:
        async with slots.slot():
            served.append(name)
            await asyncio.sleep(0)

    tasks = []
    with running_at(priority):
        for name in names:
            tasks.append(asyncio.create_task(job(name)))
            await asyncio.sleep(0)  # each one queued before the next arrives
    return tasks


async def test_a_query_submitted_behind_queued_ingest_jobs_runs_next() -> None:
    slots = PrioritySlots(1)
    served: list[str] = []
    await slots.acquire()  # a running ingest job holds the only slot
    ingest = await _queue_jobs(slots, served, [f"ingest-{i}" for i in range(10)], Priority.INGEST)
    query = await _queue_jobs(slots, served, ["query"], Priority.QUERY)
    assert slots.waiting == 11
    slots.release()
    await asyncio.gather(*ingest, *query)
    assert served == ["query"] + [f"ingest-{i}" for i in range(10)]


async def test_queries_among_themselves_keep_their_arrival_order() -> None:
    slots = PrioritySlots(2)
    served: list[str] = []
    await slots.acquire()
    await slots.acquire()
    tasks = await _queue_jobs(slots, served, ["i1", "i2"], Priority.INGEST)
    tasks += await _queue_jobs(slots, served, ["q1", "q2", "q3"], Priority.QUERY)
    slots.release()
    slots.release()
    await asyncio.gather(*tasks)
    assert served == ["q1", "q2", "q3", "i1", "i2"]


async def test_a_cancelled_waiter_gives_up_its_place_and_loses_no_slot() -> None:
    slots = PrioritySlots(1)
    await slots.acquire()
    with running_at(Priority.QUERY):
        gone = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    assert slots.waiting == 1
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert slots.waiting == 0
    slots.release()
    assert slots.in_use == 0
    await asyncio.wait_for(slots.acquire(), timeout=1)  # the slot was not lost
    assert slots.in_use == 1


async def test_a_waiter_cancelled_as_the_slot_arrives_passes_it_on() -> None:
    slots = PrioritySlots(1)
    await slots.acquire()
    first = asyncio.create_task(slots.acquire())
    second = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    slots.release()  # hands the slot to ``first`` ...
    first.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, timeout=1)
    assert slots.in_use == 1 and slots.waiting == 0


def test_a_pool_without_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 slot"):
        PrioritySlots(0)


async def test_the_priority_follows_tasks_and_threads_and_is_restored() -> None:
    assert current_priority() == Priority.INGEST
    with running_at(Priority.QUERY):
        in_task = await asyncio.create_task(asyncio.sleep(0, result=current_priority()))
        in_thread = await asyncio.to_thread(current_priority)
    assert in_task == in_thread == Priority.QUERY
    assert current_priority() == Priority.INGEST


async def test_each_step_of_a_streamed_answer_runs_at_query_priority() -> None:
    seen: list[int] = []
    closed = False

    async def pieces() -> object:
        nonlocal closed
        try:
            for piece in ("a", "b", "c"):
                seen.append(current_priority())
                yield piece
        finally:
            closed = True

    relayed = at_query_priority(pieces())  # type: ignore[arg-type]
    assert await anext(relayed) == "a"
    assert current_priority() == Priority.INGEST  # the consumer's own context is untouched
    assert [piece async for piece in relayed] == ["b", "c"]
    assert seen == [Priority.QUERY] * 3 and closed


async def test_ingestion_is_served_after_at_most_starvation_limit_queries() -> None:
    slots = PrioritySlots(1, starvation_limit=3)
    served: list[str] = []
    await slots.acquire()
    tasks = await _queue_jobs(slots, served, ["ingest-0", "ingest-1"], Priority.INGEST)
    tasks += await _queue_jobs(slots, served, [f"q{i}" for i in range(8)], Priority.QUERY)
    slots.release()
    await asyncio.gather(*tasks)
    assert served == ["q0", "q1", "q2", "ingest-0", "q3", "q4", "q5", "ingest-1", "q6", "q7"]


def test_a_starvation_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="starvation_limit"):
        PrioritySlots(2, starvation_limit=0)
