"""Input checks shared by every vector storage: shapes, metadata, filters.

Every function here is pure and cheap; the errors name what was wrong so the
engine's caller sees ``expected 1024, got 768`` rather than a library traceback.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

__all__ = [
    "checked_filters",
    "checked_matrix",
    "checked_query",
    "checked_vectors",
    "kept_meta",
    "normalised",
]


def normalised(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as a new float32 array."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(
        matrix, norms, out=np.zeros_like(matrix, dtype=np.float32), where=norms > 0
    ).astype(np.float32, copy=False)


def checked_vectors(vectors: np.ndarray, count: int, dim: int, namespace: str) -> np.ndarray:
    """``vectors`` as a normalised ``(count, dim)`` float32 matrix, or ``ValueError``."""
    return normalised(checked_matrix(vectors, count, dim, namespace))


def checked_matrix(vectors: np.ndarray, count: int, dim: int, namespace: str) -> np.ndarray:
    """``vectors`` as a ``(count, dim)`` float32 matrix of finite values, not normalised
    (a single vector is one row); ``ValueError`` naming the mismatch."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1 and count == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array (one row per record), got {array.ndim}-D")
    if array.shape[0] != count:
        raise ValueError(f"got {array.shape[0]} vectors for {count} records")
    if array.shape[1] != dim:
        raise ValueError(
            f"vector dimension mismatch in {namespace!r}: expected {dim}, got {array.shape[1]}"
        )
    if not np.isfinite(array).all():
        raise ValueError("vectors must not contain NaN or infinite values")
    return array


def checked_query(vector: np.ndarray, top_k: int, dim: int, namespace: str) -> np.ndarray:
    """The query as a normalised ``(1, dim)`` float32 matrix, or ``ValueError``."""
    query = np.asarray(vector, dtype=np.float32).ravel()
    if query.size != dim:
        raise ValueError(
            f"query vector dimension mismatch in {namespace!r}: expected {dim}, got {query.size}"
        )
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")
    if not np.isfinite(query).all():
        raise ValueError("the query vector must not contain NaN or infinite values")
    return normalised(query.reshape(1, -1))


def kept_meta(
    records: Mapping[str, Mapping[str, Any]], meta_fields: frozenset[str], backend: str
) -> list[dict[str, Any]]:
    """The ``meta_fields`` of each record, checked JSON-encodable (``ValueError`` if not)."""
    metas = [{k: v for k, v in record.items() if k in meta_fields} for record in records.values()]
    # Scalars always encode; only other values need the (record-sized) trial encoding.
    if all(type(v) in _JSON_SCALARS for meta in metas for v in meta.values()):
        return metas
    try:
        json.dumps(metas)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{backend}: metadata must be JSON-encodable ({exc})") from exc
    return metas


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def checked_filters(
    filters: Mapping[str, Collection[str]] | None, meta_fields: frozenset[str], backend: str
) -> dict[str, frozenset[str]]:
    """``filters`` as ``{field: allowed values}``; ``ValueError`` for a field not kept.

    A plain string as the value collection is refused (it would filter on its
    characters): pass ``["doc-1"]``, not ``"doc-1"``.
    """
    if not filters:
        return {}
    unknown = sorted(set(filters) - meta_fields)
    if unknown:
        known = ", ".join(sorted(meta_fields)) or "none"
        raise ValueError(
            f"{backend}: cannot filter on {', '.join(map(repr, unknown))}: "
            f"not a metadata field of this storage (meta fields: {known})"
        )
    checked: dict[str, frozenset[str]] = {}
    for name, values in filters.items():
        if isinstance(values, str | bytes):
            raise ValueError(
                f"{backend}: filter {name!r} needs a collection of values, got the string "
                f"{values!r} (write [{values!r}])"
            )
        bad = [value for value in values if not isinstance(value, str)]
        if bad:
            raise ValueError(f"{backend}: filter {name!r} values must be strings, got {bad[0]!r}")
        checked[name] = frozenset(values)
    return checked
