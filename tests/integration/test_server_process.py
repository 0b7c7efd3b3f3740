"""The real server process: ``python -m lightrag.testing.serve`` (the launcher plus the
test fakes) under uvicorn on a loopback port.

Starts the launcher with the fake models and file storages in a temp dir, then
talks HTTP to it: auth, inserts, pipeline, every query mode, a streamed answer,
a restart that keeps the data, and HTTPS with a self-signed certificate.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import lightrag

pytestmark = pytest.mark.integration

API_KEY = "integration-key-0123456789"
STARTUP_DEADLINE_SECONDS = 60.0
PIPELINE_DEADLINE_SECONDS = 120.0
MODES = ["local", "global", "hybrid", "naive", "mix", "bypass"]
DOCS = [
    "Alice Smith works at Acme Corporation in Berlin. Alice Smith leads the Robotics Lab.",
    "Bob Jones founded Acme Corporation. Bob Jones and Alice Smith met in Berlin.",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _clean_env() -> dict[str, str]:
    """The test's environment without variables the launcher would read as config."""
    prefixes = ("LIGHTRAG_", "LLM_", "EMBEDDING_", "TOKEN_", "AUTH_", "SSL", "WHITELIST")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    # The child imports the same lightrag as this test (a checkout, not another install).
    root = str(Path(lightrag.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


@contextmanager
def server_process(
    tmp_path: Path, *extra: str, scheme: str = "http", env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run the launcher until the block ends; yields the base URL once ``/ready`` is 200.

    ``env`` adds variables to the child's cleaned environment (database settings)."""
    port = _free_port()
    log = (tmp_path / f"server-{port}.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "lightrag.testing.serve",
        "llm=fake",
        "embedding=fake",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--working-dir",
        str(tmp_path / "rag_storage"),
        "--input-dir",
        str(tmp_path / "inputs"),
        "--key",
        API_KEY,
        *extra,
    ]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env={**_clean_env(), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"{scheme}://127.0.0.1:{port}"
    try:
        _wait_ready(process, base_url, tmp_path / f"server-{port}.log")
        yield base_url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        log.close()
        assert code == 0, (tmp_path / f"server-{port}.log").read_text(errors="replace")[-4000:]


def _wait_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    end = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < end:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/ready", verify=False, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.2)
    pytest.fail(f"server not ready after {STARTUP_DEADLINE_SECONDS}s:\n{log_path.read_text()}")


def _wait_for_pipeline(client: httpx.Client) -> dict[str, int]:
    end = time.monotonic() + PIPELINE_DEADLINE_SECONDS
    while time.monotonic() < end:
        busy = client.get("/documents/pipeline_status").json()["busy"]
        counts: dict[str, int] = client.get("/documents/status_counts").json()["status_counts"]
        if not busy and not counts.get("pending") and not counts.get("processing"):
            return counts
        time.sleep(0.2)
    pytest.fail("pipeline did not finish in time")


def test_server_process_indexes_queries_every_mode_streams_and_keeps_data(
    tmp_path: Path,
) -> None:
    with server_process(tmp_path) as base_url:
        assert httpx.get(f"{base_url}/documents").status_code == 403
        with httpx.Client(base_url=base_url, headers={"X-API-Key": API_KEY}, timeout=30) as client:
            inserted = client.post(
                "/documents/texts", json={"texts": DOCS, "file_sources": ["a.txt", "b.txt"]}
            )
            assert inserted.status_code == 200, inserted.text
            upload = client.post(
                "/documents/upload", files={"file": ("c.md", b"Carol White lives in Turin.")}
            )
            assert upload.status_code == 200, upload.text
            counts = _wait_for_pipeline(client)
            assert counts["processed"] == 3 and counts["failed"] == 0

            for mode in MODES:
                answer = client.post(
                    "/query", json={"query": "Where does Alice Smith work?", "mode": mode}
                )
                assert answer.status_code == 200, (mode, answer.text)
                assert answer.json()["response"].strip(), mode

            with client.stream(
                "POST", "/query/stream", json={"query": "Who founded Acme Corporation?"}
            ) as stream:
                assert stream.headers["content-type"].startswith("application/x-ndjson")
                lines = [json.loads(line) for line in stream.iter_lines() if line.strip()]
            assert "references" in lines[0]
            assert "".join(line.get("response", "") for line in lines[1:]).strip()
            assert not any("error" in line for line in lines)

            labels = client.get("/graph/label/list").json()
            assert "Alice Smith" in labels

    with (
        server_process(tmp_path) as base_url,
        httpx.Client(base_url=base_url, headers={"X-API-Key": API_KEY}) as client,
    ):
        counts = client.get("/documents/status_counts").json()["status_counts"]
        assert counts["processed"] == 3
        assert "Alice Smith" in client.get("/graph/label/list").json()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a cert")
def test_server_process_serves_https_with_the_given_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    tls = ("--ssl", "--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    with server_process(tmp_path, *tls, scheme="https") as base_url:
        response = httpx.get(f"{base_url}/health", verify=False)
    assert base_url.startswith("https://")
    assert response.json()["status"] == "healthy"


def test_ssl_without_certificate_fails_at_start_naming_the_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lightrag.testing.serve", "llm=fake", "embedding=fake", "--ssl"],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ssl_certfile" in result.stderr
