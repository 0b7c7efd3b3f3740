"""Every configuration error names what was wrong: key, value, variable, choices or extra."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import BaseModel

from lightrag.cli import main
from lightrag.config.backends import BackendSlot, check_slots
from lightrag.config.cli_flags import build_parser, parse_args
from lightrag.config.errors import ConfigError
from lightrag.config.listing import group_registry
from lightrag.config.models import BackendChoice
from lightrag.config.search_path import CHOICE_GROUPS, packaged_conf_dir
from lightrag.registry import Entry, MissingDependencyError, Registry

from .conftest import LoadFn, write


def test_unknown_backend_name_from_env_lists_the_choices(load: LoadFn) -> None:
    with pytest.raises(ConfigError) as caught:
        load(environ={"LIGHTRAG_KV_STORAGE": "CassandraKVStorage"})
    message = str(caught.value)
    assert "'CassandraKVStorage'" in message
    assert "choose one of: json" in message
    assert "LIGHTRAG_KV_STORAGE" in message


def test_unknown_group_option_on_the_command_line_lists_the_choices(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match=r"storage/vector: 'pinecone' .*choose one of: .*nano"):
        load(["storage/vector=pinecone"])


def test_registered_binding_without_config_file_says_so(load: LoadFn, tmp_path: Path) -> None:
    primary = tmp_path / "conf"
    shutil.copytree(packaged_conf_dir(), primary)
    (primary / "llm" / "lollms.yaml").unlink()
    with pytest.raises(ConfigError) as caught:
        load(environ={"LLM_BINDING": "lollms"}, primary_dir=primary)
    message = str(caught.value)
    assert "is registered but has no config file llm/lollms.yaml" in message
    assert "(from env LLM_BINDING)" in message


def test_not_a_flag_nor_an_override_is_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown flag --bogus"):
        parse_args(build_parser(), ["--bogus", "1"])
    with pytest.raises(ConfigError, match="'serve' is neither a flag nor a Hydra override"):
        parse_args(build_parser(), ["serve"])


def test_malformed_override_is_named(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match="bad override"):
        load(["server.port=[1,"])


def test_unknown_type_in_a_group_file_names_the_key(load: LoadFn, operator_dir: Path) -> None:
    write(operator_dir / "storage" / "graph" / "bogus.yaml", "# test\ntype: bogus\n")
    with pytest.raises(ConfigError) as caught:
        load(["storage/graph=bogus"], config_dirs=[operator_dir])
    assert str(caught.value).startswith("storage.graph.type: unknown graph storage 'bogus'")
    assert "networkx" in str(caught.value).partition("choose one of: ")[2].split(", ")


def test_unknown_recipe_lists_the_recipes(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match=r"unknown recipe 'nope'; choose one of: .*embedded"):
        load(["+recipe=nope"])


def test_missing_required_env_var_is_named_with_its_key(load: LoadFn, operator_dir: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(["storage/kv=needspw"], config_dirs=[operator_dir])
    message = str(caught.value)
    assert message.startswith("storage.kv.password: the environment variable POSTGRES_PASSWORD")
    assert "required but not set" in message
    assert message.endswith("or as [postgres] password in config.ini)")


def test_required_env_var_is_satisfied_by_config_ini(
    load: LoadFn, operator_dir: Path, tmp_path: Path
) -> None:
    write(tmp_path / "config.ini", "[postgres]\npassword = p%w\n")
    loaded = load(["storage/kv=needspw"], config_dirs=[operator_dir])
    assert loaded.config.storage.kv.params() == {"password": "p%w"}


def test_wrong_type_from_an_override_names_key_and_value(load: LoadFn) -> None:
    with pytest.raises(ConfigError) as caught:
        load(["server.port=abc"])
    assert str(caught.value).startswith("server.port: 'abc': Input should be a valid integer")


def test_wrong_type_from_env_names_the_variable(load: LoadFn) -> None:
    with pytest.raises(ConfigError) as caught:
        load(environ={"TOP_K": "many"})
    message = str(caught.value)
    assert message.startswith("rag.top_k: 'many':")
    assert message.endswith("(from env TOP_K)")


def test_out_of_range_value_names_key_and_value(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match=r"server.port: 70000: Input should be less than"):
        load(["server.port=70000"])


def test_unknown_key_is_named(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match=r"server.prot: unknown key"):
        load(["+server.prot=1"])


def test_malformed_entity_types_names_key_and_variable(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match=r"rag.entity_types: .*not a JSON list.*ENTITY_TYPES"):
        load(environ={"ENTITY_TYPES": '["Person",'})


def test_malformed_accounts_names_key_and_variable(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match=r"server.accounts: .*user:password.*AUTH_ACCOUNTS"):
        load(environ={"AUTH_ACCOUNTS": "admin"})


def test_unreadable_config_ini_names_the_file(load: LoadFn, tmp_path: Path) -> None:
    write(tmp_path / "config.ini", "host = no section\n")
    with pytest.raises(ConfigError, match=r"cannot read .*config.ini"):
        load()


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path for backend modules written by the test."""
    directory = tmp_path / "modules"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    return directory


def test_missing_optional_dependency_names_the_pip_extra(module_dir: Path) -> None:
    write(
        module_dir / "cfgtest_pgkv.py",
        "import cfgtest_surely_not_installed\n\nclass Storage:\n    pass\n",
    )
    registry = Registry("kv storage", [Entry("pgtest", "cfgtest_pgkv:Storage", extra="postgres")])
    slot = BackendSlot("storage.kv", BackendChoice(type="pgtest"), registry)
    with pytest.raises(ConfigError) as caught:
        check_slots([slot])
    message = str(caught.value)
    assert message.startswith("storage.kv: kv storage 'pgtest' needs the package")
    assert "pip install 'lightrag-server[postgres]'" in message


def test_backend_params_are_validated_by_its_config_model(module_dir: Path) -> None:
    write(
        module_dir / "cfgtest_modelled.py",
        "from pydantic import BaseModel, ConfigDict\n\n"
        "class ModelledConfig(BaseModel):\n"
        "    model_config = ConfigDict(extra='forbid')\n"
        "    port: int\n\n"
        "class Modelled:\n"
        "    config_model = ModelledConfig\n",
    )
    registry = Registry("llm binding", [Entry("modelled", "cfgtest_modelled:Modelled")])
    bad = BackendChoice(type="modelled", port="not-a-port", colour="red")
    with pytest.raises(ConfigError) as caught:
        check_slots([BackendSlot("llm", bad, registry)])
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("llm.port: 'not-a-port': Input should be a valid integer")
    assert lines[1] == "llm.colour: unknown key"
    check_slots([BackendSlot("llm", BackendChoice(type="modelled", port=1), registry)])


def test_real_binding_params_are_validated_at_load(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match=r"^llm\.max_retries: "):
        load(["llm=openai", "llm.max_retries=-1"], check_classes=True)


def test_workspace_that_is_not_a_plain_name_is_rejected_at_load(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match=r"^server.workspace: '../escape': String should match"):
        load(environ={"WORKSPACE": "../escape"})


@pytest.mark.parametrize("group", CHOICE_GROUPS)
def test_every_registered_backend_exposes_its_config_model(group: str) -> None:
    registry = group_registry(group)
    for name in registry.names():
        try:
            cls = registry.load(name)
        except MissingDependencyError as exc:
            pytest.skip(f"{group} {name!r}: its extra is not installed ({exc})")
        model = getattr(cls, "config_model", None)
        assert isinstance(model, type) and issubclass(model, BaseModel), (
            f"{group} {name!r} ({cls.__qualname__}) has no config_model: its params would "
            "escape the start-up validation"
        )


def test_wrong_param_of_the_embedded_recipe_is_named_at_load(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match=r"^embedding\.dim: 'abc': Input should be a valid int"):
        load(["+recipe=embedded", "embedding.dim=abc"], check_classes=True)


def test_env_file_named_explicitly_must_exist(load: LoadFn, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^the env file .*prod\.env does not exist"):
        load(env_file=tmp_path / "prod.env")


def test_missing_env_file_flag_stops_the_launcher(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--print-config", "--env-file", "prod.env"]) == 2
    assert "the env file prod.env does not exist" in capsys.readouterr().err
