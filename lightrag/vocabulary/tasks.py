"""Stopping background loops for sure.

A loop that logs and retries on ``Exception`` keeps running when a library below it
turns a cancellation into an ordinary error (a read timeout racing the cancel, a
driver that catches ``CancelledError`` and raises its own). Such loops ask
``cancel_requested()`` in their handler and end, and their owners stop them with
``cancel_and_wait``, which cancels again while the task runs on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["cancel_and_wait", "cancel_requested"]

logger = logging.getLogger(__name__)

_RECANCEL_SECONDS = 1.0


def cancel_requested() -> bool:
    """Whether the current task has a cancellation pending (even one a library swallowed)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def cancel_and_wait(task: asyncio.Task[Any], *, label: str) -> None:
    """Cancel ``task`` and wait for its end, cancelling again every second it runs on."""
    task.cancel()
    while not task.done():
        await asyncio.wait({task}, timeout=_RECANCEL_SECONDS)
        if not task.done():
            logger.warning("%s ran on after a cancellation; cancelling it again", label)
            task.cancel()
    await asyncio.gather(task, return_exceptions=True)
