"""The seed's Oracle names (class names, ORACLE_* env vars, config.ini [oracle]) reach the
oracle storages."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightrag.config.errors import ConfigError

from .conftest import LoadFn, write

SEED_CLASSES = {
    "LIGHTRAG_KV_STORAGE": ("OracleKVStorage", "storage/kv"),
    "LIGHTRAG_VECTOR_STORAGE": ("OracleVectorDBStorage", "storage/vector"),
    "LIGHTRAG_GRAPH_STORAGE": ("OracleGraphStorage", "storage/graph"),
    "LIGHTRAG_DOC_STATUS_STORAGE": ("OracleDocStatusStorage", "storage/doc_status"),
}
ALL_ORACLE = [f"{group}=oracle" for _, group in SEED_CLASSES.values()]


@pytest.mark.parametrize("name", sorted(SEED_CLASSES))
def test_seed_class_name_chooses_the_oracle_backend(load: LoadFn, name: str) -> None:
    seed_class, group = SEED_CLASSES[name]
    assert load(environ={name: seed_class}).choices[group] == "oracle"


def test_oracle_env_vars_reach_every_role(load: LoadFn) -> None:
    environ = {
        "ORACLE_DSN": "db.internal:1521/FREEPDB1",
        "ORACLE_USER": "rag",
        "ORACLE_PASSWORD": "S3cret",
        "ORACLE_CONFIG_DIR": "/opt/tns",
        "ORACLE_WALLET_LOCATION": "/opt/wallet",
        "ORACLE_WALLET_PASSWORD": "wpw",
        "ORACLE_WORKSPACE": "team_a",
        "ORACLE_MAX_CONNECTIONS": "5",
        "ORACLE_VECTOR_TABLE": "vectors_1024",
    }
    config = load(ALL_ORACLE, environ=environ, check_classes=True).config
    for role in ("kv", "vector", "graph", "doc_status"):
        params = getattr(config.storage, role).params()
        assert params["dsn"] == "db.internal:1521/FREEPDB1"
        assert (params["user"], params["workspace"]) == ("rag", "team_a")
        assert (params["config_dir"], params["wallet_location"]) == ("/opt/tns", "/opt/wallet")
        assert int(params["max_connections"]) == 5
    assert config.storage.vector.params()["vector_table"] == "vectors_1024"


def test_unset_oracle_env_gives_the_seed_defaults_and_no_wallet(load: LoadFn) -> None:
    from lightrag.storage.oracle.client import OracleConfig

    config = load(ALL_ORACLE, check_classes=True).config
    params = OracleConfig.model_validate(config.storage.kv.params())
    assert params.dsn == "localhost:1521/XEPDB1"
    assert (params.config_dir, params.wallet_location, params.wallet_password) == (None,) * 3


def test_config_ini_oracle_section_sets_the_connection(load: LoadFn, tmp_path: Path) -> None:
    write(
        tmp_path / "config.ini",
        "[oracle]\ndsn = ini-host:1521/ORCLPDB1\nuser = fromini\nworkspace = ini_ws\n",
    )
    params = load(["storage/graph=oracle"]).config.storage.graph.params()
    assert (params["dsn"], params["user"], params["workspace"]) == (
        "ini-host:1521/ORCLPDB1",
        "fromini",
        "ini_ws",
    )


def test_an_invalid_vector_table_is_refused_at_start_naming_the_key(load: LoadFn) -> None:
    with pytest.raises(ConfigError, match="vector_table"):
        load(
            ["storage/vector=oracle"],
            environ={"ORACLE_VECTOR_TABLE": "Vectors; DROP"},
            check_classes=True,
        )


def test_printed_config_redacts_the_oracle_passwords(tmp_path: Path) -> None:
    import io

    from lightrag.cli import run

    out = io.StringIO()
    environ = {"ORACLE_PASSWORD": "S3cretPW", "ORACLE_WALLET_PASSWORD": "W4lletPW"}
    assert run(["storage/kv=oracle", "--print-config"], environ, tmp_path, out) == 0
    text = out.getvalue()
    assert "wallet_password: '**********'" in text
    assert "S3cretPW" not in text and "W4lletPW" not in text
