"""Operator-facing messages: a setting that replaces a recipe's value says so with both
values and the source; a misspelt key names the key it probably meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightrag.config.errors import ConfigError
from lightrag.config.loader import SeedFlag

from .conftest import LoadFn, write


def test_env_value_over_a_recipe_value_is_reported_with_both_values_and_source(
    load: LoadFn,
) -> None:
    loaded = load(["+recipe=embedded"], environ={"CHUNK_SIZE": "1200"})
    assert loaded.config.rag.chunk_token_size == 1200
    assert (
        "CHUNK_SIZE=1200 (environment) overrides rag.chunk_token_size=600 set by recipe embedded"
        in loaded.notes
    )


def test_flag_and_dotenv_over_a_recipe_value_name_their_source(
    load: LoadFn, tmp_path: Path
) -> None:
    write(tmp_path / ".env", "CHUNK_OVERLAP_SIZE=10\n")
    loaded = load(["+recipe=embedded"], flags=[SeedFlag("CHUNK_SIZE", "900", "--chunk-size")])
    notes = "\n".join(loaded.notes)
    assert "CHUNK_SIZE=900 (flag --chunk-size) overrides rag.chunk_token_size=600" in notes
    assert f"CHUNK_OVERLAP_SIZE=10 (.env ({tmp_path / '.env'})) overrides " in notes
    assert "rag.chunk_overlap_token_size=60 set by recipe embedded" in notes


def test_env_values_the_recipe_does_not_set_are_not_reported(load: LoadFn) -> None:
    loaded = load(["+recipe=embedded"], environ={"TOP_K": "7"})
    assert loaded.config.rag.top_k == 7
    assert not [note for note in loaded.notes if "overrides" in note]


def test_a_secret_replacing_a_recipe_value_is_reported_redacted(
    load: LoadFn, operator_dir: Path
) -> None:
    write(
        operator_dir / "recipe" / "keyed.yaml",
        '# @package _global_\n# Recipe "keyed".\nserver:\n  api_key: recipe-secret\n',
    )
    loaded = load(
        ["+recipe=keyed"], environ={"LIGHTRAG_API_KEY": "env-secret"}, config_dirs=[operator_dir]
    )
    notes = "\n".join(loaded.notes)
    assert "LIGHTRAG_API_KEY=********** (environment) overrides server.api_key=**********" in notes
    assert "secret" not in notes.replace("set by recipe", "")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("server.prot=1", "unknown key server.prot; did you mean server.port?"),
        (
            "rag.chunk_tokn_size=3",
            "unknown key rag.chunk_tokn_size; did you mean rag.chunk_token_size?",
        ),
        ("server.zzzzqq=1", "unknown key server.zzzzqq"),
    ],
)
def test_misspelt_key_names_the_key_it_probably_meant(
    load: LoadFn, override: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load([override])
    assert str(caught.value) == message
    assert "+" not in str(caught.value)  # not Hydra's "use +key=value to append" hint


def test_misspelt_key_added_with_plus_names_the_key_it_probably_meant(load: LoadFn) -> None:
    with pytest.raises(
        ConfigError, match=r"^server\.prot: unknown key; did you mean server\.port\?$"
    ):
        load(["+server.prot=1"])
