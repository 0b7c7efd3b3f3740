"""Fixtures for server tests: a real app over file storages and fake models in tmp dirs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from lightrag.config.models import AppConfig

from .server_support import (
    CORPUS,
    CORPUS_SOURCES,
    insert_texts,
    make_config,
    running_app,
    wait_for_pipeline,
)


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    return make_config(tmp_path)


@pytest.fixture
async def client(config: AppConfig) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(config) as (http, _app):
        yield http


@pytest.fixture
async def served(config: AppConfig) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    async with running_app(config) as pair:
        yield pair


@pytest.fixture
async def indexed(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> tuple[httpx.AsyncClient, FastAPI]:
    """A running app with ``CORPUS`` indexed."""
    client, _app = served
    await insert_texts(client, CORPUS, CORPUS_SOURCES)
    counts = await wait_for_pipeline(client)
    assert counts["processed"] == len(CORPUS), counts
    return served
