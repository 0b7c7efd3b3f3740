"""Session fixtures' shared step: a server from an env DSN, else from its launcher."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .base import LaunchError, RunningServer, ServerLauncher

__all__ = ["server_or_skip"]


@contextmanager
def server_or_skip(env_var: str, launcher: ServerLauncher) -> Iterator[RunningServer | str]:
    """Yield the DSN in ``env_var`` when set (a server someone else runs), else start one.

    A launcher that cannot install or start its server fails the tests when
    ``LIGHTRAG_TEST_REQUIRE_SERVERS=1`` (CI: nothing may be skipped silently) and
    skips them, printing why, otherwise.
    """
    dsn = os.environ.get(env_var, "")
    if dsn:
        yield dsn
        return
    try:
        server = launcher.launch()
    except LaunchError as exc:
        if os.environ.get("LIGHTRAG_TEST_REQUIRE_SERVERS") == "1":
            raise
        pytest.skip(f"{launcher.name}: no {env_var} and the launcher failed: {exc}")
    try:
        yield server
    finally:
        launcher.stop(server)
