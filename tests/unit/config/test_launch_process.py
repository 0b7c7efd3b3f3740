"""The launcher as users run it: a real process serving /health, and a wheel with conf/."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]


_PLATFORM_ENV = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def embedded_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    missing = [name for name in ("onnxruntime", "spacy") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the [embedded] extra is not installed (missing {', '.join(missing)})")
    try:
        importlib.metadata.distribution("lightrag-server")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("lightrag-server is not installed (pip install -e '.[all]')")
    script = Path(sys.executable).parent / "lightrag-server"
    assert script.is_file(), f"the console script is not installed next to {sys.executable}"
    port = _free_port()
    argv = [str(script), "+recipe=embedded", "--host", "127.0.0.1", "--port", str(port)]
    # As a user starts it: the working directory holds the storage; no seed env vars leak in.
    environ = {name: value for name, value in os.environ.items() if name in _PLATFORM_ENV}
    process = subprocess.Popen(
        argv, cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        yield process, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_embedded_recipe_starts_and_answers_health(
    embedded_server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = embedded_server
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"lightrag-server exited with {process.returncode}:\n{output}")
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
        except httpx.TransportError:
            time.sleep(0.5)
            continue
        assert response.status_code == 200
        assert response.json()["status"] == "healthy"
        return
    pytest.fail("lightrag-server did not answer /health within 90 s")


def test_wheel_carries_conf_and_recipes(tmp_path: Path) -> None:
    if importlib.util.find_spec("wheel") is None:
        pytest.skip("the 'wheel' package (test extra) is needed to build offline")
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources, and a
    # stale build/lib in the shared checkout could put deleted files into the wheel.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for name in ("lightrag", "conf", "recipes"):
        shutil.copytree(
            REPO / name,
            source / name,
            symlinks=True,  # lightrag/conf -> ../conf and conf/recipe -> ../recipes
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
    out = tmp_path / "dist"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", str(source), "-w", str(out)),
            *("--no-deps", "--no-build-isolation", "-q"),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("lightrag_server-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"lightrag/conf/config.yaml"}
    for path in (REPO / "conf").rglob("*.yaml"):
        expected.add(f"lightrag/conf/{path.relative_to(REPO / 'conf').as_posix()}")
    for path in (REPO / "recipes").glob("*.yaml"):
        expected.add(f"lightrag/conf/recipe/{path.name}")
    assert expected <= names, sorted(expected - names)
