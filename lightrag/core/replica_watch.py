"""What each replica does in the background when coordination is shared.

Every ``interval`` seconds: publish this replica's pipeline status (the heartbeat other
replicas list it by), act on a deployment-wide cancel request, and start the pipeline
when documents wait (pending ones at once; ``processing`` ones, which a dead replica may
have left, every ``resume_interval``), so work submitted to any replica, or left by one
that died, is shared by all. A coordination database that stops answering is logged
once and retried; the engine's readiness check reports it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from lightrag.core.pipeline import Pipeline
from lightrag.core.pipeline_status import snapshot
from lightrag.vocabulary.coordination import Coordinator
from lightrag.vocabulary.tasks import cancel_and_wait, cancel_requested
from lightrag.vocabulary.types import DocStatus

__all__ = ["ReplicaWatch"]

logger = logging.getLogger(__name__)


class ReplicaWatch:
    def __init__(
        self,
        pipeline: Pipeline,
        coordinator: Coordinator,
        *,
        interval: float = 1.0,
        resume_interval: float = 10.0,
    ) -> None:
        self.pipeline = pipeline
        self.coordinator = coordinator
        self.interval = interval
        self.resume_interval = resume_interval
        self._task: asyncio.Task[None] | None = None
        self._seen_epoch: int | None = None
        self._last_resume = 0.0
        self._failing = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="lightrag-replica-watch")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task, label="the replica watch")

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
                if self._failing:
                    logger.info("coordination answers again")
                self._failing = False
            except Exception as exc:
                if cancel_requested():  # a cancellation a driver turned into its own error
                    raise asyncio.CancelledError from exc
                if not self._failing:
                    logger.warning("replica watch: coordination failed: %r", exc)
                self._failing = True
            await asyncio.sleep(self.interval)

    async def tick(self) -> None:
        """One round: publish, cancel when asked, start the pipeline when work waits."""
        pipeline, coordinator = self.pipeline, self.coordinator
        await coordinator.publish_status(snapshot(pipeline.status, coordinator.replica_id))
        epoch = await coordinator.cancel_epoch()
        if self._seen_epoch is not None and epoch != self._seen_epoch and pipeline.running:
            await pipeline.cancel()
        self._seen_epoch = epoch
        if pipeline.running:
            return
        doc_status = pipeline.ctx.storages.doc_status
        wanted = [DocStatus.PENDING.value]
        now = time.monotonic()
        if now - self._last_resume >= self.resume_interval:
            self._last_resume = now
            wanted.append(DocStatus.PROCESSING.value)
        if await doc_status.by_status(wanted, limit=1):
            pipeline.start()
