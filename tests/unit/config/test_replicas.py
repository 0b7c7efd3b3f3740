"""``server.replicas > 1`` needs shared storages and shared coordination (the launcher refuses)."""

from __future__ import annotations

import pytest

from lightrag.config.backends import check_replicas
from lightrag.config.errors import ConfigError
from lightrag.config.models import AppConfig, BackendChoice, ServerConfig, StorageConfig

_POSTGRES = StorageConfig(
    kv=BackendChoice(type="postgres"),
    vector=BackendChoice(type="postgres"),
    graph=BackendChoice(type="postgres"),
    doc_status=BackendChoice(type="postgres"),
)


def _config(replicas: int, storage: StorageConfig, coordination: str) -> AppConfig:
    return AppConfig(
        server=ServerConfig(replicas=replicas),
        storage=storage,
        coordination=BackendChoice(type=coordination),
    )


def test_one_replica_may_use_anything() -> None:
    check_replicas(_config(1, StorageConfig(), "local"))


def test_replicas_on_databases_with_shared_coordination_are_accepted() -> None:
    check_replicas(_config(3, _POSTGRES, "postgres"))
    check_replicas(_config(3, _POSTGRES, "redis"))


def test_replicas_with_local_coordination_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"(?s)replicas is 3.*coordination: 'local'"):
        check_replicas(_config(3, _POSTGRES, "local"))


def test_replicas_on_file_storages_are_refused_naming_each_role() -> None:
    with pytest.raises(ConfigError) as caught:
        check_replicas(_config(2, StorageConfig(), "postgres"))
    message = str(caught.value)
    for role in ("kv", "vector", "graph", "doc_status"):
        assert f"storage.{role}:" in message
    assert "coordination: 'local'" not in message


def test_the_launcher_refuses_replicas_of_the_embedded_recipe(load) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="LIGHTRAG_REPLICAS"):
        load(environ={"LIGHTRAG_REPLICAS": "2"})
