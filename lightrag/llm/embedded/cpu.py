"""One CPU pool for every in-process model run: spaCy parses, MiniLM runs, extractive summaries.

The embedded chat model (spaCy, and its answer-ranking embedder) and the engine's
embedded embedder each bound their own concurrency, but they run on the same cores.
Each of their runs also takes a slot of this pool, shared by every embedded model in
the event loop, so a query's run (``QUERY``) is served before every queued
ingestion run (``INGEST``) whichever model queued it, and waits for at most the runs
already in progress. Nothing is created at import: the pool of a loop is made on its
first use and goes with the loop.
"""

from __future__ import annotations

import asyncio
import os
import weakref

from lightrag.vocabulary.priority import PrioritySlots

__all__ = ["cpu_count", "cpu_slots"]

_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PrioritySlots] = (
    weakref.WeakKeyDictionary()
)


def cpu_count() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def cpu_slots() -> PrioritySlots:
    """The running loop's pool of model runs: one slot per core (``cpu_count()``)."""
    loop = asyncio.get_running_loop()
    pool = _POOLS.get(loop)
    if pool is None:
        pool = PrioritySlots(cpu_count())
        _POOLS[loop] = pool
    return pool
