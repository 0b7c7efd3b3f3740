"""The container image, run as production runs it: host network on 127.0.0.1, read-only root
filesystem, /tmp a tmpfs, data in named volumes. Ingest a document, answer a query on the
embedded recipe, check the user and the health check, stop it, start it again on the same
volumes and find the document still there."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

pytestmark = pytest.mark.deploy

DOCUMENT = (
    "Marie Curie was a physicist and chemist who worked in Paris. "
    "She won the Nobel Prize in Physics in 1903 together with Pierre Curie."
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Container:
    docker: str
    image: str
    name: str
    port: int
    volumes: tuple[str, str]
    started_to_health_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *args: str) -> None:
        data, inputs = self.volumes
        subprocess.run(
            [self.docker, "run", "-d", "--name", self.name, "--network", "host",
             "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
             "--security-opt", "no-new-privileges:true",
             "-v", f"{data}:/data/rag_storage", "-v", f"{inputs}:/data/inputs",
             "-e", "HOST=127.0.0.1", "-e", f"PORT={self.port}",
             self.image, *args],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        began = time.monotonic()
        deadline = began + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    self.started_to_health_s = time.monotonic() - began
                    return
            except httpx.TransportError:
                pass
            if self.inspect()["State"]["Status"] == "exited":
                break
            time.sleep(0.25)
        pytest.fail(f"no /health within 120 s; logs:\n{self.logs()}")

    def inspect(self) -> dict:
        out = subprocess.run(
            [self.docker, "inspect", self.name], check=True, capture_output=True, text=True
        ).stdout
        return json.loads(out)[0]

    def logs(self) -> str:
        result = subprocess.run(
            [self.docker, "logs", "--tail", "60", self.name], capture_output=True, text=True
        )
        return result.stdout + result.stderr

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.docker, "exec", self.name, *command], capture_output=True, text=True
        )

    def stop(self) -> int:
        """Stop (SIGTERM, 20 s grace) and remove; the container's exit code."""
        subprocess.run([self.docker, "stop", "-t", "20", self.name], capture_output=True)
        code = self.inspect()["State"]["ExitCode"]
        subprocess.run([self.docker, "rm", "-f", self.name], capture_output=True)
        return int(code)


@pytest.fixture
def container(docker: str, image: str) -> Iterator[Container]:
    tag = uuid.uuid4().hex[:8]
    volumes = (f"lightrag-test-data-{tag}", f"lightrag-test-inputs-{tag}")
    box = Container(docker, image, f"lightrag-image-test-{tag}", free_port(), volumes)
    yield box
    subprocess.run([docker, "rm", "-f", box.name], capture_output=True)
    subprocess.run([docker, "volume", "rm", *volumes], capture_output=True)


def wait_processed(url: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = httpx.get(f"{url}/documents/status_counts", timeout=5).json()["status_counts"]
        if counts.get("failed"):
            pytest.fail(f"indexing failed: {counts}")
        if counts.get("processed") == count:
            return
        time.sleep(0.5)
    pytest.fail(f"documents not processed within {timeout} s")


def test_image_metadata_declares_non_root_healthcheck_and_entrypoint(
    docker: str, image: str
) -> None:
    out = subprocess.run(
        [docker, "image", "inspect", image], check=True, capture_output=True, text=True
    ).stdout
    config = json.loads(out)[0]["Config"]
    assert config["User"] not in ("", "0", "root", "0:0")
    assert config["Entrypoint"] == ["lightrag-server"]
    assert config["Cmd"] == ["+recipe=embedded"]
    assert "/health" in open_healthcheck(docker, image)
    assert set(config["Volumes"]) == {"/data/rag_storage", "/data/inputs"}


def open_healthcheck(docker: str, image: str) -> str:
    out = subprocess.run(
        [docker, "image", "inspect", "--format", "{{json .Config.Healthcheck}}", image],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    test = json.loads(out)["Test"]
    script = test[-1]
    return subprocess.run(
        [docker, "run", "--rm", "--entrypoint", "cat", image, script],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def test_embedded_recipe_ingests_and_answers_read_only_as_non_root(container: Container) -> None:
    container.start()  # the image's default command: +recipe=embedded
    print(f"start to /health: {container.started_to_health_s:.1f} s")

    uid = container.exec("id", "-u")
    assert uid.returncode == 0 and uid.stdout.strip() != "0", uid
    probe = container.exec("touch", "/opt/venv/written")
    assert probe.returncode != 0 and "Read-only file system" in probe.stderr

    health = httpx.get(f"{container.url}/health", timeout=5).json()
    assert health["configuration"]["llm_binding"] == "embedded"
    assert health["working_directory"] == "/data/rag_storage"
    assert httpx.get(f"{container.url}/ready", timeout=5).status_code == 200

    reply = httpx.post(
        f"{container.url}/documents/text",
        json={"text": DOCUMENT, "file_source": "curie.txt"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    wait_processed(container.url, 1)
    answer = httpx.post(
        f"{container.url}/query",
        json={"query": "Where did Marie Curie work?", "mode": "hybrid"},
        timeout=60,
    ).json()
    assert "Paris" in answer["response"]
    assert [ref["file_path"] for ref in answer["references"]] == ["curie.txt"]

    # The image's HEALTHCHECK runs as docker runs it (first check after its 15 s interval).
    deadline = time.monotonic() + 60
    while container.inspect()["State"]["Health"]["Status"] != "healthy":
        assert time.monotonic() < deadline, container.inspect()["State"]["Health"]
        time.sleep(1)

    assert container.stop() == 0  # SIGTERM is a clean shutdown, not a kill

    container.start()  # same volumes: the index survived the container
    counts = httpx.get(f"{container.url}/documents/status_counts", timeout=5).json()
    assert counts["status_counts"]["processed"] == 1
    again = httpx.post(
        f"{container.url}/query",
        json={"query": "Who won the Nobel Prize in Physics in 1903?", "mode": "local"},
        timeout=60,
    ).json()
    assert "Curie" in again["response"]
    assert container.stop() == 0


def test_hydra_overrides_and_env_vars_reach_the_server(container: Container) -> None:
    container.start("+recipe=embedded", "server.workspace=team_a", "rag.top_k=7")
    health = httpx.get(f"{container.url}/health", timeout=5).json()
    assert health["configuration"]["workspace"] == "team_a"
    assert container.exec("ls", "/data/rag_storage/team_a").returncode == 0
    assert container.stop() == 0
