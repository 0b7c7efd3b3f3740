"""Oracle type mapping without a server: workspaces, ids, JSON text, vectors, times, LOB binds."""

from __future__ import annotations

import array
import json
from datetime import UTC, date, datetime

import numpy as np
import pytest

from lightrag.storage.oracle import codec
from lightrag.storage.oracle.doc_status import doc_status_row
from lightrag.storage.oracle.graph import edge_rows, node_rows
from lightrag.storage.oracle.sql import ID_CHARS


def test_the_empty_workspace_is_stored_as_a_name_no_workspace_can_have() -> None:
    assert codec.stored_workspace("") == "-"
    assert codec.stored_workspace("team_a") == "team_a"
    from lightrag.config.models import ServerConfig

    pattern = ServerConfig.model_fields["workspace"].metadata
    assert any(getattr(m, "pattern", None) == r"^[A-Za-z0-9_]*$" for m in pattern)


@pytest.mark.parametrize("bad", ["", None, 7, "x" * (ID_CHARS + 1)])
def test_ids_oracle_cannot_key_are_refused_with_the_reason(bad: object) -> None:
    with pytest.raises(ValueError, match="oracle: key"):
        codec.checked_id(bad, "key")


def test_an_id_of_the_column_length_is_kept() -> None:
    assert codec.checked_id("é" * ID_CHARS) == "é" * ID_CHARS


def test_json_text_is_ascii_and_round_trips_exactly() -> None:
    record = {"text": "中文 😀 cafe\u0301 caf\u00e9", "n": 3, "f": 0.1, "nested": {"a": [1, None]}}
    text = codec.json_text(record)
    assert text.isascii()
    assert codec.from_json(text) == record
    assert codec.from_json(text.encode()) == record


def test_json_text_converts_numpy_values_and_refuses_what_json_cannot_hold() -> None:
    assert json.loads(codec.json_text({"x": np.float32(0.5), "v": np.arange(2)})) == {
        "x": 0.5,
        "v": [0, 1],
    }
    with pytest.raises(ValueError, match="record 'k' is not JSON"):
        codec.json_text({"x": float("nan")}, "record 'k'")
    with pytest.raises(ValueError, match="is not JSON"):
        codec.json_text({"x": object()})
    with pytest.raises(ValueError, match="must be a JSON object"):
        codec.json_text(["a"])  # type: ignore[arg-type]


def test_from_json_refuses_a_stored_value_that_is_not_an_object() -> None:
    with pytest.raises(ValueError, match="not an object"):
        codec.from_json("[1, 2]")


def test_optional_text_maps_empty_to_null_times_to_iso_and_cuts_sort_keys() -> None:
    assert codec.optional_text(None, 10) is None
    assert codec.optional_text("", 10) is None
    assert codec.optional_text("2026-01-02T03:04:05+00:00", 64) == "2026-01-02T03:04:05+00:00"
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert codec.optional_text(moment, 64) == "2026-01-02T03:04:05+00:00"
    assert codec.optional_text(date(2026, 1, 2), 64) == "2026-01-02"
    assert codec.optional_text("abcdef", 3) == "abc"
    assert codec.optional_text(42, 10) == "42"


def test_vectors_bind_as_float32_arrays() -> None:
    bound = codec.vector_bind(np.array([1.0, 0.25, -2.0], dtype=np.float64))
    assert isinstance(bound, array.array) and bound.typecode == "f"
    assert list(bound) == [1.0, 0.25, -2.0]
    assert list(codec.vector_bind([[0.5, 1.5]])) == [0.5, 1.5]  # a 1-row matrix is flattened


def test_rows_longer_than_a_varchar_bind_go_to_the_clob_batch_in_order() -> None:
    limit = codec.VARCHAR_BIND_LIMIT
    rows = [
        {"id": "a", "data": "x" * limit},
        {"id": "b", "data": "x" * (limit + 1)},
        {"id": "c", "data": "é" * (limit // 2 + 1)},  # 2 bytes a character in UTF-8
        {"id": "d", "data": "{}"},
    ]
    small, large = codec.split_by_size(rows, "data")
    assert [r["id"] for r in small] == ["a", "d"]
    assert [r["id"] for r in large] == ["b", "c"]


def test_doc_status_rows_fill_the_indexed_columns_from_the_record() -> None:
    record = {
        "status": "processed",
        "track_id": "",
        "file_path": "p" * 1200,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "updated_at": "2026-01-02T00:00:00+00:00",
        "content_summary": "héllo",
    }
    row = doc_status_row({"ws": "-", "ns": "doc_status"}, "doc-1", record)
    assert row["status"] == "processed"
    assert row["track_id"] is None  # '' is NULL in Oracle
    assert row["file_path"] == "p" * 1000  # the sort column only; the record keeps it whole
    assert row["created_at"] == "2026-01-01T00:00:00+00:00"
    stored = codec.from_json(row["data"])
    assert stored["file_path"] == "p" * 1200
    assert stored["created_at"] == "2026-01-01T00:00:00+00:00"
    with pytest.raises(ValueError, match="has no status"):
        doc_status_row({}, "doc-2", {"track_id": "t"})


def test_node_rows_case_fold_the_search_key_and_drop_none_properties() -> None:
    rows = node_rows({"ws": "w", "ns": "n"}, {"Straße": {"a": 1, "gone": None}, "Apple": {}})
    assert [r["id"] for r in rows] == ["Apple", "Straße"]
    assert rows[1]["skey"] == "strasse"
    assert codec.from_json(rows[1]["props"]) == {"a": 1}
    with pytest.raises(ValueError, match="node id"):
        node_rows({}, {"": {}})


def test_edge_rows_store_each_undirected_pair_once_keeping_the_last_data() -> None:
    rows = edge_rows({}, [("b", "a", {"w": 1}), ("a", "b", {"w": 2}), ("c", "a", {"w": 3})])
    assert [(r["src"], r["dst"]) for r in rows] == [("a", "b"), ("a", "c")]
    assert codec.from_json(rows[0]["props"]) == {"w": 2}
