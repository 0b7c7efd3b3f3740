"""Which TiDB/MySQL errors the client runs again: aborted transactions, not bad statements."""

from __future__ import annotations

import pymysql

from lightrag.storage.tidb.client import _aborted


def test_lock_contention_aborts_are_retried() -> None:
    assert _aborted(pymysql.err.OperationalError(1213, "Deadlock found"))
    assert _aborted(pymysql.err.OperationalError(9007, "Write conflict"))
    # TiDB's pessimistic transactions give up under contention with the generic code 1105
    assert _aborted(pymysql.err.OperationalError(1105, "pessimistic lock retry limit reached"))


def test_other_errors_are_not_retried() -> None:
    assert not _aborted(pymysql.err.OperationalError(1105, "unsupported syntax"))
    assert not _aborted(pymysql.err.ProgrammingError(1064, "You have an error in your SQL"))
    assert not _aborted(ValueError("not a server error"))
