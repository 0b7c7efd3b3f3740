"""What the vector storages on a server (Milvus, Chroma) share: names, input checks.

Each (workspace, namespace) gets its own collection. Its name is readable (the
sanitised workspace and namespace) and ends with a short hash of the raw pair, so
two pairs that sanitise alike (``"a-b"`` and ``"a_b"``) never share a collection.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

import numpy as np

__all__ = [
    "checked_filters",
    "checked_query",
    "checked_vectors",
    "collection_name",
    "kept_meta",
    "server_address",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def collection_name(prefix: str, workspace: str, namespace: str, *, max_length: int) -> str:
    """``<prefix>_<workspace>_<namespace>_<hash8>`` with only ``[A-Za-z0-9_]``.

    Starts with ``prefix`` (a letter) and ends with hex digits, which suits both
    Milvus (letters, digits, underscores; first a letter) and Chroma (must start
    and end alphanumeric).
    """
    digest = hashlib.sha256(f"{workspace}\0{namespace}".encode()).hexdigest()[:8]
    readable = "_".join(
        part for part in (prefix, _UNSAFE.sub("_", workspace), _UNSAFE.sub("_", namespace)) if part
    )
    return f"{readable[: max_length - 9]}_{digest}"


def server_address(uri: str, default_port: int) -> str:
    """``host:port`` of a server URI, without user or password (for error messages)."""
    parts = urlsplit(uri if "://" in uri else f"http://{uri}")
    try:
        port = parts.port or default_port
    except ValueError:
        port = default_port
    return f"{parts.hostname or 'localhost'}:{port}"


def normalised(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), float32."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(
        matrix, norms, out=np.zeros_like(matrix, dtype=np.float32), where=norms > 0
    ).astype(np.float32, copy=False)


def checked_vectors(vectors: np.ndarray, count: int, dim: int, namespace: str) -> np.ndarray:
    """``vectors`` as ``count`` unit rows of ``dim`` floats; ``ValueError`` naming the mismatch."""
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
    return normalised(array)


def checked_query(vector: np.ndarray, top_k: int, dim: int, namespace: str) -> np.ndarray:
    """The query as one unit row of ``dim`` floats; ``ValueError`` for a bad shape or top_k."""
    query = np.asarray(vector, dtype=np.float32).ravel()
    if query.size != dim:
        raise ValueError(
            f"query vector dimension mismatch in {namespace!r}: expected {dim}, got {query.size}"
        )
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")
    if not np.isfinite(query).all():
        raise ValueError("query vector must not contain NaN or infinite values")
    return normalised(query.reshape(1, -1))[0]


def kept_meta(
    records: Mapping[str, dict[str, Any]], fields: frozenset[str]
) -> list[dict[str, Any]]:
    """The ``fields`` of each record; ``ValueError`` when one is not JSON-encodable."""
    metas = [{k: v for k, v in record.items() if k in fields} for record in records.values()]
    try:
        json.dumps(metas)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"vector metadata must be JSON-encodable ({exc})") from exc
    return metas


def checked_filters(
    filters: Mapping[str, Collection[str]] | None, fields: frozenset[str]
) -> dict[str, list[str]]:
    """``filters`` as field -> list of string values; ``ValueError`` for unknown fields."""
    if not filters:
        return {}
    unknown = sorted(set(filters) - fields)
    if unknown:
        raise ValueError(
            f"cannot filter on {', '.join(map(repr, unknown))}: not a metadata field "
            f"(known: {', '.join(sorted(fields)) or 'none'})"
        )
    checked: dict[str, list[str]] = {}
    for name, values in filters.items():
        if isinstance(values, str):
            raise ValueError(f"filter {name!r} needs a collection of values, not one string")
        listed = list(dict.fromkeys(values))
        bad = [value for value in listed if not isinstance(value, str)]
        if bad:
            raise ValueError(f"filter {name!r} values must be strings, got {bad[0]!r}")
        checked[name] = listed
    return checked
