"""Start-up refusals through the real ``lightrag-server`` entry point: one line, exit 3.

Each test runs the console script in a subprocess, as an operator does, on the default
file storages (the Ollama bindings are configured but never called: the refusal comes
first) and asserts the single line on stderr, the exit status and no traceback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from lightrag.config.server_checks import REFUSAL_EXIT_STATUS
from lightrag.server.workdir_lock import WorkingDirLock

from .tls_support import self_signed_pair

REPO = Path(__file__).resolve().parents[3]
_PLATFORM_ENV = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}
_HEAVY_MODULES = (
    "lightrag.server.app",
    "lightrag.compose",
    "lightrag.llm.embedded",
    "lightrag.storage.kv_json",
    "spacy",
    "onnxruntime",
    "uvicorn",
    "fastapi",
)


def _entry_point() -> list[str]:
    script = Path(sys.executable).parent / "lightrag-server"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "lightrag.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _launch(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, import_times: bool = False
) -> subprocess.CompletedProcess[str]:
    environ = {name: value for name, value in os.environ.items() if name in _PLATFORM_ENV}
    environ["PYTHONPATH"] = str(REPO)  # this tree's package, whatever is installed
    if import_times:
        environ["PYTHONPROFILEIMPORTTIME"] = "1"
    environ.update(env or {})
    argv = [*_entry_point(), "--host", "127.0.0.1", "--port", str(_free_port())]
    argv += ["--working-dir", str(tmp_path / "rag_storage"), "--input-dir", str(tmp_path / "in")]
    return subprocess.run(
        [*argv, *args], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=180
    )


def _error_lines(stderr: str) -> list[str]:
    """stderr without import-time profile lines and uvicorn's INFO lines."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith(("import time:", "INFO:"))
    ]


def _imported(stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def _assert_one_refusal(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    lines = _error_lines(result.stderr)
    assert result.returncode == REFUSAL_EXIT_STATUS, result.stderr
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("lightrag-server: error: cannot start: "), line
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_accounts_without_token_secret_are_refused_before_the_server_stack_loads(
    tmp_path: Path,
) -> None:
    # the embedded recipe: its models (spaCy, ONNX) are the heaviest imports of all
    env = {"AUTH_ACCOUNTS": "admin:pw"}
    result = _launch(tmp_path, "+recipe=embedded", env=env, import_times=True)

    _assert_one_refusal(result, "server.accounts", "TOKEN_SECRET")
    loaded = _imported(result.stderr)
    assert "lightrag.config.server_checks" in loaded  # the profile did record imports
    heavy = sorted(name for name in loaded if name.startswith(_HEAVY_MODULES))
    assert heavy == [], f"imported before the refusal: {heavy}"


def test_a_tls_certificate_that_is_not_pem_is_refused_by_setting_and_file(
    tmp_path: Path,
) -> None:
    _cert, key = self_signed_pair(tmp_path)
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("hello")
    result = _launch(tmp_path, "--ssl", "--ssl-certfile", str(bogus), "--ssl-keyfile", str(key))

    _assert_one_refusal(result, "server.ssl_certfile", "bogus.pem", "not a PEM certificate")


def test_a_query_key_equal_to_the_admin_key_is_refused(tmp_path: Path) -> None:
    env = {"LIGHTRAG_API_KEY": "k-Secret-42", "LIGHTRAG_QUERY_API_KEYS": "other,k-Secret-42"}
    result = _launch(tmp_path, env=env)

    _assert_one_refusal(result, "server.query_api_keys", "LIGHTRAG_QUERY_API_KEYS")
    assert "k-Secret-42" not in result.stderr  # the secret itself is never printed


def test_a_working_dir_held_by_another_server_is_refused_with_the_holder(tmp_path: Path) -> None:
    lock = WorkingDirLock(tmp_path / "rag_storage")
    lock.acquire()  # this test process plays the other server
    try:
        result = _launch(tmp_path)
    finally:
        lock.release()

    _assert_one_refusal(result, f"pid {os.getpid()}", str(tmp_path / "rag_storage"), "stop it")


def test_a_corrupt_store_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    storage = tmp_path / "rag_storage"
    storage.mkdir()
    broken = storage / "kv_store_full_docs.json"
    broken.write_text('{"doc-1": {"content": "cut off')
    result = _launch(tmp_path)

    _assert_one_refusal(result, str(broken), "restore it from a backup")
    assert broken.read_text() == '{"doc-1": {"content": "cut off'  # left untouched


def test_a_config_that_cannot_be_composed_still_exits_2(tmp_path: Path) -> None:
    result = _launch(tmp_path, "server.port=not-a-number")

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "server.port" in result.stderr


def test_the_refusal_keeps_valid_json_in_the_other_stores(tmp_path: Path) -> None:
    """A refusal writes nothing: the stores that could be read are not rewritten."""
    storage = tmp_path / "rag_storage"
    storage.mkdir()
    good = storage / "kv_store_text_chunks.json"
    good.write_text(json.dumps({"chunk-1": {"content": "kept"}}))
    (storage / "kv_store_full_docs.json").write_text("not json")
    before = good.stat().st_mtime_ns
    result = _launch(tmp_path)

    assert result.returncode == REFUSAL_EXIT_STATUS, result.stderr
    assert good.stat().st_mtime_ns == before
