"""Queries bounded in time and abandoned with their client.

A route that answers a question takes a ``QueryGuard`` (``GuardDep``) and runs the
work through it:

- ``await guard.run(work)`` runs the coroutine as a task and watches the connection
  meanwhile. When the client disconnects, the task is cancelled at once (its model
  calls, embedding runs and queued slots with it) and ``ClientDisconnected`` is raised
  (answered 499, which nobody reads). When ``server.query_timeout`` passes, the task
  is cancelled and ``HTTPException(504)`` is raised with a message saying what to do.
- ``guard.stream(pieces)`` relays a streamed answer within the same deadline; past it
  the stream ends with ``QueryTimeoutError``, which the routes report in-band (the
  status line is long gone). A client leaving a stream is Starlette's business: it
  cancels the response task, and closing the pieces cancels the model stream.

The deadline starts when the route starts, so the retrieval before a stream and the
stream itself share one ``query_timeout``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import Response

from lightrag.config.models import AppConfig
from lightrag.server.deps import get_config
from lightrag.vocabulary.tasks import cancel_and_wait

__all__ = [
    "CLIENT_CLOSED_REQUEST",
    "ClientDisconnected",
    "GuardDep",
    "QueryGuard",
    "QueryTimeoutError",
    "client_disconnected_response",
    "query_guard",
    "timeout_message",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

CLIENT_CLOSED_REQUEST = 499
"""The status logged for a request whose client left first (nginx's convention)."""


class ClientDisconnected(Exception):
    """The client went away before its answer was ready; its work was cancelled."""


class QueryTimeoutError(Exception):
    """A streamed answer ran past ``server.query_timeout``; the message says so."""


def timeout_message(seconds: float) -> str:
    return (
        f"The query did not finish within {seconds:g} s (server.query_timeout) and was "
        "stopped. Ask a narrower question, use a lighter mode (naive or local) or smaller "
        "top_k, or raise server.query_timeout (env LIGHTRAG_QUERY_TIMEOUT)."
    )


class QueryGuard:
    """One request's deadline and disconnect watch (see the module docstring)."""

    def __init__(self, request: Request, timeout: float | None) -> None:
        self.request = request
        self.timeout = timeout
        loop = asyncio.get_running_loop()
        self.deadline = None if timeout is None else loop.time() + timeout

    def _remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    async def _client_gone(self) -> None:
        """Return when the client disconnects (the body has been read by then)."""
        while True:
            message = await self.request.receive()
            if message["type"] == "http.disconnect":
                return

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """``work``'s result; raises ``ClientDisconnected`` or ``HTTPException(504)``
        after cancelling it, and whatever ``work`` raises."""
        task = asyncio.create_task(work)
        gone = asyncio.create_task(self._client_gone())
        try:
            done, _ = await asyncio.wait(
                {task, gone}, timeout=self._remaining(), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            gone.cancel()
            if not task.done():
                # wait until it has really stopped (a model run in a thread ends its step)
                await cancel_and_wait(task, label=f"query {self.request.url.path}")
        if task in done or (task.done() and not task.cancelled()):
            return task.result()
        if gone in done:
            logger.info("%s: the client left; its query was cancelled", self.request.url.path)
            raise ClientDisconnected(self.request.url.path)
        assert self.timeout is not None  # no deadline: asyncio.wait returns only when done
        logger.warning("%s: query timed out after %ss", self.request.url.path, self.timeout)
        raise HTTPException(
            status_code=status.HTTP_504_GATEWAY_TIMEOUT, detail=timeout_message(self.timeout)
        )

    async def stream(self, pieces: AsyncIterator[T]) -> AsyncIterator[T]:
        """Relay ``pieces`` until the deadline; then raise ``QueryTimeoutError``.
        Closing this iterator (or the deadline) closes ``pieces``."""
        try:
            while True:
                limit = asyncio.timeout_at(self.deadline)
                try:
                    async with limit:
                        piece = await anext(pieces)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    if limit.expired() and self.timeout is not None:
                        raise QueryTimeoutError(timeout_message(self.timeout)) from None
                    raise
                yield piece
        finally:
            close = getattr(pieces, "aclose", None)
            if close is not None:
                await close()


async def query_guard(
    request: Request, config: Annotated[AppConfig, Depends(get_config)]
) -> QueryGuard:
    """The request's ``QueryGuard``, its deadline ``server.query_timeout`` from now."""
    return QueryGuard(request, config.server.query_timeout)


GuardDep = Annotated[QueryGuard, Depends(query_guard)]


async def client_disconnected_response(request: Request, exc: Exception) -> Response:
    """What a request whose client left is answered (nobody reads it; the log does)."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)
