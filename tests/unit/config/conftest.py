"""Fixtures for the config layer: requests that read nothing but what the test gives them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lightrag.config.loader import ConfigRequest, LoadedConfig, load_config

REPO = Path(__file__).resolve().parents[3]

LoadFn = Callable[..., LoadedConfig]


@pytest.fixture
def load(tmp_path: Path) -> LoadFn:
    """``load(overrides, environ=..., flags=..., ...)``: compose with an empty environment
    and ``tmp_path`` as the current directory (so no stray .env or config.ini is read).
    Backend classes are not imported unless ``check_classes=True``."""

    def _load(overrides: list[str] | tuple[str, ...] = (), **kwargs: Any) -> LoadedConfig:
        kwargs.setdefault("environ", {})
        kwargs.setdefault("cwd", tmp_path)
        kwargs.setdefault("check_classes", False)
        return load_config(ConfigRequest(overrides=list(overrides), **kwargs))

    return _load


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def operator_dir(tmp_path: Path) -> Path:
    """An operator config directory with a recipe and a test-only KV option that reads
    connection parameters the way a database backend's YAML does."""
    root = tmp_path / "operator"
    write(
        root / "storage" / "kv" / "conntest.yaml",
        "# test-only KV option: JSON storage plus connection params read from env\n"
        "type: json\n"
        "host: ${oc.env:POSTGRES_HOST,localhost}\n"
        "port: ${oc.env:POSTGRES_PORT,5432}\n",
    )
    write(
        root / "storage" / "kv" / "needspw.yaml",
        "# test-only KV option with a required variable\ntype: json\n"
        "password: ${oc.env:POSTGRES_PASSWORD}\n",
    )
    write(
        root / "recipe" / "team.yaml",
        '# @package _global_\n# Recipe "team": an operator\'s recipe.\n'
        "defaults:\n  - override /storage/kv: conntest\nserver:\n  port: 7000\n",
    )
    return root
