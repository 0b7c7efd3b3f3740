"""Document pipeline (in progress: being written for issue 2)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from lightrag.core.context import EngineContext


class PipelineStatus(BaseModel):
    busy: bool = False


class Pipeline:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.status = PipelineStatus()

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"Pipeline.{name} is not written yet")
