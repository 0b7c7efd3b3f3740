"""config.ini and .env reading: names, quoting, and what is left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightrag.config.sources import EnvLayers, ini_location, ini_name, read_config_ini, read_dotenv

from .conftest import write


@pytest.mark.parametrize(
    ("section", "key", "name"),
    [
        ("postgres", "host", "POSTGRES_HOST"),
        ("postgres", "max_connections", "POSTGRES_MAX_CONNECTIONS"),
        ("neo4j", "uri", "NEO4J_URI"),
        ("neo4j", "connection_pool_size", "NEO4J_CONNECTION_POOL_SIZE"),
        ("redis", "uri", "REDIS_URI"),
        ("milvus", "db_name", "MILVUS_DB_NAME"),
        ("mongodb", "uri", "MONGO_URI"),
        ("mongodb", "database", "MONGO_DATABASE"),
        ("qdrant", "uri", "QDRANT_URL"),
        ("qdrant", "apikey", "QDRANT_API_KEY"),
        ("memgraph", "uri", "MEMGRAPH_URI"),
    ],
)
def test_ini_key_becomes_the_seed_env_name(section: str, key: str, name: str) -> None:
    assert ini_name(section, key) == name


@pytest.mark.parametrize(
    ("name", "location"),
    [
        ("POSTGRES_PASSWORD", "[postgres] password"),
        ("MONGO_URI", "[mongodb] uri"),
        ("MONGO_WORKSPACE", "[mongodb] workspace"),
        ("QDRANT_URL", "[qdrant] uri"),
        ("NEO4J_CONNECTION_TIMEOUT", "[neo4j] connection_timeout"),
        ("PORT", None),
    ],
)
def test_ini_location_is_the_inverse_of_ini_name(name: str, location: str | None) -> None:
    assert ini_location(name) == location


def test_config_ini_is_read_without_interpolation(tmp_path: Path) -> None:
    path = write(tmp_path / "config.ini", "[postgres]\nhost = db\npassword = 100%secret\n")
    assert read_config_ini(path) == {"POSTGRES_HOST": "db", "POSTGRES_PASSWORD": "100%secret"}


def test_absent_files_give_nothing(tmp_path: Path) -> None:
    assert read_config_ini(tmp_path / "config.ini") == {}
    assert read_dotenv(tmp_path / ".env") == {}


def test_dotenv_quotes_comments_and_bare_names(tmp_path: Path) -> None:
    path = write(
        tmp_path / ".env",
        "# comment\nLLM_MODEL='qwen2.5:7b'\nexport PORT=9000\nEMPTY=\nBARE\nKEY=\"a#b\"\n",
    )
    assert read_dotenv(path) == {
        "LLM_MODEL": "qwen2.5:7b",
        "PORT": "9000",
        "EMPTY": "",
        "KEY": "a#b",
    }


def test_layers_later_wins_and_remember_the_source() -> None:
    layers = EnvLayers()
    layers.add_layer({"A": "1", "B": "1"}, "config.ini")
    layers.add_layer({"B": "2"}, "env")
    assert layers.peek("A") is not None and layers.peek("A").value == "1"  # type: ignore[union-attr]
    found = layers.get("B")
    assert found is not None and (found.value, found.source) == ("2", "env")
    assert layers.read == {"B"}
