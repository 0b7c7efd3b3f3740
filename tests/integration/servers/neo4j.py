"""Neo4j 5.26 Community test server: the embedded database from Maven Central, over Bolt.

``neo4j_server/`` holds a Maven project (``org.neo4j:neo4j:5.26.30``) and a small Java
main that starts the database with the Bolt connector on 127.0.0.1, authentication on
and a test user. ``install`` builds it once with Maven into the CI cache
(``$LIGHTRAG_CI_CACHE/neo4j``, default ``/var/cache/lightrag-ci/neo4j``: the Maven
repository and the built classes + 213 jars, keyed by a hash of the sources), installing
a JDK and Maven from Debian when they are missing; later runs start in ~10-20 s.

Session fixture ``neo4j_server`` yields a ``Neo4jTestServer`` (URI, user, password, the
``Neo4jConfig`` params, and a ``restart`` when started here). Set
``LIGHTRAG_TEST_NEO4J_URI`` (``bolt://user:password@host:port``) to use a server of
your own instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

from .base import LaunchError, RunningServer, ServerLauncher, spawn
from .fixtures import server_or_skip

__all__ = ["Neo4jLauncher", "Neo4jTestServer", "neo4j_server", "params_from_uri"]

SOURCES = Path(__file__).parent / "neo4j_server"
MAIN_CLASS = "lightrag.testserver.Neo4jTestServer"
TEST_USER = "lightrag"
TEST_PASSWORD = "lightrag-test-password"
APT_PACKAGES = ("openjdk-17-jdk-headless", "maven")


def _cache_root() -> Path:
    return Path(os.environ.get("LIGHTRAG_CI_CACHE", "/var/cache/lightrag-ci")) / "neo4j"


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in SOURCES.rglob("*") if p.is_file() and "target" not in p.parts):
        digest.update(str(path.relative_to(SOURCES)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _run(command: list[str], what: str, cwd: Path | None = None, timeout: float = 1200) -> None:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LaunchError(f"{what} failed: {exc}") from exc
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-3000:]
        raise LaunchError(f"{what} failed (exit {result.returncode}): {tail}")


def _wait_for_apt(timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = subprocess.run(["pgrep", "-x", "apt-get"], capture_output=True, check=False)
        if busy.returncode != 0:
            return
        time.sleep(2.0)
    raise LaunchError("another apt-get is still running after 10 minutes")


class Neo4jLauncher(ServerLauncher):
    name = "neo4j"
    start_timeout = 180.0  # ~17 s idle; several times that on a loaded 2-core machine

    @property
    def build_dir(self) -> Path:
        return _cache_root() / f"server-{_sources_digest()}"

    def _classpath(self) -> str:
        target = self.build_dir / "target"
        return f"{target / 'classes'}{os.pathsep}{target / 'lib' / '*'}"

    def install(self) -> None:
        if (self.build_dir / "built.ok").exists():
            return
        if not (shutil.which("java") and shutil.which("javac") and shutil.which("mvn")):
            _wait_for_apt()
            if not any(Path("/var/lib/apt/lists").glob("*Packages*")):  # a fresh machine
                _run(["apt-get", "update", "-qq"], "apt-get update")
            _run(["apt-get", "install", "-y", "-qq", *APT_PACKAGES], "apt-get install JDK + Maven")
        root = _cache_root()
        root.mkdir(parents=True, exist_ok=True)
        with (root / "build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another test session may be building it
            if (self.build_dir / "built.ok").exists():
                return
            work = Path(tempfile.mkdtemp(prefix="build-", dir=root))
            try:
                shutil.copytree(
                    SOURCES, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns("target")
                )
                _run(
                    ["mvn", "-q", "-B", f"-Dmaven.repo.local={root / 'm2'}", "package",
                     "dependency:copy-dependencies", "-DoutputDirectory=target/lib",
                     "-DincludeScope=runtime"],
                    "mvn package (Neo4j test server)", cwd=work,
                )  # fmt: skip
                (work / "built.ok").write_text("ok\n")
                shutil.rmtree(self.build_dir, ignore_errors=True)
                work.rename(self.build_dir)
            finally:
                shutil.rmtree(work, ignore_errors=True)

    def start(self, data_dir: Path, port: int) -> RunningServer:
        log = data_dir / "server.log"
        offset = log.stat().st_size if log.exists() else 0
        command = [
            "java", "-Xms256m", "-Xmx1g", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-cp", self._classpath(), MAIN_CLASS, str(data_dir / "db"), str(port), TEST_USER,
        ]  # fmt: skip
        env = {**os.environ, "NEO4J_TEST_PASSWORD": TEST_PASSWORD}
        pid = spawn(command, log, env=env)
        return RunningServer(
            name=self.name,
            dsn=f"bolt://127.0.0.1:{port}",
            host="127.0.0.1",
            port=port,
            data_dir=data_dir,
            pid=pid,
            extra={"log_offset": str(offset)},
        )

    def ready(self, server: RunningServer) -> bool:
        """The Java main said so (after the test user exists), and Bolt accepts the user."""
        with (server.data_dir / "server.log").open("rb") as log:
            log.seek(int(server.extra.get("log_offset", "0")))
            if b"NEO4J_READY" not in log.read():
                return False
        from neo4j import GraphDatabase

        with GraphDatabase.driver(server.dsn, auth=(TEST_USER, TEST_PASSWORD)) as driver:
            driver.verify_connectivity()
        return True

    def stop(self, server: RunningServer, *, remove_data: bool = True) -> None:
        """A throwaway server is killed at once (its data is deleted); a restart stops it
        gracefully (SIGTERM runs the DBMS shutdown hook, ~10 s), keeping its data."""
        if remove_data and server.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(server.pid, 0)
        super().stop(server, remove_data=remove_data)


def params_from_uri(uri: str) -> dict[str, Any]:
    """``Neo4jConfig`` parameters from ``bolt://user:password@host:port`` (user and
    password default to the launcher's test user)."""
    parts = urlsplit(uri)
    netloc = parts.hostname or "localhost"
    if parts.port:
        netloc += f":{parts.port}"
    return {
        "uri": urlunsplit((parts.scheme, netloc, "", "", "")),
        "username": unquote(parts.username) if parts.username else TEST_USER,
        "password": unquote(parts.password) if parts.password else TEST_PASSWORD,
    }


@dataclass
class Neo4jTestServer:
    """What Neo4j tests need: ``Neo4jConfig`` params (uri, username, password) and a restart."""

    params: dict[str, Any]
    launcher: Neo4jLauncher | None = None
    running: RunningServer | None = field(default=None, repr=False)

    @property
    def uri(self) -> str:
        return str(self.params["uri"])

    @property
    def can_restart(self) -> bool:
        return self.launcher is not None and self.running is not None

    def restart(self) -> None:
        """Stop gracefully and start again on the same port and data (launched servers only)."""
        if self.launcher is None or self.running is None:
            pytest.skip("cannot restart a server given by LIGHTRAG_TEST_NEO4J_URI")
        restarted = self.launcher.restart(self.running)
        self.running.pid = restarted.pid
        self.running.extra = restarted.extra


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Neo4jTestServer]:
    """A running Neo4j: ``LIGHTRAG_TEST_NEO4J_URI``, or the embedded server started here."""
    launcher = Neo4jLauncher()
    with server_or_skip("LIGHTRAG_TEST_NEO4J_URI", launcher) as server:
        if isinstance(server, str):
            yield Neo4jTestServer(params=params_from_uri(server))
        else:
            yield Neo4jTestServer(
                params=params_from_uri(server.dsn), launcher=launcher, running=server
            )
