"""What the pipeline is doing, as the server reports it (``/documents/pipeline_status``).

With replicas, each one publishes a ``snapshot`` of its status through the coordinator
and ``merged`` combines the live replicas' snapshots into the deployment's status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

__all__ = ["MAX_HISTORY_MESSAGES", "PipelineStatus", "merged", "snapshot"]

logger = logging.getLogger("lightrag.core.pipeline")

MAX_HISTORY_MESSAGES = 1000
SNAPSHOT_HISTORY = 200
"""Messages a replica publishes with its snapshot (its newest)."""


class PipelineStatus(BaseModel):
    """What the pipeline is doing (served as ``/documents/pipeline_status``)."""

    autoscanned: bool = False
    busy: bool = False
    job_name: str = "-"
    job_start: str | None = None
    docs: int = 0
    batchs: int = 0
    cur_batch: int = 0
    request_pending: bool = False
    cancellation_requested: bool = False
    latest_message: str = ""
    history_messages: list[str] = Field(default_factory=list)
    _times: list[float] = PrivateAttr(default_factory=list)  # when each message was logged

    def log(self, message: str) -> None:
        """Record a progress message (the history keeps the last ``MAX_HISTORY_MESSAGES``)."""
        self.latest_message = message
        self.history_messages.append(message)
        self._times.append(time.time())
        if len(self.history_messages) > MAX_HISTORY_MESSAGES:
            del self.history_messages[: -MAX_HISTORY_MESSAGES // 2]
            del self._times[: -MAX_HISTORY_MESSAGES // 2]
        logger.info(message)


def snapshot(status: PipelineStatus, replica_id: str) -> dict[str, Any]:
    """``status`` as a JSON object for the coordinator (its newest messages, timed)."""
    data = status.model_dump(mode="json", exclude={"history_messages"})
    times = status._times[-SNAPSHOT_HISTORY:]
    messages = status.history_messages[-len(times) :] if times else []
    return {
        **data,
        "replica": replica_id,
        "history": [list(p) for p in zip(times, messages, strict=True)],
    }


def merged(snapshots: Sequence[dict[str, Any]]) -> PipelineStatus:
    """The deployment's status from its replicas' snapshots: busy if any is; counts
    summed; the earliest running job's start; every message in time order."""
    busy = [s for s in snapshots if s.get("busy")]
    history = sorted((float(t), str(m)) for s in snapshots for t, m in s.get("history", []))[
        -MAX_HISTORY_MESSAGES:
    ]
    starts = [str(s["job_start"]) for s in busy if s.get("job_start")]
    status = PipelineStatus(
        autoscanned=any(s.get("autoscanned") for s in snapshots),
        busy=bool(busy),
        job_name=(
            str(busy[0].get("job_name", "-"))
            if len(busy) == 1
            else (f"indexing on {len(busy)} replicas" if busy else "-")
        ),
        job_start=min(starts) if starts else None,
        docs=sum(int(s.get("docs", 0)) for s in busy),
        batchs=sum(int(s.get("batchs", 0)) for s in busy),
        cur_batch=sum(int(s.get("cur_batch", 0)) for s in busy),
        request_pending=any(s.get("request_pending") for s in snapshots),
        cancellation_requested=any(s.get("cancellation_requested") for s in snapshots),
        latest_message=history[-1][1] if history else "",
        history_messages=[message for _, message in history],
    )
    status._times = [t for t, _ in history]
    return status
