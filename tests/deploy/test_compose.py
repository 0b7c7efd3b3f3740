"""The compose files: each one is valid (``docker compose config``) and refuses to start
without its secrets; docker/compose.postgres.yaml runs (server + PostgreSQL with pgvector,
through pytest-docker) and answers a query."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_docker.plugin import Services, get_docker_services

from .conftest import ROOT, unavailable

pytestmark = pytest.mark.deploy

HERE = Path(__file__).parent
COMPOSE_FILES = sorted((ROOT / "docker").glob("compose*.yaml"))
TEST_ENV = HERE / "compose-test.env"
SECRETS = {
    "LIGHTRAG_API_KEY": "k",
    "POSTGRES_PASSWORD": "p",
    "REDIS_PASSWORD": "r",
    "MINIO_ACCESS_KEY": "a",
    "MINIO_SECRET_KEY": "s",
    "QDRANT_API_KEY": "q",
    "NEO4J_PASSWORD": "n",
    "MONGO_PASSWORD": "m",
}


def env_file_values() -> dict[str, str]:
    values = {}
    for line in TEST_ENV.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = os.environ.get(key, value)
    return values


@pytest.fixture(scope="module")
def compose(docker: str) -> str:
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        unavailable("the docker compose v2 plugin is missing: run scripts/ci-tools.sh compose")
    return f"{docker} compose"


def config(compose: str, path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [*compose.split(), "-f", str(path), "config", "--quiet"],
        capture_output=True, text=True, env={**clean, **env},
    )  # fmt: skip


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=[p.name for p in COMPOSE_FILES])
def test_compose_file_is_valid(compose: str, path: Path) -> None:
    result = config(compose, path, SECRETS)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=[p.name for p in COMPOSE_FILES])
def test_compose_file_refuses_to_start_without_its_api_key(compose: str, path: Path) -> None:
    result = config(compose, path, {k: v for k, v in SECRETS.items() if k != "LIGHTRAG_API_KEY"})
    assert result.returncode != 0
    assert "required variable LIGHTRAG_API_KEY is missing a value" in result.stderr


def test_every_compose_file_pins_images_through_variables() -> None:
    for path in COMPOSE_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("image:"):
                assert "${" in line and ":-" in line, f"{path.name}: {line.strip()}"


@pytest.fixture(scope="module")
def postgres_stack(compose: str, image: str) -> Iterator[tuple[Services, dict[str, str]]]:
    values = env_file_values()
    for name in (values["LIGHTRAG_IMAGE"], values["POSTGRES_IMAGE"]):
        probe = subprocess.run(["docker", "image", "inspect", name], capture_output=True)
        if probe.returncode != 0:
            unavailable(f"image {name} is not built: run scripts/check-deploy.sh compose")
    files = [
        str(ROOT / "docker" / "compose.postgres.yaml"),
        str(HERE / "compose.host-network.yaml"),
    ]
    began = time.monotonic()
    with get_docker_services(
        f"{compose} --env-file {TEST_ENV}",
        files,
        docker_compose_project_name="lightrag-deploy-test",
        # No --build: the images are built beforehand (no registry to build from here).
        docker_setup=["up -d --wait --wait-timeout 240"],
        docker_cleanup=["down -v"],
    ) as services:
        print(
            f"compose up --wait (postgres healthy, server healthy): {time.monotonic() - began:.1f} s"
        )
        yield services, values


def test_postgres_compose_stack_ingests_and_answers(
    postgres_stack: tuple[Services, dict[str, str]],
) -> None:
    _, values = postgres_stack
    url = f"http://127.0.0.1:{values['LIGHTRAG_PORT']}"
    headers = {"X-API-Key": values["LIGHTRAG_API_KEY"]}
    assert httpx.get(f"{url}/documents/status_counts", timeout=5).status_code == 403  # no key
    health = httpx.get(f"{url}/health", headers=headers, timeout=5).json()
    assert health["configuration"]["kv_storage"] == "postgres"
    assert health["configuration"]["vector_storage"] == "postgres"
    assert health["configuration"]["graph_storage"] == "postgres"
    assert httpx.get(f"{url}/ready", timeout=5).status_code == 200

    reply = httpx.post(
        f"{url}/documents/text",
        json={"text": "Ada Lovelace wrote the first program for the Analytical Engine in London.",
              "file_source": "ada.txt"},
        headers=headers, timeout=30,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    deadline = time.monotonic() + 120
    while True:
        counts = httpx.get(f"{url}/documents/status_counts", headers=headers, timeout=5).json()
        if counts["status_counts"].get("processed") == 1:
            break
        assert not counts["status_counts"].get("failed"), counts
        assert time.monotonic() < deadline, counts
        time.sleep(0.5)
    answer = httpx.post(
        f"{url}/query",
        json={"query": "What did Ada Lovelace write?", "mode": "mix"},
        headers=headers, timeout=60,
    ).json()  # fmt: skip
    assert "Analytical Engine" in answer["response"]
    assert [ref["file_path"] for ref in answer["references"]] == ["ada.txt"]
