"""Helpers of the contract suite: the backend under test, a storage factory, vectors."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lightrag.vocabulary.storage import StorageContext

__all__ = [
    "DIM",
    "Backend",
    "StorageFactory",
    "require_env",
    "require_tcp",
    "unit_vector",
    "vectors",
]

DIM = 8
"""Embedding dimension used by the vector contract."""


@dataclass(frozen=True)
class Backend:
    """A backend under test: its class, its parameters, whether it keeps data across reopen."""

    cls: type
    params: Mapping[str, Any] = field(default_factory=dict)
    persistent: bool = True


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
