"""Tools for the deploy tests (marker ``deploy``): helm, docker, the image under test.

The deploy tests check the shipped artifacts (Helm chart, container image, compose files)
with the real tools. Outside CI a missing tool skips them with the reason; in CI
(``CI=true``) or with ``LIGHTRAG_REQUIRE_DEPLOY=1`` it fails them, so that nothing skips
silently where it must run. ``scripts/ci-tools.sh`` installs the tools into
``$LIGHTRAG_CI_CACHE/bin`` (default /var/cache/lightrag-ci/bin), searched after PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "lightrag"
CACHE_BIN = Path(os.environ.get("LIGHTRAG_CI_CACHE", "/var/cache/lightrag-ci")) / "bin"
DEFAULT_IMAGE = "local/lightrag-server:ci"


def deploy_checks_required() -> bool:
    """Whether a missing tool is a failure (CI) rather than a skip (a developer's machine)."""
    return os.environ.get("CI") == "true" or os.environ.get("LIGHTRAG_REQUIRE_DEPLOY") == "1"


def unavailable(reason: str) -> None:
    """Fail (in CI) or skip (elsewhere) because something the test needs is missing."""
    if deploy_checks_required():
        pytest.fail(f"{reason} (required: CI=true or LIGHTRAG_REQUIRE_DEPLOY=1)")
    pytest.skip(reason)


def find_tool(name: str) -> str:
    """The path of ``name`` on PATH or in the CI cache; else fail or skip."""
    found = shutil.which(name) or shutil.which(name, path=str(CACHE_BIN))
    if found is None:
        unavailable(f"{name} not found on PATH or in {CACHE_BIN}: run scripts/ci-tools.sh")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def helm() -> str:
    return find_tool("helm")


@pytest.fixture(scope="session")
def docker() -> str:
    path = find_tool("docker")
    probe = subprocess.run([path, "info"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        unavailable(f"no Docker engine answers: {probe.stderr.strip()[:200]}")
    return path


@pytest.fixture(scope="session")
def image(docker: str) -> str:
    """The image under test: LIGHTRAG_DEPLOY_IMAGE, built by scripts/check-deploy.sh."""
    name = os.environ.get("LIGHTRAG_DEPLOY_IMAGE", DEFAULT_IMAGE)
    probe = subprocess.run([docker, "image", "inspect", name], capture_output=True, check=False)
    if probe.returncode != 0:
        unavailable(f"image {name} is not built: run scripts/check-deploy.sh image")
    return name
