"""The real LightRAG app under uvicorn on 127.0.0.1, for tests that talk to it over HTTP."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from lightrag.config.models import AppConfig
from lightrag.server.app import create_app


@contextmanager
def served(config: AppConfig) -> Iterator[str]:
    """Serve ``create_app(config)`` until the block ends; yields its base URL.

    Raises ``RuntimeError`` when the app does not start within 30 s, with the start-up
    error the app recorded (the one line an operator reads) when there is one."""
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical"))

    def run() -> None:
        with contextlib.suppress(SystemExit):  # uvicorn exits the thread on a failed start
            server.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            reason = getattr(app.state, "startup_error", "no start-up error recorded")
            raise RuntimeError(f"the LightRAG app did not start within 30 s: {reason}")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
