"""The lease heartbeat of a shared coordinator: renews its leases every third of a lease."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from lightrag.vocabulary.tasks import cancel_and_wait, cancel_requested

__all__ = ["LeaseHeartbeat"]

logger = logging.getLogger(__name__)


class LeaseHeartbeat:
    """Calls ``renew`` every ``lease_seconds / 3`` in a task of its own. A failed renewal
    is kept in ``failure`` (the coordinator's ``check`` reports it) and logged once; the
    next beat tries again and clears it when it succeeds."""

    def __init__(
        self, label: str, renew: Callable[[], Awaitable[None]], lease_seconds: float
    ) -> None:
        self.label = label
        self.period = lease_seconds / 3
        self.failure: BaseException | None = None
        self._renew = renew
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._beat(), name="lightrag-leases")

    async def stop(self) -> None:
        """Stop renewing (what ``finalize`` does, and what a frozen replica looks like)."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task, label=f"{self.label} lease heartbeat")

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            try:
                await self._renew()
                self.failure = None
            except Exception as exc:  # reported by check(); the next beat tries again
                if cancel_requested():  # a cancellation a driver turned into its own error
                    raise asyncio.CancelledError from exc
                if self.failure is None:
                    logger.warning("%s: cannot renew leases: %r", self.label, exc)
                self.failure = exc
