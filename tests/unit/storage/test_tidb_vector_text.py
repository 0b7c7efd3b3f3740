"""TiDB vector values: the text form sent to the server, and the dimension limits."""

from __future__ import annotations

import numpy as np
import pytest
from tidb_vector import MAX_DIM
from tidb_vector.utils import decode_vector

from lightrag.storage.tidb import sql
from lightrag.storage.tidb.vector import TiDBVectorStorage, _vector_text
from lightrag.vocabulary.storage import StorageContext


def test_vector_text_round_trips_float32_exactly() -> None:
    row = np.random.default_rng(7).standard_normal(1024).astype(np.float32)
    text = _vector_text(row)
    assert text.startswith("[") and text.endswith("]")
    assert np.array_equal(decode_vector(text), row)


def test_query_orders_by_cosine_distance() -> None:
    assert "1 - VEC_COSINE_DISTANCE(embedding, %s) AS score" in sql.VECTOR_QUERY
    assert "ORDER BY VEC_COSINE_DISTANCE(embedding, %s) LIMIT %s" in sql.VECTOR_QUERY
    assert "{table}" in sql.VECTOR_QUERY and "{filters}" in sql.VECTOR_QUERY


@pytest.mark.parametrize("dim", [0, MAX_DIM + 1])
def test_dimension_outside_tidb_limits_is_refused(dim: int, tmp_path) -> None:
    ctx = StorageContext(namespace="chunks", working_dir=tmp_path, embedding_dim=dim)
    with pytest.raises(ValueError, match="TiDB's VECTOR limits"):
        TiDBVectorStorage(ctx, {})
