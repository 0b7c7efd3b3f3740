"""Start-up failures an operator can fix, reported as one clear line instead of a traceback.

A database that is down, a vector table of another dimension, a storage file that
cannot be read, a working directory another server holds or a model that does not
load stops the server at start-up. Starlette reports any lifespan error to uvicorn as
the full traceback; this ASGI wrapper replaces that report with the error's own
message (which names the backend, host and port, or the file, and the fix) when the
lifespan recorded one. With ``quiet=True`` it sends no message at all: the launcher
prints the recorded one itself (``recorded_startup_error``) and exits with status 3.
Errors the lifespan did not record (bugs) keep their traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

__all__ = [
    "OPERATOR_ERRORS",
    "StartupErrorReport",
    "record_startup_error",
    "recorded_startup_error",
]

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


def recorded_startup_error(app: FastAPI) -> str | None:
    """The one-line report a failed start-up recorded, if any."""
    recorded = getattr(app.state, "startup_error", None)
    return str(recorded) if recorded else None


class StartupErrorReport:
    """Wraps the app: a failed start-up with a recorded error reports just that error
    (or nothing, when ``quiet``)."""

    def __init__(self, app: FastAPI, *, quiet: bool = False) -> None:
        self.app = app
        self.quiet = quiet

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def report(message: Message) -> None:
            recorded = recorded_startup_error(self.app)
            if message["type"] == "lifespan.startup.failed" and recorded:
                message = {**message, "message": "" if self.quiet else recorded}
            await send(message)

        await self.app(scope, receive, report)
