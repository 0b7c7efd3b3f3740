"""Each Oracle storage method sends statements whose binds match their placeholders.

No Oracle server can run here, so a recording stand-in for the driver's async pool
takes the statements. It checks what the real driver checks before sending anything
(every placeholder has a value and no value lacks a placeholder: DPY-4008/ORA-01008)
and records commits, rollbacks and CLOB input sizes; it answers reads with no rows.
What the database then does with the statements is for the DSN-gated contract suite.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import oracledb
import pytest

from lightrag.storage.oracle.client import OracleClient, OracleConfig
from lightrag.storage.oracle.codec import VARCHAR_BIND_LIMIT
from lightrag.storage.oracle.doc_status import OracleDocStatusStorage
from lightrag.storage.oracle.graph import OracleGraphStorage
from lightrag.storage.oracle.kv import OracleKVStorage
from lightrag.storage.oracle.vector import OracleVectorStorage
from lightrag.vocabulary.storage import StorageContext

_BIND = re.compile(r"(?<![:\w]):([a-z][a-z0-9_]*)")


def placeholders(statement: str) -> set[str]:
    return set(_BIND.findall(re.sub(r"'[^']*'", "''", statement)))


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []  # (kind, statement, binds)
        self.commits = 0
        self.rollbacks = 0
        self.clob_binds: list[dict[str, Any]] = []

    def check(self, statement: str, binds: Any) -> None:
        names = placeholders(statement)
        given = set(binds or {})
        assert given == names, f"binds {sorted(given)} != placeholders {sorted(names)}: {statement}"

    def statements(self, kind: str | None = None) -> list[str]:
        return [s for k, s, _ in self.sent if kind is None or k == kind]


class FakeCursor:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.description: list[Any] = []

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def setinputsizes(self, **sizes: Any) -> None:
        self.recorder.clob_binds.append(sizes)

    async def execute(self, statement: str, binds: Any = None, **options: Any) -> None:
        self.recorder.check(statement, binds)
        self.recorder.sent.append(("execute", statement, binds))
        if statement.startswith("SELECT embedding FROM"):
            self.description = [type("Info", (), {"vector_dimensions": 8})()]

    async def executemany(self, statement: str, rows: list[dict[str, Any]]) -> None:
        assert rows, "executemany with no rows (the thin driver refuses it)"
        for row in rows:
            self.recorder.check(statement, row)
        self.recorder.sent.append(("executemany", statement, rows))

    async def fetchall(self) -> list[tuple[Any, ...]]:
        return []

    async def fetchone(self) -> tuple[Any, ...] | None:
        return None

    @property
    def rowcount(self) -> int:
        return 0


class FakeConnection:
    session_id = 1
    serial_num = 1

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.recorder)

    async def commit(self) -> None:
        self.recorder.commits += 1

    async def rollback(self) -> None:
        self.recorder.rollbacks += 1


class FakePool:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def acquire(self) -> FakeConnection:
        return FakeConnection(self.recorder)

    async def release(self, conn: FakeConnection) -> None:
        return None

    async def drop(self, conn: FakeConnection) -> None:
        return None


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _open(cls: type, recorder: Recorder, tmp_path: Path, **ctx: Any) -> Any:
    storage = cls(
        StorageContext(working_dir=tmp_path, namespace="ns", workspace="ws", **ctx),
        {"dsn": "db/svc", "user": "u"},
    )
    client = OracleClient(OracleConfig(dsn="db/svc", user="u"))
    client._pool = FakePool(recorder)
    storage._client = client
    return storage


async def test_schema_steps_run_each_ddl_and_record_its_version(
    recorder: Recorder, tmp_path: Path
) -> None:
    kv = _open(OracleKVStorage, recorder, tmp_path)
    await kv._create_schema(kv.client)
    sent = recorder.statements()
    assert sent[0].startswith("ALTER SESSION SET NLS_COMP = BINARY")
    assert sent[1].startswith("CREATE TABLE lightrag_schema_migrations")
    assert any(s.startswith("CREATE TABLE lightrag_kv") for s in sent)
    assert sent[-1].startswith("INSERT INTO lightrag_schema_migrations")
    await kv._create_schema(kv.client)  # once per process: nothing sent again
    assert len(recorder.statements()) == len(sent)


async def test_kv_methods_bind_exactly_their_placeholders(
    recorder: Recorder, tmp_path: Path
) -> None:
    kv = _open(OracleKVStorage, recorder, tmp_path)
    await kv.upsert({"b": {"v": 1}, "a": {"v": "x" * (VARCHAR_BIND_LIMIT + 1)}})
    assert await kv.get("a") is None
    assert await kv.get_many(["a", "b", "a"]) == [None, None, None]
    assert await kv.missing_keys([f"k{i}" for i in range(1500)]) == {f"k{i}" for i in range(1500)}
    await kv.delete(["a", "b"])
    assert await kv.keys() == []
    assert await kv.delete_prefix("a_") == 0
    assert await kv.is_empty()
    await kv.drop()
    merges = [(s, rows) for k, s, rows in recorder.sent if k == "executemany" and "MERGE" in s]
    assert [[r["id"] for r in rows] for _, rows in merges] == [["b"], ["a"]]  # small, then CLOB
    assert recorder.clob_binds == [{"data": oracledb.DB_TYPE_CLOB}]
    in_lists = [s for s in recorder.statements() if "id IN (" in s]
    assert len(in_lists) == 3  # get_many once, missing_keys in two chunks (1000 + 500)
    assert recorder.commits == 4  # upsert, delete, delete_prefix, drop


async def test_doc_status_queries_bind_exactly_their_placeholders(
    recorder: Recorder, tmp_path: Path
) -> None:
    docs = _open(OracleDocStatusStorage, recorder, tmp_path)
    await docs.upsert({"d1": {"status": "pending", "track_id": "", "file_path": "f"}})
    assert (await docs.status_counts())["pending"] == 0
    assert await docs.by_status(["pending", "failed"], limit=3, after_id="d0") == {}
    assert await docs.by_status(["pending"], after_id="") == {}
    assert await docs.by_status([]) == {}
    assert await docs.by_track_id("") == {}
    assert await docs.by_track_id("t1") == {}
    for statuses in (None, [], ["pending"]):
        assert await docs.paginated(statuses=statuses, page=2, page_size=10) == ([], 0)
    (_, _, rows), *_ = [x for x in recorder.sent if x[0] == "executemany"]
    assert rows[0]["track_id"] is None


async def test_vector_methods_bind_exactly_their_placeholders(
    recorder: Recorder, tmp_path: Path
) -> None:
    vdb = _open(
        OracleVectorStorage,
        recorder,
        tmp_path,
        embedding_dim=8,
        meta_fields=frozenset({"full_doc_id"}),
    )
    await vdb._create_schema(vdb.client)  # probes the dimension: 8 fits
    vectors = np.eye(8, dtype=np.float32)[:2]
    await vdb.upsert({"v1": {"full_doc_id": "d"}, "v2": {"other": 1}}, vectors)
    assert await vdb.query(vectors[0], 3, filters={"full_doc_id": ["d"]}) == []
    assert await vdb.query(vectors[0], 3, threshold=0.5) == []
    assert await vdb.get(["v1", "v2"]) == [None, None]
    await vdb.delete(["v1"])
    assert await vdb.count() == 0
    await vdb.drop()
    (_, _, rows), *_ = [x for x in recorder.sent if x[0] == "executemany" and "MERGE" in x[1]]
    assert rows[0]["emb"].typecode == "f" and len(rows[0]["emb"]) == 8


async def test_graph_methods_bind_exactly_their_placeholders(
    recorder: Recorder, tmp_path: Path
) -> None:
    graph = _open(OracleGraphStorage, recorder, tmp_path)
    await graph.upsert_nodes({"A": {"d": 1}, "B": {"d": 2}})
    with pytest.raises(KeyError, match="no node 'A', 'B'"):  # the stand-in has no rows
        await graph.upsert_edges([("A", "B", {"w": 1.0})])
    assert recorder.rollbacks == 1  # the failed edge batch rolled back, nothing committed
    assert await graph.get_nodes(["A"]) == {}
    assert await graph.get_edges([("B", "A")]) == {}
    assert await graph.node_degrees(["A", "B"]) == {"A": 0, "B": 0}
    assert await graph.get_nodes_edges(["A"]) == {"A": []}
    assert await graph.node_count() == 0
    assert await graph.all_labels() == []
    assert await graph.popular_labels(5) == []
    assert await graph.search_labels("a_%", 5) == []
    assert (await graph.subgraph("A", 2, 10)).nodes == []
    assert (await graph.subgraph("*", 2, 10)).nodes == []
    await graph.delete_nodes(["A", "B"])
    await graph.delete_edges([("A", "B")])
    await graph.drop()
    assert "SET TRANSACTION READ ONLY" in recorder.statements()
    searches = [b for _, s, b in recorder.sent if "LIKE :pattern" in s]
    assert searches[0]["pattern"] == "a\\_\\%%" and searches[0]["needle"] == "a_%"
