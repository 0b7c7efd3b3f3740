"""Python values to Oracle binds and back: workspaces, ids, JSON text, vectors, times.

Pure functions, tested without a server. The choices they encode:

- Oracle stores ``''`` as ``NULL``, so the empty (default) workspace is stored as
  ``"-"``, a name no workspace can have (workspaces are ``[A-Za-z0-9_]*``), and
  empty optional text columns are ``None`` (NULL).
- JSON is stored as text in ``CLOB ... CHECK (x IS JSON)`` columns (works from
  Oracle 12.2 on; the native ``JSON`` type would return numbers as ``Decimal``).
  It is written ASCII-only (``\\uXXXX`` escapes), so a value round-trips exactly
  whatever the database character set; ids need an AL32UTF8 database (the default).
- A bind longer than 32767 bytes cannot go as ``VARCHAR2`` (the driver would send a
  ``LONG``, refused in ``MERGE``): such rows are written in a second
  ``executemany`` with the column bound as ``CLOB`` (``split_by_size``).
- Vectors go as ``array.array("f")`` (the driver's bind type for ``VECTOR(n, FLOAT32)``).
"""

from __future__ import annotations

import array
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np

from lightrag.storage.oracle.sql import ID_CHARS

__all__ = [
    "EMPTY_WORKSPACE",
    "VARCHAR_BIND_LIMIT",
    "checked_id",
    "from_json",
    "json_text",
    "optional_text",
    "split_by_size",
    "stored_workspace",
    "vector_bind",
]

EMPTY_WORKSPACE = "-"
"""How the empty workspace is stored (Oracle cannot store ``''``: it is NULL)."""

VARCHAR_BIND_LIMIT = 32767
"""Longest string (bytes) the driver binds as VARCHAR2; longer ones need a CLOB bind."""


def stored_workspace(workspace: str) -> str:
    """The workspace column value: ``workspace``, or ``EMPTY_WORKSPACE`` when it is empty."""
    return workspace or EMPTY_WORKSPACE


def checked_id(value: Any, what: str = "id") -> str:
    """``value`` when it is a non-empty string of at most ``ID_CHARS`` characters.

    Raises ``ValueError`` otherwise (Oracle would store ``''`` as NULL, which a key
    column refuses, and a longer id does not fit the column).
    """
    if not isinstance(value, str) or not value:
        raise ValueError(
            f"oracle: {what} must be a non-empty string (Oracle stores '' as NULL), got {value!r}"
        )
    if len(value) > ID_CHARS:
        raise ValueError(
            f"oracle: {what} is {len(value)} characters long; the column holds {ID_CHARS}"
        )
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic) and np.ndim(value) == 0:
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, datetime | date):
        return value.isoformat()  # the form the records carry their times in
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_text(value: Mapping[str, Any], owner: str = "record") -> str:
    """``value`` as ASCII JSON text; ``ValueError`` naming ``owner`` when it is not a JSON
    object (NaN and infinities are refused: JSON has no such numbers). NumPy values
    become numbers and lists; a ``datetime``/``date`` becomes its ISO 8601 text."""
    if not isinstance(value, Mapping):
        raise ValueError(f"oracle: {owner} must be a JSON object, got {type(value).__name__}")
    try:
        return json.dumps(value, ensure_ascii=True, allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"oracle: {owner} is not JSON ({exc})") from None


def from_json(text: Any) -> dict[str, Any]:
    """A JSON column value (a string, as fetched with ``fetch_lobs=False``) as a dict."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"oracle: stored JSON is not an object: {str(text)[:80]!r}")
    return value


def optional_text(value: Any, max_chars: int) -> str | None:
    """A nullable text column: ``None`` for ``None``/``""``; a ``datetime`` or ``date``
    in ISO 8601; anything else as ``str``; cut to ``max_chars`` characters (a sort key:
    the record itself keeps the whole value)."""
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    return text[:max_chars] or None


def vector_bind(row: np.ndarray | Sequence[float]) -> array.array[float]:
    """One vector as the driver's ``VECTOR(n, FLOAT32)`` bind value."""
    return array.array("f", np.asarray(row, dtype=np.float32).ravel().tolist())


def split_by_size(
    rows: Sequence[Mapping[str, Any]], column: str
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """``rows`` split into those whose ``column`` fits a VARCHAR2 bind and those that
    need a CLOB bind (more than ``VARCHAR_BIND_LIMIT`` bytes in UTF-8), order kept."""
    small: list[Mapping[str, Any]] = []
    large: list[Mapping[str, Any]] = []
    for row in rows:
        text = row[column]
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        (large if size > VARCHAR_BIND_LIMIT else small).append(row)
    return small, large
