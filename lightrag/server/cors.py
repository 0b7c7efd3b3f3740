"""Cross-origin policy: browsers on other sites may read, but not write, unless allowed.

A web page open in a browser on the network can send ``POST``/``DELETE`` to the
server (a form post needs no preflight), so an open CORS policy lets any site empty
the index. The policy, from ``server.cors_origins``:

- ``None`` (not configured, the default): any origin may read (``GET``/``HEAD``, with
  ``Access-Control-Allow-Origin: *`` as before); a write (``POST``/``PUT``/``PATCH``/
  ``DELETE``) carrying an ``Origin`` other than the server's own answers 403, and
  preflights allow only the read methods.
- a list of origins: those origins may read and write; a write from any other origin
  answers 403. ``["*"]`` lets every origin write (the operator's explicit choice).

Requests without an ``Origin`` header (curl, SDKs, server-to-server) are not browser
cross-origin requests and pass; so do same-origin ones (the web UI served here).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["READ_METHODS", "CrossOriginWriteGuard", "add_cors"]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _same_origin(origin: str, scope: Scope) -> bool:
    """Whether ``origin`` names this server as the request reached it (its ``Host``)."""
    host = _header(scope, b"host")
    forwarded = _header(scope, b"x-forwarded-host")
    parts = urlsplit(origin)
    if not parts.netloc:
        return False
    hosts = {h.strip().lower() for h in (host, forwarded) if h}
    return parts.netloc.lower() in hosts


class CrossOriginWriteGuard:
    """403 for a browser write from an origin that ``allowed`` does not list.

    ``allowed`` is the configured origins (``"*"`` allows every origin); an empty
    set allows only same-origin writes.
    """

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = frozenset(origin.rstrip("/") for origin in allowed)

    def _permits(self, origin: str, scope: Scope) -> bool:
        if "*" in self.allowed or origin.rstrip("/") in self.allowed:
            return True
        return _same_origin(origin, scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"].upper() in READ_METHODS:
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if origin is None or self._permits(origin, scope):
            await self.app(scope, receive, send)
            return
        detail = (
            f"Cross-origin {scope['method'].upper()} from {origin!r} is not allowed: add the "
            "origin to server.cors_origins (CORS_ORIGINS) to let that site change data"
        )
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def add_cors(app: FastAPI, origins: list[str] | None) -> None:
    """Install the CORS headers and the write guard for ``server.cors_origins``."""
    app.add_middleware(CrossOriginWriteGuard, allowed=frozenset(origins or ()))
    if origins is None:
        # not configured: reads from anywhere as before, writes from nowhere else
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_credentials=False,
            allow_methods=sorted(READ_METHODS),
            allow_headers=["*"],
        )
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials="*" not in origins,
        allow_methods=["*"],
        allow_headers=["*"],
    )
