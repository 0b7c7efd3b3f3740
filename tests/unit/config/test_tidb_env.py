"""The seed's TiDB names (class names, TIDB_* env vars, config.ini) reach the tidb storages."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightrag.storage.tidb.client import TiDBConfig

from .conftest import LoadFn, write

SEED_CLASSES = {
    "LIGHTRAG_KV_STORAGE": ("TiDBKVStorage", "storage/kv"),
    "LIGHTRAG_VECTOR_STORAGE": ("TiDBVectorDBStorage", "storage/vector"),
    "LIGHTRAG_GRAPH_STORAGE": ("TiDBGraphStorage", "storage/graph"),
    "LIGHTRAG_DOC_STATUS_STORAGE": ("TiDBDocStatusStorage", "storage/doc_status"),
}


@pytest.mark.parametrize("name", sorted(SEED_CLASSES))
def test_seed_class_name_chooses_the_tidb_backend(load: LoadFn, name: str) -> None:
    seed_class, group = SEED_CLASSES[name]
    assert load(environ={name: seed_class}).choices[group] == "tidb"


def test_tidb_env_vars_reach_every_role(load: LoadFn) -> None:
    environ = {
        "TIDB_HOST": "tidb.example",
        "TIDB_PORT": "4001",
        "TIDB_USER": "rag",
        "TIDB_PASSWORD": "s3cret",
        "TIDB_DATABASE": "lightrag",
        "TIDB_WORKSPACE": "team_a",
        "TIDB_SSL": "true",
        "TIDB_VECTOR_TABLE": "vectors_768",
    }
    config = load(["+recipe=tidb"], environ=environ, check_classes=True).config
    for role in ("kv", "vector", "graph", "doc_status"):
        typed = TiDBConfig.model_validate(getattr(config.storage, role).params())
        assert (typed.host, typed.port, typed.user) == ("tidb.example", 4001, "rag")
        assert (typed.database, typed.workspace, typed.ssl) == ("lightrag", "team_a", True)
        assert typed.password.get_secret_value() == "s3cret"
        assert typed.ssl_ca is None
    assert TiDBConfig.model_validate(config.storage.vector.params()).vector_table == "vectors_768"


def test_config_ini_tidb_section_sets_the_connection(load: LoadFn, tmp_path: Path) -> None:
    write(tmp_path / "config.ini", "[tidb]\nhost = ini-host\nport = 4100\ndatabase = fromini\n")
    config = load(["storage/graph=tidb"]).config
    typed = TiDBConfig.model_validate(config.storage.graph.params())
    assert (typed.host, typed.port, typed.database) == ("ini-host", 4100, "fromini")


def test_a_bad_vector_table_name_is_refused_naming_the_key(load: LoadFn) -> None:
    from lightrag.config.errors import ConfigError

    with pytest.raises(ConfigError, match="vector_table"):
        load(
            ["storage/vector=tidb"],
            environ={"TIDB_VECTOR_TABLE": "vectors; DROP TABLE x"},
            check_classes=True,
        )
