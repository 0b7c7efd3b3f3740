"""Adding a backend takes a module, a registry line, a group file and a recipe: no launcher change."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from lightrag.cli import run
from lightrag.config.errors import ConfigError
from lightrag.registry import Entry
from lightrag.registry.storage import storage_registry

from .conftest import write

_MODULE = """
from pydantic import BaseModel, ConfigDict


class MemTestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str
    port: int
    password: str | None = None


class MemTestKVStorage:
    config_model = MemTestConfig
"""


@pytest.fixture
def new_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A KV backend added the documented way; returns the operator config directory."""
    modules = tmp_path / "modules"
    write(modules / "cfgtest_memkv.py", _MODULE)
    monkeypatch.syspath_prepend(str(modules))
    registry = storage_registry("kv")
    entry = Entry("memtest", "cfgtest_memkv:MemTestKVStorage", aliases=("MemTestKVStorage",))
    # The registry line, undone after the test (the registry is process-wide).
    monkeypatch.setitem(registry._entries, entry.name, entry)
    monkeypatch.setitem(registry._aliases, "memtestkvstorage", entry.name)
    root = tmp_path / "operator"
    write(
        root / "storage" / "kv" / "memtest.yaml",
        '# KV storage "memtest": test backend. Needs no extra.\n'
        "# Env vars read: MEMTEST_HOST, MEMTEST_PORT, MEMTEST_PASSWORD.\n"
        "type: memtest\n"
        "host: ${oc.env:MEMTEST_HOST,localhost}\n"
        "port: ${oc.env:MEMTEST_PORT,6400}\n"
        "password: ${oc.env:MEMTEST_PASSWORD,null}\n",
    )
    write(
        root / "recipe" / "memtest.yaml",
        '# @package _global_\n# Recipe "memtest": the test backend for KV.\n'
        "defaults:\n  - override /storage/kv: memtest\n",
    )
    return root


def _print_config(argv: list[str], cwd: Path, environ: dict[str, str]) -> dict[str, object]:
    out = io.StringIO()
    assert run([*argv, "--print-config"], environ, cwd, out) == 0
    data = yaml.safe_load(out.getvalue())
    assert isinstance(data, dict)
    return data


def test_recipe_of_a_new_backend_runs_through_the_unchanged_launcher(
    new_backend: Path, tmp_path: Path
) -> None:
    write(tmp_path / "config.ini", "[memtest]\nport = 6500\npassword = from-ini\n")
    environ = {"LIGHTRAG_CONFIG_PATH": str(new_backend), "MEMTEST_HOST": "db.internal"}
    data = _print_config(["+recipe=memtest"], tmp_path, environ)
    kv = data["storage"]
    assert isinstance(kv, dict)
    assert kv["kv"] == {
        "type": "memtest",
        "host": "db.internal",
        "port": "6500",
        "password": "**********",
    }


def test_new_backend_is_chosen_by_its_seed_class_name(new_backend: Path, tmp_path: Path) -> None:
    environ = {"LIGHTRAG_CONFIG_PATH": str(new_backend)}
    data = _print_config(["--kv-storage", "MemTestKVStorage"], tmp_path, environ)
    assert data["storage"]["kv"]["type"] == "memtest"  # type: ignore[index]


def test_new_backend_params_are_validated_by_its_config_model(
    new_backend: Path, tmp_path: Path
) -> None:
    environ = {"LIGHTRAG_CONFIG_PATH": str(new_backend), "MEMTEST_PORT": "sixty-four"}
    with pytest.raises(
        ConfigError, match=r"^storage\.kv\.port: 'sixty-four': Input should be a valid integer"
    ):
        run(["+recipe=memtest", "--print-config"], environ, tmp_path, io.StringIO())
