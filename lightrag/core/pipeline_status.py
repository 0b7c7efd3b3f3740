"""What the pipeline is doing, as the server reports it (``/documents/pipeline_status``)."""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field

__all__ = ["MAX_HISTORY_MESSAGES", "PipelineStatus"]

logger = logging.getLogger("lightrag.core.pipeline")

MAX_HISTORY_MESSAGES = 1000


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

    def log(self, message: str) -> None:
        """Record a progress message (the history keeps the last ``MAX_HISTORY_MESSAGES``)."""
        self.latest_message = message
        self.history_messages.append(message)
        if len(self.history_messages) > MAX_HISTORY_MESSAGES:
            del self.history_messages[: -MAX_HISTORY_MESSAGES // 2]
        logger.info(message)
