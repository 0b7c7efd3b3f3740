"""Helpers of the contract suite: the backend under test, a storage factory, vectors."""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pytest

from lightrag.vocabulary.storage import StorageContext

__all__ = [
    "DIM",
    "UNICODE_TEXTS",
    "Backend",
    "StorageFactory",
    "assert_async_protocol",
    "launcher_restart",
    "megabyte_text",
    "require_env",
    "require_restart",
    "require_shared",
    "require_tcp",
    "unit_vector",
    "vectors",
]

DIM = 8
"""Embedding dimension used by the vector contract."""


UNICODE_TEXTS = (
    "中文键 日本語 한국어",
    "emoji 😀🚀 and a family 👨‍👩‍👧",
    "cafe\u0301",  # e + combining acute accent
    "caf\u00e9",  # precomposed e acute: the same text in NFC, a different key
    "quotes ' \" ` and a backslash \\",
    "line one\nline two\r\ttabbed",
    "sql ' OR '1'='1; -- and {json} [x] %s %",
)
"""Keys and values a backend must store and return unchanged (no normalisation:
``"e\u0301"`` and ``"\u00e9"`` are two different strings)."""


def megabyte_text() -> str:
    """A string of 1 MiB (UTF-8) mixing ASCII and multi-byte characters."""
    unit = "lorem ipsum 中文 😀 "  # 30 bytes in UTF-8
    text = unit * (1024 * 1024 // len(unit.encode()))
    return text + "x" * (1024 * 1024 - len(text.encode()))


@dataclass(frozen=True)
class Backend:
    """A backend under test.

    ``persistent``: data survives finalize and reopen. ``restart``: restarts the
    backend's server (database backends pass their launcher's restart, wrapped as
    a coroutine); ``None`` for backends without a server, whose reconnect tests skip.
    """

    cls: type
    params: Mapping[str, Any] = field(default_factory=dict)
    persistent: bool = True
    restart: Callable[[], Awaitable[None]] | None = None


def protocol_methods(protocol: type) -> list[str]:
    """Names of the public methods a ``typing.Protocol`` declares (with its bases)."""
    names: set[str] = set()
    for klass in protocol.__mro__:
        if klass is object or klass is Protocol or klass.__module__ == "typing":
            continue
        names.update(
            name
            for name, value in vars(klass).items()
            if not name.startswith("_") and inspect.isfunction(value)
        )
    return sorted(names)


def assert_async_protocol(storage: Any, protocol: type) -> None:
    """``storage``'s class defines every method of ``protocol`` as a coroutine function,
    declares ``shared`` as a bool (which an instance may only narrow to False), and the
    instance has its ``ctx``."""
    cls = type(storage)
    not_async = [
        name
        for name in protocol_methods(protocol)
        if not inspect.iscoroutinefunction(getattr(cls, name, None))
    ]
    assert not not_async, f"{cls.__name__}: not coroutine functions (async def): {not_async}"
    assert isinstance(getattr(cls, "shared", None), bool), (
        f"{cls.__name__} must declare the class attribute shared: ClassVar[bool]"
    )
    if "shared" in vars(storage):  # an instance may only narrow it: a server backend in
        # a one-process local mode (Qdrant's local client) is not shared
        assert cls.shared is True and storage.shared is False, (
            "an instance may set shared = False on a shared class, nothing else"
        )
    assert getattr(storage, "ctx", None) is not None


def launcher_restart(launcher: Any, server: Any) -> Callable[[], Awaitable[None]]:
    """A ``Backend.restart`` hook from a test-server launcher and its ``RunningServer``.

    Restarts in a worker thread (the launcher blocks) and updates ``server`` in place
    with the new process, so the session fixture that started it still stops it.
    """

    async def restart() -> None:
        restarted = await asyncio.to_thread(launcher.restart, server)
        server.pid = restarted.pid
        server.stop_command = restarted.stop_command

    return restart


def require_shared(backend: Backend) -> None:
    """Skip unless instances of the backend see each other's writes (database-only tests)."""
    if not getattr(backend.cls, "shared", False):
        pytest.skip(
            "database-only: backend is not shared (shared = False, each instance keeps "
            "its own copy in memory)"
        )


def require_restart(backend: Backend) -> Callable[[], Awaitable[None]]:
    """The backend's server restart hook; skip when it has none (database-only tests)."""
    if backend.restart is None:
        pytest.skip("backend has no server to restart")
    return backend.restart


class StorageFactory:
    """Builds initialised storages of one backend, each test in its own fresh workspace.

    Storages still open at teardown are dropped and finalised, so database backends
    leave nothing behind.
    """

    def __init__(self, backend: Backend, working_dir: Path) -> None:
        self.backend = backend
        self.working_dir = working_dir
        self.workspace = "ct_" + uuid.uuid4().hex[:10]
        self._open: list[Any] = []

    def context(
        self, namespace: str, *, workspace: str | None = None, **extra: Any
    ) -> StorageContext:
        return StorageContext(
            working_dir=self.working_dir,
            namespace=namespace,
            workspace=self.workspace if workspace is None else workspace,
            **extra,
        )

    async def open_context(self, ctx: StorageContext) -> Any:
        storage = self.backend.cls(ctx, dict(self.backend.params))
        await storage.initialize()
        self._open.append(storage)
        return storage

    async def open(self, namespace: str, *, workspace: str | None = None, **extra: Any) -> Any:
        """A new initialised storage for ``namespace`` (in this test's workspace by default)."""
        return await self.open_context(self.context(namespace, workspace=workspace, **extra))

    async def reopen(self, storage: Any) -> Any:
        """Finalise ``storage`` and open a new instance on the same context."""
        await storage.finalize()
        self._open.remove(storage)
        return await self.open_context(storage.ctx)

    async def close(self) -> None:
        errors: list[BaseException] = []
        for storage in reversed(self._open):
            try:
                await storage.drop()
                await storage.finalize()
            except Exception as exc:  # report every cleanup failure, not only the first
                errors.append(exc)
        self._open.clear()
        if errors:
            raise errors[0]


def require_tcp(host: str, port: int, what: str, timeout: float = 1.0) -> None:
    """Skip the calling test (with the reason printed) unless ``host:port`` accepts TCP."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        pytest.skip(f"{what} not reachable at {host}:{port} ({exc})")


def require_env(name: str, what: str) -> str:
    """The value of environment variable ``name``; skip the test (reason printed) when unset.

    Tests may read the environment; the ``lightrag`` package itself never does
    outside ``lightrag.config``.
    """
    value = os.environ.get(name, "")
    if not value:
        pytest.skip(f"{what} not configured: set {name} to run these tests")
    return value


def unit_vector(index: int, dim: int = DIM) -> np.ndarray:
    """The ``index``-th basis vector of length ``dim`` (float32)."""
    vector = np.zeros(dim, dtype=np.float32)
    vector[index % dim] = 1.0
    return vector


def vectors(*rows: list[float] | np.ndarray) -> np.ndarray:
    """A float32 matrix from rows."""
    return np.asarray([np.asarray(row, dtype=np.float32) for row in rows], dtype=np.float32)
