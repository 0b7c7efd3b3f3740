"""The test fakes stay out of the product: registries, ``--list-backends`` and ``--help``.

Each check runs in a fresh interpreter, because this test session registers the
fakes (``tests/conftest.py`` calls ``lightrag.testing.register_fakes``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import lightrag

ROOT = Path(lightrag.__file__).resolve().parents[1]
REGISTRIES = (
    "from lightrag.registry.models import chat_registry, embedding_registry; "
    "print(chat_registry.names(), embedding_registry.names())"
)


def _run(args: list[str], cwd: Path) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LIGHTRAG_", "LLM_", "EMBEDDING_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["-c", REGISTRIES],
        ["-m", "lightrag.cli", "--list-backends"],
        ["-m", "lightrag.cli", "--help"],
    ],
    ids=["registries", "list-backends", "help"],
)
def test_the_product_does_not_offer_the_fake_models(args: list[str], tmp_path: Path) -> None:
    out = _run(args, tmp_path)
    assert "openai" in out  # the listing is there, so the absence below means something
    assert "fake" not in out


def test_the_testing_entry_point_makes_the_fakes_selectable(tmp_path: Path) -> None:
    out = _run(
        ["-m", "lightrag.testing.serve", "llm=fake", "embedding=fake", "--print-config"], tmp_path
    )
    assert "type: fake" in out
