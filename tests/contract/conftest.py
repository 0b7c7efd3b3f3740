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
