"""Run the server with uvicorn: ``serve(config)`` (the launcher's last step)."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from lightrag.config.models import AppConfig, ServerConfig
from lightrag.server.app import create_app
from lightrag.server.startup_errors import StartupErrorReport

__all__ = ["check_tls", "serve", "uvicorn_config"]

logger = logging.getLogger(__name__)


def check_tls(server: ServerConfig) -> tuple[Path, Path] | None:
    """The certificate and key files when TLS is on; ``None`` when off.

    Raises ``ValueError`` naming the setting when ``ssl`` is on without both
    files, or when a file does not exist.
    """
    if not server.ssl:
        return None
    if server.ssl_certfile is None or server.ssl_keyfile is None:
        raise ValueError(
            "server.ssl is on but server.ssl_certfile and server.ssl_keyfile are not both set "
            "(--ssl-certfile / SSL_CERTFILE and --ssl-keyfile / SSL_KEYFILE)"
        )
    for setting, path in (
        ("ssl_certfile", server.ssl_certfile),
        ("ssl_keyfile", server.ssl_keyfile),
    ):
        if not path.is_file():
            raise ValueError(f"server.{setting}: {str(path)!r} does not exist or is not a file")
    return server.ssl_certfile, server.ssl_keyfile


def uvicorn_config(config: AppConfig) -> uvicorn.Config:
    """A uvicorn config for the app built from ``config`` (TLS checked first)."""
    server = config.server
    tls = check_tls(server)
    return uvicorn.Config(
        StartupErrorReport(create_app(config)),
        host=server.host,
        port=server.port,
        log_level=server.log_level.lower(),
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
        timeout_graceful_shutdown=30,
        proxy_headers=True,
    )


def serve(config: AppConfig) -> None:
    """Run the server until interrupted (blocking); returns after a graceful shutdown on
    Ctrl-C / SIGINT. Raises ``ValueError`` for bad TLS or auth settings before binding
    the port."""
    server = uvicorn.Server(uvicorn_config(config))
    try:
        server.run()
    except KeyboardInterrupt:
        # uvicorn re-raises the interrupt after its graceful shutdown: that is a normal stop.
        logger.info("server stopped by interrupt")
