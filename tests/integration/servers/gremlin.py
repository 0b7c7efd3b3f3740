"""Gremlin test server: Apache TinkerPop Gremlin Server 3.8.1 with TinkerGraph, on 127.0.0.1.

The official distribution zip comes from Maven Central
(``org.apache.tinkerpop:gremlin-server:3.8.1:zip:distribution``, fetched with
``mvn dependency:get`` into ``$LIGHTRAG_CI_CACHE/gremlin/m2``, default
``/var/cache/lightrag-ci``) and is unpacked once beside it; it needs a JRE (17+)
and Maven, installed from Debian when missing. Each start writes its own server
config into the data directory: TinkerGraph persisted to ``graph.json`` there (so
the data survives ``restart``; the server writes it on SIGTERM) and an init script
that indexes ``lightrag_id``. Session fixture ``gremlin_server``: the URL in
``LIGHTRAG_TEST_GREMLIN_URL`` (``ws://host:port/gremlin``) when set, else a server
started here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .base import LaunchError, RunningServer, ServerLauncher, spawn, tcp_open
from .fixtures import server_or_skip

__all__ = ["CACHE", "HOME", "GremlinLauncher", "gremlin_params", "gremlin_server", "write_config"]

VERSION = "3.8.1"
ARTIFACT = f"org.apache.tinkerpop:gremlin-server:{VERSION}:zip:distribution"
CACHE = Path(os.environ.get("LIGHTRAG_CI_CACHE", "/var/cache/lightrag-ci")) / "gremlin"
HOME = CACHE / f"apache-tinkerpop-gremlin-server-{VERSION}"
ZIP = (
    CACHE
    / "m2/org/apache/tinkerpop/gremlin-server"
    / VERSION
    / f"gremlin-server-{VERSION}-distribution.zip"
)

_INIT_SCRIPT = """\
// Written by the LightRAG test launcher: index entity ids, bind the traversal source g.
graph.createIndex("lightrag_id", Vertex.class)
def globals = [:]
globals << [g : traversal().withEmbedded(graph)]
"""

_SERVER_YAML = """\
# Written by the LightRAG test launcher (tests/integration/servers/gremlin.py).
host: 127.0.0.1
port: {port}
evaluationTimeout: 60000
channelizer: org.apache.tinkerpop.gremlin.server.channel.WebSocketChannelizer
graphs: {{ graph: {properties} }}
scriptEngines: {{
  gremlin-groovy: {{
    plugins: {{ org.apache.tinkerpop.gremlin.server.jsr223.GremlinServerGremlinPlugin: {{}},
               org.apache.tinkerpop.gremlin.tinkergraph.jsr223.TinkerGraphGremlinPlugin: {{}},
               org.apache.tinkerpop.gremlin.jsr223.ScriptFileGremlinPlugin: {{files: [{init}]}}}}}}}}
serializers:
  - {{ className: org.apache.tinkerpop.gremlin.util.ser.GraphBinaryMessageSerializerV1 }}
  - {{ className: org.apache.tinkerpop.gremlin.util.ser.GraphSONMessageSerializerV3 }}
processors:
  - {{ className: org.apache.tinkerpop.gremlin.server.op.traversal.TraversalOpProcessor }}
maxContentLength: 10485760
"""

_GRAPH_PROPERTIES = """\
gremlin.graph=org.apache.tinkerpop.gremlin.tinkergraph.structure.TinkerGraph
gremlin.tinkergraph.vertexIdManager=LONG
gremlin.tinkergraph.edgeIdManager=LONG
gremlin.tinkergraph.graphLocation={location}
gremlin.tinkergraph.graphFormat=graphson
"""


def _run(command: list[str], what: str, timeout: float = 900) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LaunchError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        raise LaunchError(
            f"{what} failed (exit {done.returncode}): {(done.stdout + done.stderr)[-2000:]}"
        )


def _wait_for_apt(timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = subprocess.run(["pgrep", "-x", "apt-get"], capture_output=True, check=False)
        if busy.returncode != 0:
            return
        time.sleep(2.0)
    raise LaunchError("another apt-get is still running after 10 minutes")


class GremlinLauncher(ServerLauncher):
    name = "gremlin"
    start_timeout = 120.0

    def install(self) -> None:
        if (HOME / "bin" / "gremlin-server.sh").exists() and shutil.which("java"):
            return
        if not shutil.which("java") or not shutil.which("mvn"):
            _wait_for_apt()
            _run(
                ["apt-get", "install", "-y", "-qq", "default-jre-headless", "maven"],
                "apt-get install default-jre-headless maven",
            )
        CACHE.mkdir(parents=True, exist_ok=True)
        if not ZIP.exists():
            _run(
                [
                    "mvn", "-q", "-B", "dependency:get", f"-Dartifact={ARTIFACT}",
                    "-Dtransitive=false", f"-Dmaven.repo.local={CACHE / 'm2'}",
                ],
                f"mvn dependency:get {ARTIFACT}",
            )  # fmt: skip
        unpacking = CACHE / "unpacking"
        shutil.rmtree(unpacking, ignore_errors=True)
        with zipfile.ZipFile(ZIP) as archive:
            archive.extractall(unpacking)
        for script in (unpacking / HOME.name / "bin").iterdir():
            script.chmod(0o755)
        shutil.rmtree(HOME, ignore_errors=True)
        (unpacking / HOME.name).rename(HOME)
        unpacking.rmdir()

    def start(self, data_dir: Path, port: int) -> RunningServer:
        config = write_config(data_dir, port, conf_dir=data_dir, graph=data_dir / "graph.json")
        env = dict(os.environ, JAVA_OPTIONS="-Xms128m -Xmx1g")
        pid = spawn(
            [str(HOME / "bin" / "gremlin-server.sh"), str(config)],
            data_dir / "server.log",
            env=env,
        )
        url = f"ws://127.0.0.1:{port}/gremlin"
        return RunningServer(self.name, url, "127.0.0.1", port, data_dir, pid=pid)

    def ready(self, server: RunningServer) -> bool:
        """The latest start logged that it listens (after binding ``g``) and accepts TCP.

        Not a gremlinpython round trip: its transports, failing to connect while the
        server starts, warn when collected.
        """
        text = (server.data_dir / "server.log").read_text(errors="replace")
        if text.count("Channel started at port") < text.count("Configuring Gremlin Server"):
            return False  # the log is appended to across restarts
        return tcp_open(server.host, server.port)


def write_config(target: Path, port: int, *, conf_dir: Path, graph: Path) -> Path:
    """Write the server config (``gremlin-server.yaml``, TinkerGraph properties, init
    script) into ``target``; return the yaml. ``conf_dir`` and ``graph`` are the paths the
    server sees: ``target`` itself for the launcher, a mount point in a container (the
    docker compose service runs the same config)."""
    target.mkdir(parents=True, exist_ok=True)
    properties, init = conf_dir / "tinkergraph.properties", conf_dir / "init.groovy"
    (target / properties.name).write_text(_GRAPH_PROPERTIES.format(location=graph))
    (target / init.name).write_text(_INIT_SCRIPT)
    config = target / "gremlin-server.yaml"
    config.write_text(_SERVER_YAML.format(port=port, properties=properties, init=init))
    return config


def gremlin_params(url: str) -> dict[str, Any]:
    """``GremlinConfig`` parameters from ``ws[s]://host:port/path``."""
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 8182,
        "ssl": parts.scheme == "wss",
        "path": parts.path or "/gremlin",
    }


@pytest.fixture(scope="session")
def gremlin_server() -> Iterator[RunningServer | str]:
    """A Gremlin Server: ``LIGHTRAG_TEST_GREMLIN_URL`` or one started for the session."""
    with server_or_skip("LIGHTRAG_TEST_GREMLIN_URL", GremlinLauncher()) as server:
        yield server
