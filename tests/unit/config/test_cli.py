"""The launcher's outputs: --help, --list-recipes, --list-backends, --print-config, errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from lightrag.cli import main, run
from lightrag.config.render import REDACTED, redact_params
from lightrag.config.search_path import CHOICE_GROUPS, ConfigTree

from .conftest import write


def _run(argv: list[str], tmp_path: Path, environ: dict[str, str] | None = None) -> str:
    out = io.StringIO()
    assert run(argv, environ or {}, tmp_path, out) == 0
    return out.getvalue()


def test_help_lists_flags_groups_and_recipes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(["--help"], {}, tmp_path, io.StringIO())
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for expected in ["--port", "--kv-storage", "--print-config", "[LIGHTRAG_KV_STORAGE]"]:
        assert expected in text
    for group in CHOICE_GROUPS:
        assert group in text
    for recipe in ConfigTree.build().option_names("recipe"):
        assert recipe in text


def test_help_includes_operator_recipes(
    tmp_path: Path, operator_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        run(["--config-dir", str(operator_dir), "--help"], {}, tmp_path, io.StringIO())
    assert "team" in capsys.readouterr().out


def test_list_recipes_gives_each_recipe_and_its_summary(tmp_path: Path) -> None:
    lines = _run(["--list-recipes"], tmp_path).splitlines()
    names = [line.split()[0] for line in lines]
    assert names == ConfigTree.build().option_names("recipe")
    embedded = next(line for line in lines if line.startswith("embedded "))
    assert "offline" in embedded


def test_list_recipes_marks_operator_recipes_with_their_file(
    tmp_path: Path, operator_dir: Path
) -> None:
    text = _run(["--list-recipes"], tmp_path, {"LIGHTRAG_CONFIG_PATH": str(operator_dir)})
    team = next(line for line in text.splitlines() if line.startswith("team "))
    assert "an operator's recipe." in team
    assert str(operator_dir / "recipe" / "team.yaml") in team


def test_list_backends_shows_registry_names_descriptions_and_aliases(tmp_path: Path) -> None:
    text = _run(["--list-backends"], tmp_path)
    assert "storage/kv (kv storage):" in text
    assert "aliases: JsonKVStorage" in text
    assert "NetworkX graph persisted as GraphML" in text
    assert "extra: embedded" in text


def test_print_config_is_resolved_yaml_with_secrets_redacted(tmp_path: Path) -> None:
    write(tmp_path / ".env", "LLM_BINDING_API_KEY=sk-from-dotenv\n")
    argv = ["+recipe=openai", "--print-config", "--key", "api-secret", "server.port=9700"]
    text = _run(argv, tmp_path)
    assert "sk-from-dotenv" not in text
    assert "api-secret" not in text
    assert "# recipe: openai" in text
    data = yaml.safe_load(text)
    assert data["server"]["port"] == 9700
    assert data["server"]["api_key"] == REDACTED
    assert data["llm"]["api_key"] == REDACTED
    assert data["llm"]["type"] == "openai"
    assert data["llm"]["model"] == "gpt-4o-mini"  # not a secret: shown


def test_redaction_covers_secret_names_and_url_passwords() -> None:
    params = {
        "uri": "mongodb://root:hunter2@db:27017/",
        "password": "pw",
        "max_tokens": 8192,
        "token_secret": "t",
        "nested": {"db_password": "x", "host": "h"},
        "empty_key": "",
    }
    assert redact_params(params) == {
        "uri": f"mongodb://root:{REDACTED}@db:27017/",
        "password": REDACTED,
        "max_tokens": 8192,
        "token_secret": REDACTED,
        "nested": {"db_password": REDACTED, "host": "h"},
        "empty_key": "",
    }


def test_main_reports_config_errors_with_status_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--print-config", "server.port=abc"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lightrag-server: error: server.port: 'abc'")


def test_unused_flag_is_warned_about_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(["--print-config", "--llm-binding", "openai", "--max-tokens", "10"], tmp_path)
    assert "warning: --max-tokens has no effect" in capsys.readouterr().err
