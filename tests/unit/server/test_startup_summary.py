"""The start-up summary in the log, and the warning for a server open to the network."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path

import pytest

from lightrag.config.models import BackendChoice
from lightrag.server.startup_summary import exposure_warning, is_loopback, summary_lines

from .server_support import make_config, running_app
from .test_startup_refusals import _PLATFORM_ENV, REPO, _entry_point, _free_port


def test_summary_names_recipe_storages_models_auth_bind_and_docs(tmp_path: Path) -> None:
    config = make_config(
        tmp_path, host="127.0.0.1", port=9700, api_key="admin-secret", query_api_keys=["q-secret"]
    )
    config.llm = BackendChoice.model_validate(
        {"type": "openai", "model": "gpt-4o-mini", "host": "https://user:pw@llm.example/v1"}
    )
    config.storage.graph = BackendChoice(type="networkx")
    text = "\n".join(summary_lines(config, "embedded"))

    assert "recipe: embedded" in text
    assert "kv=json vector=nano graph=networkx doc_status=json" in text
    assert "llm: openai gpt-4o-mini at https://user:**********@llm.example/v1" in text
    assert "embedding: fake" in text
    assert "auth: on (admin API key, 1 query key(s))" in text
    assert "listening on http://127.0.0.1:9700" in text
    assert "API docs: http://127.0.0.1:9700/docs" in text
    for secret in ("admin-secret", "q-secret", ":pw@"):
        assert secret not in text


def test_summary_says_auth_is_off_and_shows_a_usable_docs_url_for_0_0_0_0(
    tmp_path: Path,
) -> None:
    text = "\n".join(summary_lines(make_config(tmp_path, port=9621), None))
    assert "auth: off" in text
    assert "listening on http://0.0.0.0:9621" in text
    assert "API docs: http://127.0.0.1:9621/docs" in text


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("myhost.lan", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_warning_only_when_beyond_loopback_and_without_credentials(tmp_path: Path) -> None:
    warning = exposure_warning(make_config(tmp_path, host="0.0.0.0"))
    assert warning is not None
    assert "'0.0.0.0'" in warning and "LIGHTRAG_API_KEY" in warning and "127.0.0.1" in warning
    assert exposure_warning(make_config(tmp_path, host="127.0.0.1")) is None
    assert exposure_warning(make_config(tmp_path, host="0.0.0.0", api_key="k")) is None
    assert exposure_warning(make_config(tmp_path, host="0.0.0.0", query_api_keys=["q"])) is None


async def test_the_app_logs_the_summary_and_warning_when_it_is_ready(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lightrag.server")
    async with running_app(make_config(tmp_path, host="0.0.0.0")):
        pass
    records = [r for r in caplog.records if r.name == "lightrag.server"]
    messages = [r.getMessage() for r in records]
    assert any(m.startswith("storages: kv=json") for m in messages)
    assert any(m.startswith("API docs: ") for m in messages)
    warnings = [r for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "reachable from the network" in warnings[0].getMessage()


def test_the_real_server_logs_the_summary_before_serving(tmp_path: Path) -> None:
    port = _free_port()
    environ = {name: value for name, value in os.environ.items() if name in _PLATFORM_ENV}
    environ["PYTHONPATH"] = str(REPO)
    argv = [*_entry_point(), "--host", "127.0.0.1", "--port", str(port), "--key", "k-1"]
    argv += ["--working-dir", str(tmp_path / "rag"), "--input-dir", str(tmp_path / "in")]
    process = subprocess.Popen(
        argv, cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if "Uvicorn running on" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    output = "\n".join(lines)
    assert "recipe: (none" in output, output
    assert "storages: kv=json vector=nano graph=networkx doc_status=json" in output
    assert "llm: ollama " in output and "embedding: ollama " in output
    assert "auth: on (admin API key)" in output
    assert f"listening on http://127.0.0.1:{port}" in output
    assert f"API docs: http://127.0.0.1:{port}/docs" in output
    assert "reachable from the network" not in output
    assert "k-1" not in output
