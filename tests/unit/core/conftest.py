"""Fixtures shared by the engine tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .query_seed import World, close_world, open_world, seed


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """An engine context over file storages seeded with ``query_seed``'s documents."""
    opened = await open_world(tmp_path)
    await seed(opened)
    yield opened
    await close_world(opened)
