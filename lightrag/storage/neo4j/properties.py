"""Record properties to Neo4j properties and back, unchanged.

Neo4j stores scalars (string, integer, float, boolean) and lists of one of them as
properties, nothing nested. A value Neo4j stores as given is kept as a property of
its own name, so the graph reads naturally in Neo4j Browser and Cypher; any other
value (a dict, a list mixing types, an integer beyond 64 bits), and any property
whose name is one of the storage's own (``_workspace``, ``_id``, ...), goes into one
JSON string property ``_extra``. Reading merges both, so every JSON-compatible record
comes back as it was written. ``None`` values are dropped (a missing value), as the
other backends do.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

__all__ = ["EXTRA", "decode_properties", "encode_properties"]

EXTRA = "_extra"
"""The JSON string property holding what Neo4j cannot store as given."""

_INT64 = (-(2**63), 2**63 - 1)


def _scalar_kind(value: Any) -> type | None:
    """The Neo4j scalar type ``value`` is stored as, or ``None`` when it is not one."""
    kind = type(value)
    if kind is str or kind is bool or kind is float:
        return kind
    if kind is int:
        return int if _INT64[0] <= value <= _INT64[1] else None
    return None


def _plain(value: Any) -> Any:
    """Numpy scalars as Python scalars, tuples as lists (what JSON would make of them)."""
    if isinstance(value, np.generic) and np.ndim(value) == 0:
        return value.item()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _native(value: Any) -> bool:
    """Whether Neo4j stores ``value`` as a property and gives it back unchanged."""
    if _scalar_kind(value) is not None:
        return True
    if isinstance(value, list) and value:
        kinds = {_scalar_kind(item) for item in value}
        return len(kinds) == 1 and None not in kinds
    return False


def encode_properties(
    data: Mapping[str, Any], reserved: Collection[str], owner: str
) -> dict[str, Any]:
    """``data`` as a Neo4j property map (without the storage's own properties).

    Raises ``ValueError`` naming ``owner`` for a non-mapping, a non-string key or a
    value that is not JSON-compatible.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{owner}: properties must be a mapping, got {type(data).__name__}")
    properties: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, raw in data.items():
        if not isinstance(key, str):
            raise ValueError(f"{owner}: property name {key!r} is not a string")
        if raw is None:
            continue
        value = _plain(raw)
        if key not in reserved and key != EXTRA and _native(value):
            properties[key] = value
        else:
            extra[key] = value
    if extra:
        try:
            properties[EXTRA] = json.dumps(extra, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{owner}: properties are not JSON ({exc})") from None
    return properties


def decode_properties(stored: Mapping[str, Any], reserved: Collection[str]) -> dict[str, Any]:
    """The record ``encode_properties`` was given, from what Neo4j returns."""
    record = {
        key: value
        for key, value in stored.items()
        if key not in reserved and key != EXTRA and value is not None
    }
    extra = stored.get(EXTRA)
    if extra:
        record.update(json.loads(extra))
    return record
