"""scripts/lightrag.service: systemd accepts it, and its command line and environment
compose a valid configuration."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT, find_tool

pytestmark = pytest.mark.deploy

UNIT = ROOT / "scripts" / "lightrag.service"


def directives(name: str) -> list[str]:
    prefix = f"{name}="
    return [
        line.removeprefix(prefix)
        for line in UNIT.read_text(encoding="utf-8").splitlines()
        if line.startswith(prefix)
    ]


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = find_tool("systemd-analyze")
    server = shutil.which("lightrag-server")
    assert server, "lightrag-server is not installed"
    # Same unit, with ExecStart on this machine's lightrag-server (the unit's path is the
    # documented install location, absent here).
    (exec_start,) = directives("ExecStart")
    text = UNIT.read_text(encoding="utf-8").replace(exec_start.split()[0], server)
    copy = tmp_path / "lightrag.service"
    copy.write_text(text, encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_unit_command_and_environment_compose_a_valid_config(tmp_path: Path) -> None:
    (exec_start,) = directives("ExecStart")
    env = {"PATH": os.environ["PATH"]}
    for assignment in directives("Environment"):
        key, _, value = assignment.partition("=")
        env[key] = value
    (tmp_path / "recipe").mkdir()
    env["LIGHTRAG_CONFIG_PATH"] = str(tmp_path)  # the unit's /etc/lightrag/conf, empty
    args = shlex.split(exec_start)[1:]
    result = subprocess.run(
        ["lightrag-server", *args, "--print-config"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "working_dir: /var/lib/lightrag/rag_storage" in result.stdout
    assert "input_dir: /var/lib/lightrag/inputs" in result.stdout
