"""pytest-docker wiring: the backends of ``tests/integration/docker-compose.yml`` as services.

Used only when ``LIGHTRAG_TEST_DOCKER=1`` (``scripts/docker-test-env.sh`` makes a Docker
engine answer here); otherwise the ``docker_backends`` fixture skips, saying so.
Works with Compose v2 (``docker compose``) and Debian's ``docker-compose`` 1.29, which
has no ``--wait``: services are awaited by the checks below instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["DockerBackends"]

_COMPOSE_FILE = Path(__file__).resolve().parents[1] / "docker-compose.yml"


@dataclass(frozen=True)
class DockerBackends:
    """How to reach the compose services (all on 127.0.0.1, host network), and how to
    restart one (``docker compose restart``, then wait until it answers again)."""

    postgres: dict[str, object]
    redis_uri: str
    restart: Callable[[str], None]

    def restart_hook(self, service: str) -> Callable[[], Awaitable[None]]:
        """A contract-suite ``Backend.restart`` that restarts ``service``."""

        async def restart() -> None:
            await asyncio.to_thread(self.restart, service)

        return restart


def _compose_v2() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(_COMPOSE_FILE)


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return "lightrag-tests"


@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    return "docker compose" if _compose_v2() else "docker-compose"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    return ["up --build -d"]


@pytest.fixture(scope="session")
def docker_cleanup() -> list[str]:
    return ["down -v"]


def _answers(check: Callable[[], object]) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            check()
        except Exception:
            return False
        return True

    return probe


def _postgres_answers(params: dict[str, object]) -> None:
    import asyncpg

    async def connect() -> None:
        conn = await asyncpg.connect(
            host=params["host"],
            port=params["port"],
            user=params["user"],
            password=params["password"],
            database=params["database"],
            timeout=2,
        )
        await conn.close()

    asyncio.run(connect())


def _redis_answers(uri: str) -> None:
    import redis

    client = redis.Redis.from_url(uri, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


@pytest.fixture(scope="session")
def docker_backends(request: pytest.FixtureRequest) -> DockerBackends:
    """Start the compose services (once per session) and wait until each answers."""
    if os.environ.get("LIGHTRAG_TEST_DOCKER") != "1":
        pytest.skip("Docker services not requested: set LIGHTRAG_TEST_DOCKER=1")
    services = request.getfixturevalue("docker_services")
    pg_port = int(os.environ.get("LIGHTRAG_TEST_DOCKER_PG_PORT", "55432"))
    redis_port = int(os.environ.get("LIGHTRAG_TEST_DOCKER_REDIS_PORT", "56379"))
    postgres: dict[str, object] = {
        "host": "127.0.0.1",
        "port": pg_port,
        "user": "lightrag",
        "password": "lightrag-test",
        "database": "lightrag",
    }
    redis_uri = f"redis://127.0.0.1:{redis_port}/0"
    answers = {
        "postgres": _answers(lambda: _postgres_answers(postgres)),
        "redis": _answers(lambda: _redis_answers(redis_uri)),
    }

    def wait(service: str) -> None:
        services.wait_until_responsive(check=answers[service], timeout=120.0, pause=0.3)

    def restart(service: str) -> None:
        services._docker_compose.execute(f"restart {service}")
        wait(service)

    for service in answers:
        wait(service)
    return DockerBackends(postgres=postgres, redis_uri=redis_uri, restart=restart)
