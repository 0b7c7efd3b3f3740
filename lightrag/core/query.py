"""Query engine (in progress: being written for issue 2)."""

from __future__ import annotations

from typing import Any

from lightrag.core.context import EngineContext


class QueryEngine:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"QueryEngine.{name} is not written yet")
