"""Request limits: body size (413), texts per request and query length (422).

The body limit is a pure ASGI middleware: it refuses a declared
``Content-Length`` over the limit before reading anything, and counts the bytes
of chunked bodies as they arrive, so an oversize body is never held in memory.
File upload routes get ``max_upload_size``; every other route ``max_request_body``.
"""

from __future__ import annotations

import json

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lightrag.config.models import ServerConfig

__all__ = [
    "UPLOAD_PATHS",
    "BodySizeLimitMiddleware",
    "check_query_length",
    "check_texts_per_request",
]

UPLOAD_PATHS = frozenset(
    {"/documents/file", "/documents/batch", "/documents/file_batch", "/documents/upload"}
)


def _too_large(limit: int, setting: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_413_CONTENT_TOO_LARGE,
        detail=f"Request body is larger than the limit of {limit} bytes (server.{setting})",
    )


class BodySizeLimitMiddleware:
    """Reject request bodies larger than the configured limits with 413 and a message."""

    def __init__(self, app: ASGIApp, *, max_request_body: int, max_upload_size: int) -> None:
        self.app = app
        self.max_request_body = max_request_body
        self.max_upload_size = max_upload_size

    def _limit_for(self, path: str) -> tuple[int, str]:
        if path.rstrip("/") in UPLOAD_PATHS:
            return self.max_upload_size, "max_upload_size"
        return self.max_request_body, "max_request_body"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self._limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_413(send, _too_large(limit, setting).detail)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException passes through FastAPI's body parsing unchanged,
                    # so the route answers 413 rather than a generic 400.
                    raise _too_large(limit, setting)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as exc:
            if exc.status_code != status.HTTP_413_CONTENT_TOO_LARGE or response_started:
                raise
            await _send_413(send, exc.detail)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_413(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status.HTTP_413_CONTENT_TOO_LARGE,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def check_query_length(query: str, config: ServerConfig) -> None:
    """Raise 422 when ``query`` is longer than ``server.max_query_length`` characters."""
    if len(query) > config.max_query_length:
        raise HTTPException(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=(
                f"query is {len(query)} characters long; the limit is "
                f"{config.max_query_length} (server.max_query_length)"
            ),
        )


def check_texts_per_request(count: int, config: ServerConfig) -> None:
    """Raise 422 when one request carries more than ``server.max_texts_per_request`` texts
    (0 means unlimited)."""
    limit = config.max_texts_per_request
    if limit and count > limit:
        raise HTTPException(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=(
                f"{count} texts or files in one request; the limit is {limit} "
                "(server.max_texts_per_request)"
            ),
        )
