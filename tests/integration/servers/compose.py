"""pytest-docker wiring: the backends of ``tests/integration/docker-compose.yml`` as services.

Used only when ``LIGHTRAG_TEST_DOCKER=1`` (``scripts/docker-test-env.sh`` makes a Docker
engine answer here); otherwise the ``docker_backends`` fixture skips, saying so.
Works with Compose v2 (``docker compose``) and Debian's ``docker-compose`` 1.29, which
has no ``--wait``: services are awaited by the checks below instead.

Build-context staging (``stage``), run by the ``docker_setup`` fixture before ``docker
compose build``, never at import: the neo4j image gets the Neo4j jars the test launcher
builds with Maven (``neo4j.py``), the gremlin image the Gremlin Server distribution the
launcher unpacks (``gremlin.py``), the secantusdb image the wheels of the launcher's pin
(``mongo.py``), downloaded by the host's pip into ``$LIGHTRAG_CI_CACHE/secantusdb`` (so the
build installs offline). Files are hard-linked (copied across file systems) into each
context's ``stage/`` directory, which git ignores. A service whose image variable names
another image (an official one, with a registry) is pulled, not built, and needs no staging.
A service that cannot be staged is left out: its tests skip saying why, or fail when
``LIGHTRAG_TEST_REQUIRE_SERVERS=1``. ``cd tests && python -m integration.servers.compose``
stages by hand and prints the compose commands the fixtures would run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .base import LaunchError

__all__ = ["SERVICES", "DockerBackends", "Staging", "stage"]

_COMPOSE_FILE = Path(__file__).resolve().parents[1] / "docker-compose.yml"
_CONTEXTS = _COMPOSE_FILE.parent / "docker"

SERVICES: dict[str, tuple[str, str]] = {
    "postgres": ("LIGHTRAG_TEST_POSTGRES_IMAGE", "local/lightrag-test-postgres:17"),
    "redis": ("LIGHTRAG_TEST_REDIS_IMAGE", "local/lightrag-test-redis:7"),
    "neo4j": ("LIGHTRAG_TEST_NEO4J_IMAGE", "local/lightrag-test-neo4j:5.26"),
    "gremlin": ("LIGHTRAG_TEST_GREMLIN_IMAGE", "local/lightrag-test-gremlin:3.8.1"),
    "mongo": ("LIGHTRAG_TEST_MONGO_IMAGE", "local/lightrag-test-secantusdb:0.7.0b3"),
}
"""Compose service -> (image variable, its default: the image built here)."""

PORTS: dict[str, tuple[str, int]] = {
    "postgres": ("LIGHTRAG_TEST_DOCKER_PG_PORT", 55432),
    "redis": ("LIGHTRAG_TEST_DOCKER_REDIS_PORT", 56379),
    "neo4j": ("LIGHTRAG_TEST_DOCKER_NEO4J_PORT", 17687),
    "gremlin": ("LIGHTRAG_TEST_DOCKER_GREMLIN_PORT", 18182),
    "mongo": ("LIGHTRAG_TEST_DOCKER_MONGO_PORT", 17017),
}
"""Compose service -> (port variable, default): distinct from the launchers' free ports."""

NEO4J_PASSWORD = "lightrag-test-password"  # NEO4J_AUTH of the compose service
IMAGE_PYTHON = "3.11"  # Debian bookworm's python3, which the secantusdb image runs


def port(service: str) -> int:
    variable, default = PORTS[service]
    return int(os.environ.get(variable, str(default)))


def builds_here(service: str) -> bool:
    """Whether the service's image is the local one (built from a context here)."""
    variable, default = SERVICES[service]
    return os.environ.get(variable, default) == default


def _link_tree(source: Path, target: Path) -> None:
    """Make ``target`` a copy of the tree ``source``: files hard-linked (copied across file
    systems), files ``source`` does not have removed; unchanged links are left alone."""
    target.mkdir(parents=True, exist_ok=True)
    wanted: set[Path] = set()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        wanted.add(relative)
        copy = target / relative
        if path.is_dir():
            copy.mkdir(exist_ok=True)
            continue
        if copy.exists():
            same = os.path.samefile(path, copy) or (
                copy.stat().st_size == path.stat().st_size
                and copy.stat().st_mtime == path.stat().st_mtime
            )
            if same:
                continue
            copy.unlink()
        try:
            os.link(path, copy)
        except OSError:
            shutil.copy2(path, copy)
    for path in sorted(target.rglob("*"), reverse=True):
        if path.relative_to(target) not in wanted:
            path.rmdir() if path.is_dir() else path.unlink()


def _stage_neo4j(context: Path) -> None:
    from .neo4j import Neo4jLauncher

    launcher = Neo4jLauncher()
    launcher.install()  # Maven build into the CI cache, once per source digest
    _link_tree(launcher.build_dir / "target" / "lib", context / "stage" / "lib")


def _stage_gremlin(context: Path) -> None:
    from .gremlin import HOME, GremlinLauncher

    GremlinLauncher().install()  # the distribution zip from Maven Central, unpacked once
    _link_tree(HOME, context / "stage" / "gremlin-server")


def _gremlin_config(context: Path) -> None:
    """The launcher's server config, as the container sees it (mounted read-only at
    ``conf/lightrag``; TinkerGraph persisted in the container's /tmp across restarts)."""
    from .gremlin import write_config

    conf = context / "stage" / "conf"
    shutil.rmtree(conf, ignore_errors=True)
    write_config(
        conf,
        port("gremlin"),
        conf_dir=Path("/opt/gremlin-server/conf/lightrag"),
        graph=Path("/tmp/lightrag-graph.json"),
    )


def _secantusdb_wheels() -> Path:
    """The wheels of the launcher's secantusdb pin and its dependencies for the image's
    Python, downloaded once by the host's pip into the CI cache."""
    from .mongo import SECANTUSDB_PIN

    root = Path(os.environ.get("LIGHTRAG_CI_CACHE", "/var/cache/lightrag-ci")) / "secantusdb"
    wheels = root / f"wheels-{SECANTUSDB_PIN.split('==')[1]}-py{IMAGE_PYTHON}"
    if (wheels / "complete").exists():
        return wheels
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="wheels-", dir=root))
    try:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(work),
            "--only-binary=:all:", "--implementation", "cp", "--python-version", IMAGE_PYTHON,
            "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64",
            "--platform", "manylinux2014_x86_64", SECANTUSDB_PIN,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise LaunchError(f"pip download {SECANTUSDB_PIN} failed: {done.stderr[-2000:]}")
        (work / "complete").write_text(SECANTUSDB_PIN + "\n")
        shutil.rmtree(wheels, ignore_errors=True)
        work.rename(wheels)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return wheels


def _stage_secantusdb(context: Path) -> None:
    _link_tree(_secantusdb_wheels(), context / "stage" / "wheels")


_STAGERS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "neo4j": ("neo4j", _stage_neo4j),
    "gremlin": ("gremlin", _stage_gremlin),
    "mongo": ("secantusdb", _stage_secantusdb),
}


@dataclass(frozen=True)
class Staging:
    """What ``docker_setup`` runs: services to build here, to pull, and those left out
    (service -> why)."""

    build: list[str]
    pull: list[str]
    unavailable: dict[str, str] = field(default_factory=dict)

    def commands(self) -> list[str]:
        started = [s for s in SERVICES if s not in self.unavailable]
        commands = [f"build {' '.join(self.build)}"] if self.build else []
        if self.pull:
            commands.append(f"pull {' '.join(self.pull)}")
        return [*commands, f"up -d --no-build {' '.join(started)}"]


def stage() -> Staging:
    """Stage the build contexts of the services whose image is built here."""
    build: list[str] = []
    pull: list[str] = []
    unavailable: dict[str, str] = {}
    _gremlin_config(_CONTEXTS / "gremlin")  # mounted into the local and the official image
    for service in SERVICES:
        if not builds_here(service):
            pull.append(service)
            continue
        if service in _STAGERS:
            context, stager = _STAGERS[service]
            try:
                stager(_CONTEXTS / context)
            except LaunchError as exc:
                if os.environ.get("LIGHTRAG_TEST_REQUIRE_SERVERS") == "1":
                    raise
                unavailable[service] = f"staging the {service} image failed: {exc}"
                continue
        build.append(service)
    return Staging(build, pull, unavailable)


@dataclass(frozen=True)
class DockerBackends:
    """How to reach the compose services (all on 127.0.0.1, host network), and how to
    restart one (``docker compose restart``, then wait until it answers again).

    PostgreSQL and Redis answer before the fixture returns; the slower JVM services
    (Neo4j starts in ~20-40 s) are awaited by ``require`` on first use, so they boot while
    the tests before theirs run."""

    postgres: dict[str, object]
    redis_uri: str
    restart: Callable[[str], None]
    neo4j: dict[str, Any] = field(default_factory=dict)
    gremlin_url: str = ""
    mongo_uri: str = ""
    unavailable: Mapping[str, str] = field(default_factory=dict)
    ready: Callable[[str], None] = field(default=lambda service: None)

    def require(self, service: str) -> None:
        """Skip, saying why, when ``service`` was left out (its image could not be staged);
        else wait until it answers (once: later calls return at once)."""
        if service in self.unavailable:
            pytest.skip(self.unavailable[service])
        self.ready(service)

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
def docker_staging() -> Staging:
    """Stage the build contexts (only when the docker services are asked for)."""
    return stage()


@pytest.fixture(scope="session")
def docker_setup(docker_staging: Staging) -> list[str]:
    return docker_staging.commands()


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


def _neo4j_answers(params: dict[str, Any]) -> None:
    from neo4j import GraphDatabase

    auth = (params["username"], params["password"])
    with GraphDatabase.driver(params["uri"], auth=auth, connection_timeout=2) as driver:
        driver.verify_connectivity()


def _gremlin_answers(gremlin_port: int) -> None:
    """Accepts TCP: Gremlin Server binds its port last, after the graph and init script."""
    import socket

    with socket.create_connection(("127.0.0.1", gremlin_port), timeout=1):
        pass


def _mongo_answers(uri: str) -> None:
    from pymongo import MongoClient

    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000)
    try:
        client.admin.command("ping")
    finally:
        client.close()


@pytest.fixture(scope="session")
def docker_backends(request: pytest.FixtureRequest) -> DockerBackends:
    """Start the compose services (once per session) and wait until each answers."""
    if os.environ.get("LIGHTRAG_TEST_DOCKER") != "1":
        pytest.skip("Docker services not requested: set LIGHTRAG_TEST_DOCKER=1")
    staging: Staging = request.getfixturevalue("docker_staging")
    services = request.getfixturevalue("docker_services")
    postgres: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port("postgres"),
        "user": "lightrag",
        "password": "lightrag-test",
        "database": "lightrag",
    }
    redis_uri = f"redis://127.0.0.1:{port('redis')}/0"
    neo4j = {
        "uri": f"bolt://127.0.0.1:{port('neo4j')}",
        "username": "neo4j",
        "password": NEO4J_PASSWORD,
    }
    gremlin_url = f"ws://127.0.0.1:{port('gremlin')}/gremlin"
    mongo_uri = f"mongodb://127.0.0.1:{port('mongo')}/"
    checks: dict[str, tuple[Callable[[], object], float]] = {
        "postgres": (lambda: _postgres_answers(postgres), 120.0),
        "redis": (lambda: _redis_answers(redis_uri), 120.0),
        "neo4j": (lambda: _neo4j_answers(neo4j), 240.0),  # ~20 s idle, JVM on 2 busy cores
        "gremlin": (lambda: _gremlin_answers(port("gremlin")), 180.0),
        "mongo": (lambda: _mongo_answers(mongo_uri), 120.0),
    }

    def wait(service: str) -> None:
        check, timeout = checks[service]
        services.wait_until_responsive(check=_answers(check), timeout=timeout, pause=0.3)

    answered: set[str] = set()
    failed: dict[str, str] = {}

    def ready(service: str) -> None:
        if service in failed:  # do not wait the whole timeout again for each test
            pytest.fail(failed[service], pytrace=False)
        if service not in answered:
            try:
                wait(service)
            except Exception as exc:
                failed[service] = f"the {service} service did not answer: {exc}"
                raise
            answered.add(service)

    def restart(service: str) -> None:
        services._docker_compose.execute(f"restart {service}")
        wait(service)

    for service in ("postgres", "redis"):
        if service not in staging.unavailable:
            ready(service)
    return DockerBackends(
        postgres=postgres,
        redis_uri=redis_uri,
        restart=restart,
        neo4j=neo4j,
        gremlin_url=gremlin_url,
        mongo_uri=mongo_uri,
        unavailable=dict(staging.unavailable),
        ready=ready,
    )


if __name__ == "__main__":
    done = stage()
    for service, why in done.unavailable.items():
        print(f"{service}: {why}", file=sys.stderr)
    print("staged; compose would run:", *done.commands(), sep="\n  ")
