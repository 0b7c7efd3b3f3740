"""The seed's MongoDB names (class names, env vars, config.ini) reach the mongo storages."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import LoadFn, write

SEED_CLASSES = {
    "LIGHTRAG_KV_STORAGE": ("MongoKVStorage", "storage/kv"),
    "LIGHTRAG_VECTOR_STORAGE": ("MongoVectorDBStorage", "storage/vector"),
    "LIGHTRAG_GRAPH_STORAGE": ("MongoGraphStorage", "storage/graph"),
    "LIGHTRAG_DOC_STATUS_STORAGE": ("MongoDocStatusStorage", "storage/doc_status"),
}


@pytest.mark.parametrize("name", sorted(SEED_CLASSES))
def test_seed_class_name_chooses_the_mongo_backend(load: LoadFn, name: str) -> None:
    seed_class, group = SEED_CLASSES[name]
    assert load(environ={name: seed_class}).choices[group] == "mongo"


def test_mongo_env_vars_reach_every_role(load: LoadFn) -> None:
    environ = {
        "MONGO_URI": "mongodb://u:pw@db:27017/",
        "MONGO_DATABASE": "rag",
        "MONGODB_WORKSPACE": "team_a",  # the seed's other spelling
        "MONGO_VECTOR_SEARCH": "exact",
    }
    config = load(["+recipe=mongo"], environ=environ, check_classes=True).config
    for role in ("kv", "vector", "graph", "doc_status"):
        params = getattr(config.storage, role).params()
        assert params["uri"] == "mongodb://u:pw@db:27017/"
        assert (params["database"], params["workspace"]) == ("rag", "team_a")
    assert config.storage.vector.params()["vector_search"] == "exact"


def test_mongo_workspace_beats_the_seed_spelling(load: LoadFn) -> None:
    environ = {"MONGO_WORKSPACE": "new", "MONGODB_WORKSPACE": "old"}
    config = load(["storage/kv=mongo"], environ=environ).config
    assert config.storage.kv.params()["workspace"] == "new"


def test_config_ini_mongodb_section_sets_the_connection(load: LoadFn, tmp_path: Path) -> None:
    write(
        tmp_path / "config.ini", "[mongodb]\nuri = mongodb://ini-host:27017/\ndatabase = fromini\n"
    )
    config = load(["storage/graph=mongo"]).config
    params = config.storage.graph.params()
    assert (params["uri"], params["database"]) == ("mongodb://ini-host:27017/", "fromini")


def test_an_unknown_vector_search_is_refused_naming_the_key(load: LoadFn) -> None:
    from lightrag.config.errors import ConfigError

    with pytest.raises(ConfigError, match="vector_search"):
        load(["storage/vector=mongo"], environ={"MONGO_VECTOR_SEARCH": "fast"}, check_classes=True)
