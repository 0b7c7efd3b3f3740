"""docker/extras.py: the requirements the image's dependency layer installs."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.deploy

SCRIPT = ROOT / "docker" / "extras.py"
PYPROJECT = ROOT / "pyproject.toml"


def requirements(extras: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(PYPROJECT), extras], capture_output=True, text=True
    )


def test_default_extras_cover_every_packaged_recipe_and_nothing_of_the_tests() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    default = dockerfile.split("ARG EXTRAS=", 1)[1].split()[0]
    lines = requirements(default).stdout.splitlines()
    for needed in ("onnxruntime", "spacy", "asyncpg", "redis", "pymilvus", "neo4j", "pypdf"):
        assert any(line.startswith(needed) for line in lines), needed
    assert not any(line.startswith(("pytest", "ruff", "mypy")) for line in lines)


def test_all_means_every_product_extra_expanded() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    lines = set(requirements("all").stdout.splitlines())
    for name, reqs in project["optional-dependencies"].items():
        if name in {"test", "test-backends"}:
            continue
        for req in reqs:
            if not req.startswith("lightrag-server["):
                assert req in lines, (name, req)
    assert set(project["dependencies"]) <= lines
    assert not any(line.startswith("lightrag-server") for line in lines)


def test_unknown_extra_is_refused_naming_the_known_ones() -> None:
    result = requirements("embedded,postgress")
    assert result.returncode != 0
    assert "unknown extra 'postgress'" in result.stderr and "postgres" in result.stderr
