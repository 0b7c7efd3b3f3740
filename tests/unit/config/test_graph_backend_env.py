"""The Apache AGE and Gremlin graph storages read the seed's env names."""

from __future__ import annotations

from typing import Any

from lightrag.storage.gremlin.client import GremlinConfig
from lightrag.storage.postgres.age_graph import AgeGraphConfig

from .conftest import LoadFn


def _age(load: LoadFn, env: dict[str, str]) -> AgeGraphConfig:
    loaded = load(environ=env)
    assert loaded.choices["storage/graph"] == "age"
    return AgeGraphConfig.model_validate(loaded.config.storage.graph.params())


def _gremlin(load: LoadFn, env: dict[str, str]) -> Any:
    loaded = load(environ=env)
    assert loaded.choices["storage/graph"] == "gremlin"
    return GremlinConfig.model_validate(loaded.config.storage.graph.params())


def test_age_env_names_reach_the_age_storage(load: LoadFn) -> None:
    env = {
        "LIGHTRAG_GRAPH_STORAGE": "PGGraphStorage",
        "AGE_POSTGRES_HOST": "age-db",
        "AGE_POSTGRES_PORT": "5433",
        "AGE_POSTGRES_USER": "graph",
        "AGE_POSTGRES_PASSWORD": "s3cret",
        "AGE_POSTGRES_DB": "kg",
        "AGE_GRAPH_NAME": "team_graph",
        "POSTGRES_HOST": "other-db",
    }
    age = _age(load, env)
    assert (age.host, age.port, age.user, age.database) == ("age-db", 5433, "graph", "kg")
    assert age.password.get_secret_value() == "s3cret"
    assert age.graph_name == "team_graph"


def test_age_storage_falls_back_to_the_postgres_env_names(load: LoadFn) -> None:
    env = {
        "LIGHTRAG_GRAPH_STORAGE": "age",
        "POSTGRES_HOST": "db",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "rag",
        "POSTGRES_DATABASE": "ragdb",
    }
    age = _age(load, env)
    assert (age.host, age.port, age.user, age.database) == ("db", 6543, "rag", "ragdb")
    assert age.graph_name == "lightrag"


def test_gremlin_env_names_reach_the_gremlin_storage(load: LoadFn) -> None:
    env = {
        "LIGHTRAG_GRAPH_STORAGE": "GremlinStorage",
        "GREMLIN_HOST": "tinkerpop",
        "GREMLIN_PORT": "8183",
        "GREMLIN_GRAPH": "KG",
        "GREMLIN_USER": "reader",
        "GREMLIN_PASSWORD": "pw",
        "GREMLIN_TRAVERSE_SOURCE": "gkg",
    }
    gremlin = _gremlin(load, env)
    assert (gremlin.host, gremlin.port, gremlin.graph) == ("tinkerpop", 8183, "KG")
    assert (gremlin.user, gremlin.traverse_source) == ("reader", "gkg")
    assert gremlin.password.get_secret_value() == "pw"
    assert gremlin.url() == "ws://tinkerpop:8183/gremlin"
