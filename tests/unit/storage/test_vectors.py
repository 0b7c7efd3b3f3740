"""The input checks every vector storage shares (``lightrag.storage._vectors``)."""

from __future__ import annotations

import numpy as np
import pytest

from lightrag.storage._vectors import (
    checked_filters,
    checked_matrix,
    checked_query,
    checked_vectors,
    kept_meta,
)

FIELDS = frozenset({"full_doc_id", "file_path"})


def test_checked_matrix_keeps_the_scale_and_checked_vectors_normalises() -> None:
    vectors = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert checked_matrix(vectors, 2, 2, "chunks").tolist() == [[3.0, 4.0], [0.0, 0.0]]
    unit = checked_vectors(vectors, 2, 2, "chunks")
    assert unit.dtype == np.float32
    np.testing.assert_allclose(unit, [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    assert checked_vectors(np.array([3.0, 4.0]), 1, 2, "chunks").shape == (1, 2)


@pytest.mark.parametrize(
    ("vectors", "count", "message"),
    [
        (np.zeros((2, 3)), 2, "expected 2, got 3"),
        (np.zeros((1, 2)), 2, "got 1 vectors for 2 records"),
        (np.array([[np.nan, 1.0]]), 1, "NaN"),
        (np.zeros((1, 1, 2)), 1, "2-D"),
    ],
)
def test_checked_matrix_names_what_is_wrong(vectors: np.ndarray, count: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        checked_matrix(vectors, count, 2, "chunks")


def test_checked_query_is_one_unit_row() -> None:
    assert checked_query(np.array([0.0, 2.0]), 5, 2, "chunks").tolist() == [[0.0, 1.0]]
    with pytest.raises(ValueError, match="top_k"):
        checked_query(np.array([0.0, 2.0]), -1, 2, "chunks")


def test_checked_filters_accepts_collections_of_strings_of_kept_fields() -> None:
    checked = checked_filters({"full_doc_id": ["doc-1", "doc-2", "doc-1"]}, FIELDS, "probe")
    assert checked == {"full_doc_id": frozenset({"doc-1", "doc-2"})}
    assert checked_filters(None, FIELDS, "probe") == {}


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"colour": ["red"]}, r"probe: cannot filter on 'colour'"),
        ({"full_doc_id": "doc-1"}, r"collection of values.*\['doc-1'\]"),
        ({"full_doc_id": ["doc-1", 7]}, "values must be strings, got 7"),
    ],
)
def test_checked_filters_refuses_what_cannot_match(filters: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        checked_filters(filters, FIELDS, "probe")


def test_kept_meta_keeps_only_meta_fields_and_refuses_what_json_cannot_hold() -> None:
    records = {"a": {"full_doc_id": "doc-1", "content": "text"}}
    assert kept_meta(records, FIELDS, "probe") == [{"full_doc_id": "doc-1"}]
    with pytest.raises(ValueError, match="probe: metadata must be JSON-encodable"):
        kept_meta({"a": {"file_path": object()}}, FIELDS, "probe")
