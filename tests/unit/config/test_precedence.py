"""Precedence, lowest first: YAML < config.ini < .env < environment < CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightrag.config.loader import SeedFlag

from .conftest import LoadFn, write

KV = "storage/kv=conntest"


@pytest.fixture
def layered(tmp_path: Path) -> Path:
    """A working directory whose config.ini and .env both set POSTGRES_HOST and PORT."""
    write(tmp_path / "config.ini", "[postgres]\nhost = from-ini\nport = 6000\n")
    write(tmp_path / ".env", "POSTGRES_HOST=from-dotenv\nPORT=9100\n")
    return tmp_path


def _kv_host(load: LoadFn, operator_dir: Path, overrides: list[str], **kwargs: object) -> str:
    loaded = load([KV, *overrides], config_dirs=[operator_dir], **kwargs)
    return str(loaded.config.storage.kv.params()["host"])


def test_yaml_default_applies_when_nothing_is_set(load: LoadFn, operator_dir: Path) -> None:
    assert _kv_host(load, operator_dir, []) == "localhost"


def test_config_ini_beats_yaml_default(load: LoadFn, operator_dir: Path, tmp_path: Path) -> None:
    write(tmp_path / "config.ini", "[postgres]\nhost = from-ini\n")
    loaded = load([KV], config_dirs=[operator_dir])
    assert loaded.config.storage.kv.params() == {"host": "from-ini", "port": "5432"}


def test_dotenv_beats_config_ini(load: LoadFn, operator_dir: Path, layered: Path) -> None:
    loaded = load([KV], config_dirs=[operator_dir])
    assert loaded.config.storage.kv.params() == {"host": "from-dotenv", "port": "6000"}


def test_environment_beats_dotenv(load: LoadFn, operator_dir: Path, layered: Path) -> None:
    host = _kv_host(load, operator_dir, [], environ={"POSTGRES_HOST": "from-env"})
    assert host == "from-env"


def test_hydra_override_beats_environment(load: LoadFn, operator_dir: Path, layered: Path) -> None:
    host = _kv_host(
        load, operator_dir, ["storage.kv.host=from-cli"], environ={"POSTGRES_HOST": "from-env"}
    )
    assert host == "from-cli"


def test_seed_env_names_follow_the_same_order(load: LoadFn, layered: Path) -> None:
    assert load().config.server.port == 9100  # .env
    assert load(environ={"PORT": "9200"}).config.server.port == 9200  # env beats .env
    flag = [SeedFlag("PORT", "9300", "--port")]
    assert load(environ={"PORT": "9200"}, flags=flag).config.server.port == 9300
    both = load(["server.port=9400"], environ={"PORT": "9200"}, flags=flag)
    assert both.config.server.port == 9400  # a Hydra override on the CLI wins


def test_environment_beats_a_recipe_value(load: LoadFn, operator_dir: Path) -> None:
    loaded = load(["+recipe=team"], config_dirs=[operator_dir], environ={"PORT": "7100"})
    assert loaded.config.server.port == 7100


def test_environment_group_choice_beats_the_default(load: LoadFn) -> None:
    loaded = load(environ={"LLM_BINDING": "openai"})
    assert loaded.choices["llm"] == "openai"


def test_cli_group_choice_beats_the_environment(load: LoadFn) -> None:
    loaded = load(["llm=lollms"], environ={"LLM_BINDING": "openai"})
    assert loaded.choices["llm"] == "lollms"


def test_explicit_env_file_replaces_the_working_directory_one(
    load: LoadFn, tmp_path: Path, layered: Path
) -> None:
    other = write(tmp_path / "prod.env", "PORT=9500\n")
    assert load(env_file=other).config.server.port == 9500


def test_process_environment_of_the_test_is_not_read(
    load: LoadFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "9999")
    assert load().config.server.port == 9621  # only ConfigRequest.environ counts


def test_env_choice_replacing_a_recipe_choice_is_reported(load: LoadFn, tmp_path: Path) -> None:
    write(tmp_path / ".env", "LLM_BINDING=ollama\nLLM_MODEL=qwen2.5:7b\n")
    loaded = load(["+recipe=openai"])
    assert loaded.choices["llm"] == "ollama"  # env beats the recipe, as documented
    (note,) = loaded.notes
    assert note.startswith("LLM_BINDING from .env")
    assert note.endswith("chooses llm=ollama over the recipe's 'openai'")
    assert load(["+recipe=ollama-local"]).notes == ()  # same choice: nothing to report


@pytest.mark.parametrize(
    ("old_name", "new_name", "flag", "key"),
    [
        ("NAMESPACE_PREFIX", "WORKSPACE", "--namespace-prefix", "workspace"),
        ("SIMULATED_MODEL_NAME", "OLLAMA_EMULATING_MODEL_NAME", "--simulated-model-name", None),
    ],
)
def test_two_names_of_one_key_follow_the_layers_not_the_table_order(
    load: LoadFn, tmp_path: Path, old_name: str, new_name: str, flag: str, key: str | None
) -> None:
    key = key or "simulated_model_name"
    write(tmp_path / ".env", f"{new_name}=from_dotenv\n")
    from_flag = load(flags=[SeedFlag(old_name, "from_flag", flag)])
    assert getattr(from_flag.config.server, key) == "from_flag"  # a flag beats .env
    from_env = load(environ={old_name: "from_env"})
    assert getattr(from_env.config.server, key) == "from_env"  # env beats .env
    both = load(environ={old_name: "old_env", new_name: "new_env"})
    assert getattr(both.config.server, key) == "new_env"  # same layer: the newer name
