"""Run the server with uvicorn: ``serve(config)`` (the launcher's last step)."""

from __future__ import annotations

import logging

import uvicorn

from lightrag.config.models import AppConfig
from lightrag.config.server_checks import StartupRefusal, check_server_config, check_tls
from lightrag.server.app import create_app
from lightrag.server.startup_errors import StartupErrorReport, recorded_startup_error

__all__ = ["check_tls", "serve", "uvicorn_config"]

logger = logging.getLogger(__name__)

_UVICORN_STARTUP_FAILED = "Application startup failed. Exiting."


def uvicorn_config(
    config: AppConfig, *, recipe: str | None = None, quiet_startup_errors: bool = False
) -> uvicorn.Config:
    """A uvicorn config for the app built from ``config`` (server settings checked first)."""
    server = config.server
    check_server_config(server)
    tls = check_tls(server)
    app = StartupErrorReport(create_app(config, recipe=recipe), quiet=quiet_startup_errors)
    return uvicorn.Config(
        app,
        host=server.host,
        port=server.port,
        log_level=server.log_level.lower(),
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
        timeout_graceful_shutdown=30,
        proxy_headers=True,
    )


class _HideStartupFailedLine(logging.Filter):
    """Drops uvicorn's "startup failed" line when the launcher reports the reason itself."""

    def __init__(self, app: StartupErrorReport) -> None:
        super().__init__()
        self.app = app

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != _UVICORN_STARTUP_FAILED:
            return True
        return recorded_startup_error(self.app.app) is None


def serve(config: AppConfig, *, recipe: str | None = None) -> None:
    """Run the server until interrupted (blocking); returns after a graceful shutdown on
    Ctrl-C / SIGINT.

    Raises ``StartupRefusal`` (one line: what, where, the fix) for bad TLS or auth
    settings before binding the port, and for a start-up that failed on something the
    operator can fix (a working directory another server holds, a storage file that
    cannot be read, a database down, a model that does not load).
    """
    settings = uvicorn_config(config, recipe=recipe, quiet_startup_errors=True)
    server = uvicorn.Server(settings)
    app = settings.app
    assert isinstance(app, StartupErrorReport)
    hide = _HideStartupFailedLine(app)
    uvicorn_logger = logging.getLogger("uvicorn.error")
    uvicorn_logger.addFilter(hide)
    try:
        server.run()
    except KeyboardInterrupt:
        # uvicorn re-raises the interrupt after its graceful shutdown: that is a normal stop.
        logger.info("server stopped by interrupt")
    except SystemExit:
        recorded = recorded_startup_error(app.app)
        if recorded is None:
            raise
        raise StartupRefusal(recorded) from None
    finally:
        uvicorn_logger.removeFilter(hide)
