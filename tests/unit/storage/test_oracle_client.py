"""The Oracle client without a server: config parsing, pool parameters, error mapping."""

from __future__ import annotations

import oracledb
import pytest
from oracledb import errors as oracle_errors

from lightrag.storage.oracle.client import (
    ErrorKind,
    OracleClient,
    OracleConfig,
    classify,
    client_key,
    effective_workspace,
    error_code,
)
from lightrag.storage.oracle.kv import OracleKVStorage
from lightrag.storage.oracle.vector import OracleVectorStorage, dimension_problem
from lightrag.vocabulary.errors import StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext


def driver_error(
    cls: type[oracledb.Error], full_code: str, *, recoverable: bool = False
) -> Exception:
    """An error as the driver raises it (its ``_Error`` detail carries the code)."""
    prefix, _, number = full_code.partition("-")
    detail = oracle_errors._Error(f"{full_code}: test", code=int(number), isrecoverable=recoverable)
    if prefix == "DPY":
        detail.full_code = full_code
    return cls(detail)


@pytest.mark.parametrize(
    ("cls", "code", "kind"),
    [
        (oracledb.IntegrityError, "ORA-00001", ErrorKind.CONFLICT),
        (oracledb.DatabaseError, "ORA-00060", ErrorKind.CONFLICT),
        (oracledb.DatabaseError, "ORA-00955", ErrorKind.ALREADY_EXISTS),
        (oracledb.DatabaseError, "ORA-01408", ErrorKind.ALREADY_EXISTS),
        (oracledb.DatabaseError, "ORA-01017", ErrorKind.AUTH),
        (oracledb.DatabaseError, "ORA-28000", ErrorKind.AUTH),
        (oracledb.DatabaseError, "ORA-03113", ErrorKind.CONNECTION),
        (oracledb.OperationalError, "ORA-12541", ErrorKind.CONNECTION),
        (oracledb.DatabaseError, "ORA-51803", ErrorKind.DIMENSION),
        (oracledb.DatabaseError, "ORA-00942", ErrorKind.OTHER),
        (oracledb.DatabaseError, "ORA-12899", ErrorKind.OTHER),
    ],
)
def test_driver_errors_are_classified_by_their_code(
    cls: type[oracledb.Error], code: str, kind: ErrorKind
) -> None:
    exc = driver_error(cls, code)
    # the driver itself renames some codes (ORA-03113 end-of-file becomes DPY-4011)
    assert error_code(exc) in {code, "DPY-4011"}
    assert classify(exc) is kind


def test_driver_side_connection_losses_and_os_errors_are_connection_errors() -> None:
    closed = driver_error(oracledb.InterfaceError, "DPY-4011")
    assert error_code(closed) == "DPY-4011"
    assert classify(closed) is ErrorKind.CONNECTION
    assert classify(ConnectionResetError("reset")) is ErrorKind.CONNECTION
    assert classify(TimeoutError()) is ErrorKind.CONNECTION
    unknown_but_recoverable = driver_error(oracledb.DatabaseError, "ORA-99999", recoverable=True)
    assert classify(unknown_but_recoverable) is ErrorKind.CONNECTION
    assert classify(ValueError("mine")) is ErrorKind.OTHER
    assert error_code(ValueError("mine")) == ""


def test_config_defaults_follow_the_seed_and_empty_env_values_mean_unset() -> None:
    config = OracleConfig.model_validate(
        {
            "dsn": "db:1521/FREEPDB1",
            "user": "rag",
            "password": "pw",
            "config_dir": "",
            "wallet_location": " ",
            "wallet_password": "",
            "max_connections": "4",
        }
    )
    assert (config.config_dir, config.wallet_location, config.wallet_password) == (None, None, None)
    assert config.max_connections == 4
    assert OracleConfig().dsn == "localhost:1521/XEPDB1"
    assert OracleConfig().vector_table == "lightrag_vectors"


def test_pool_parameters_are_thin_mode_keywords_with_the_secret_unwrapped() -> None:
    config = OracleConfig(
        dsn="tcps://adb.example.com:1522/x_high",
        user="rag",
        password="pw",
        wallet_location="/w",
        wallet_password="wpw",
        max_connections=3,
        connect_timeout=5,
    )
    params = config.pool_params()
    assert params == {
        "dsn": "tcps://adb.example.com:1522/x_high",
        "user": "rag",
        "password": "pw",
        "min": 1,
        "max": 3,
        "increment": 1,
        "tcp_connect_timeout": 5.0,
        "program": "lightrag",
        "wallet_location": "/w",
        "wallet_password": "wpw",
    }
    assert "config_dir" not in params
    oracledb.PoolParams(
        **{k: v for k, v in params.items() if k != "dsn"}
    )  # the driver accepts them


def test_config_refuses_unknown_keys_an_empty_dsn_and_a_table_name_put_into_ddl() -> None:
    with pytest.raises(ValueError, match="pasword"):
        OracleConfig.model_validate({"pasword": "x"})
    with pytest.raises(ValueError, match="ORACLE_DSN"):
        OracleConfig(dsn="  ")
    with pytest.raises(ValueError, match="vector_table"):
        OracleConfig(vector_table="v; DROP TABLE x")


def test_password_never_appears_in_messages_or_the_printed_config() -> None:
    config = OracleConfig(dsn="db:1521/svc", user="rag", password="S3cret-pw")
    message = str(OracleClient(config).unavailable(OSError("refused")))
    assert "db:1521/svc" in message and "'rag'" in message and "S3cret-pw" not in message
    assert "S3cret-pw" not in repr(config)
    assert isinstance(OracleClient(config).unavailable(OSError()), StorageUnavailableError)


def test_one_pool_per_database_and_user_and_the_server_workspace_wins(tmp_path: object) -> None:
    a = OracleConfig(dsn="db/svc", user="u", workspace="fallback")
    assert client_key(a) == client_key(OracleConfig(dsn="db/svc", user="u", max_connections=2))
    assert client_key(a) != client_key(OracleConfig(dsn="db/svc", user="other"))
    ctx = StorageContext(working_dir=tmp_path, namespace="n", workspace="")  # type: ignore[arg-type]
    assert effective_workspace(ctx, a) == "fallback"
    ctx2 = StorageContext(working_dir=tmp_path, namespace="n", workspace="team")  # type: ignore[arg-type]
    assert effective_workspace(ctx2, a) == "team"


def test_storages_scope_every_bind_by_stored_workspace_and_namespace(tmp_path: object) -> None:
    ctx = StorageContext(working_dir=tmp_path, namespace="full_docs")  # type: ignore[arg-type]
    kv = OracleKVStorage(ctx, {"dsn": "db/svc"})
    assert kv.binds(id="k") == {"ws": "-", "ns": "full_docs", "id": "k"}
    with pytest.raises(ValueError, match="unknown parameter 'host'"):
        OracleKVStorage(ctx, {"host": "db"})
    with pytest.raises(RuntimeError, match="not initialised"):
        _ = kv.client


def test_vector_storage_builds_its_query_without_a_server(tmp_path: object) -> None:
    import numpy as np

    ctx = StorageContext(
        working_dir=tmp_path,  # type: ignore[arg-type]
        namespace="chunks",
        workspace="w",
        embedding_dim=3,
        cosine_threshold=0.3,
        meta_fields=frozenset({"full_doc_id", "content"}),
    )
    vdb = OracleVectorStorage(ctx, {"dsn": "db/svc"})
    built = vdb.query_statement(np.array([3.0, 0.0, 4.0]), 5, None, {"full_doc_id": ["d2", "d1"]})
    assert built is not None
    statement, binds = built
    assert "IN (:fa0, :fa1)" in statement
    assert binds["fa0"] == "d1" and binds["fa1"] == "d2"
    assert (binds["ws"], binds["ns"], binds["k"], binds["threshold"]) == ("w", "chunks", 5, 0.3)
    assert binds["q"].typecode == "f" and list(binds["q"]) == pytest.approx([0.6, 0.0, 0.8])
    assert vdb.query_statement(np.zeros(3) + 1, 0, None, None) is None  # top_k 0
    assert vdb.query_statement(np.ones(3), 5, None, {"full_doc_id": []}) is None
    with pytest.raises(ValueError, match="expected 3, got 2"):
        vdb.query_statement(np.ones(2), 5, None, None)
    with pytest.raises(ValueError, match="cannot filter on 'nope'"):
        vdb.query_statement(np.ones(3), 5, None, {"nope": ["x"]})
    with pytest.raises(ValueError, match="embedding_dim > 0"):
        OracleVectorStorage(
            StorageContext(working_dir=tmp_path, namespace="x"),  # type: ignore[arg-type]
            {"dsn": "db/svc"},
        )


def test_a_vector_table_of_another_dimension_is_named_with_both_dimensions() -> None:
    message = dimension_problem("lightrag_vectors", "db/svc", 768, 1024)
    assert message is not None
    assert "dimension 768" in message and "gives 1024" in message
    assert "ORACLE_VECTOR_TABLE" in message
    assert dimension_problem("lightrag_vectors", "db/svc", 1024, 1024) is None
    assert dimension_problem("lightrag_vectors", "db/svc", None, 1024) is None


async def test_an_unreachable_database_fails_at_open_naming_the_dsn() -> None:
    # a real thin-mode connect attempt to a closed local port: no server needed to refuse it
    config = OracleConfig(dsn="127.0.0.1:9/nothing", user="u", password="pw", connect_timeout=2)
    client = OracleClient(config)
    with pytest.raises(StorageUnavailableError, match=r"cannot reach 127\.0\.0\.1:9/nothing"):
        await client.open()
    with pytest.raises(RuntimeError, match="not open"):
        _ = client.pool


async def test_a_missing_user_is_refused_before_the_driver_misreads_the_dsn() -> None:
    # with no user, the driver would parse "host:port/service" as "user/password"
    client = OracleClient(OracleConfig(dsn="127.0.0.1:9/nothing", password="pw"))
    with pytest.raises(StorageUnavailableError, match="set ORACLE_USER"):
        await client.open()
