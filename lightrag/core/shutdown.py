"""Shutdown steps that are waited for to their end and named in the log when slow.

A storage persisting or a client draining must not be cut short at shutdown, but a
step that hangs must not hang silently either: ``finish_reporting`` warns by name
every ``SLOW_STEP_SECONDS`` the step runs on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable

__all__ = ["SLOW_STEP_SECONDS", "finish_reporting"]

SLOW_STEP_SECONDS = 10.0

logger = logging.getLogger(__name__)


async def finish_reporting(step: str, work: Awaitable[None]) -> None:
    """Await ``work`` to its end, warning every ``SLOW_STEP_SECONDS`` it runs on."""
    task = asyncio.ensure_future(work)
    started = time.monotonic()
    while True:
        try:
            done, _ = await asyncio.wait({task}, timeout=SLOW_STEP_SECONDS)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if done:
            task.result()
            return
        logger.warning(
            "shutdown: still closing the %s after %.0f s", step, time.monotonic() - started
        )
