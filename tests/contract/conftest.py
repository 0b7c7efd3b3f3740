"""Fixtures of the storage contract suite.

A test class subclasses one of the contract classes and provides ``backend``;
these fixtures build storages of that backend in a fresh workspace per test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .support import Backend, StorageFactory


@pytest.fixture
async def factory(backend: Backend, tmp_path: Path) -> AsyncIterator[StorageFactory]:
    """A ``StorageFactory`` for the class's ``backend``; drops what it opened at teardown."""
    storage_factory = StorageFactory(backend, tmp_path)
    yield storage_factory
    await storage_factory.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the ``database_only`` tests of classes whose backend runs inside this
    process (``in_process = True``): they test what a server adds (another instance
    sees writes at once, reconnection after a restart), which such a backend lacks."""
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        not_applicable = item.get_closest_marker("database_only") is not None and getattr(
            getattr(item, "cls", None), "in_process", False
        )
        (left_out if not_applicable else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
