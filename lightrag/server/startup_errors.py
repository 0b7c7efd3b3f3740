"""Start-up failures an operator can fix, reported as one clear line instead of a traceback.

A database that is down, a vector table of another dimension or a model that does not
load stops the server at start-up. Starlette reports any lifespan error to uvicorn as
the full traceback; this ASGI wrapper replaces that report with the error's own
message (which names the backend, host and port) when the lifespan recorded one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

__all__ = ["OPERATOR_ERRORS", "StartupErrorReport", "record_startup_error"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _operator_errors() -> tuple[type[BaseException], ...]:
    from lightrag.vocabulary.errors import StorageError
    from lightrag.vocabulary.models import ModelError

    return (StorageError, ModelError)


OPERATOR_ERRORS = _operator_errors()


def record_startup_error(app: FastAPI, exc: BaseException) -> None:
    """Keep a one-line report of ``exc`` for ``StartupErrorReport`` to send."""
    app.state.startup_error = f"cannot start: {exc}"


class StartupErrorReport:
    """Wraps the app: a failed start-up with a recorded error reports just that error."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def report(message: Message) -> None:
            recorded = getattr(self.app.state, "startup_error", None)
            if message["type"] == "lifespan.startup.failed" and recorded:
                message = {**message, "message": recorded}
            await send(message)

        await self.app(scope, receive, report)
