"""Background loops stop even when a driver turns their cancellation into its own error."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from lightrag.core.replica_watch import ReplicaWatch
from lightrag.storage._heartbeat import LeaseHeartbeat
from lightrag.vocabulary import tasks


class _DriverError(Exception):
    """What a database driver raises in place of the ``CancelledError`` it caught."""


async def _swallowing_call() -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError as exc:
        raise _DriverError("read timed out") from exc


class _SwallowingCoordinator:
    replica_id = "replica-a"

    async def publish_status(self, status: Any) -> None:
        await _swallowing_call()


class _Pipeline:
    status: ClassVar[dict[str, Any]] = {}
    running = False


async def test_the_replica_watch_stops_when_the_coordinator_swallows_its_cancellation() -> None:
    watch = ReplicaWatch(_Pipeline(), _SwallowingCoordinator(), interval=0.01)  # type: ignore[arg-type]
    watch.start()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(watch.stop(), timeout=5)


async def test_the_lease_heartbeat_stops_when_its_renewal_swallows_the_cancellation() -> None:
    beat = LeaseHeartbeat("test", _swallowing_call, lease_seconds=0.03)
    beat.start()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(beat.stop(), timeout=5)
    assert beat.failure is None


async def test_cancel_and_wait_cancels_again_a_task_that_ignored_the_first_cancel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tasks, "_RECANCEL_SECONDS", 0.01)
    cancels = 0

    async def stubborn() -> None:
        nonlocal cancels
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancels += 1
                if cancels > 1:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(tasks.cancel_and_wait(task, label="stubborn"), timeout=5)
    assert task.cancelled() and cancels == 2
