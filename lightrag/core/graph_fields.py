"""Multi-valued graph properties: how they are split, united and read.

A node's or edge's ``description``, ``source_id`` and ``file_path`` hold several
values joined with ``GRAPH_FIELD_SEP``; an edge's ``keywords`` are joined with
``", "``. The insert merge, document deletion and graph edits all read and write
them through these helpers, so the three cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from lightrag.vocabulary.types import GRAPH_FIELD_SEP

__all__ = [
    "DEFAULT_WEIGHT",
    "UNKNOWN_TYPE",
    "edge_weight",
    "join_field",
    "join_keywords",
    "split_field",
    "unique_texts",
]

UNKNOWN_TYPE = "unknown"
"""The entity type of an entity whose type nobody gave."""

DEFAULT_WEIGHT = 1.0
"""The weight of a relation whose weight nobody gave."""

_SPACE = re.compile(r"\s+")
_KEYWORD_SEPARATORS = re.compile(r"[,;]|" + re.escape(GRAPH_FIELD_SEP))


def split_field(value: Any) -> list[str]:
    """The parts of a ``GRAPH_FIELD_SEP``-joined property that are not blank, as stored
    (``None`` and ``""`` give no parts)."""
    return [part for part in str(value or "").split(GRAPH_FIELD_SEP) if part.strip()]


def unique_texts(values: Iterable[str]) -> list[str]:
    """Non-empty stripped texts in first-seen order, dropping repeats (case and spacing ignored)."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        text = value.strip()
        key = _SPACE.sub(" ", text).casefold()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return out


def join_field(values: Iterable[Any]) -> str:
    """``values`` (each possibly already joined) as one ``GRAPH_FIELD_SEP``-joined property:
    parts stripped, repeats dropped as ``unique_texts`` does, first-seen order."""
    return GRAPH_FIELD_SEP.join(
        unique_texts(part for value in values for part in split_field(value))
    )


def join_keywords(values: Iterable[Any]) -> str:
    """Relation keywords out of ``values`` (each split on ``,``, ``;`` and
    ``GRAPH_FIELD_SEP``): unique as ``unique_texts`` keeps them, joined by ``", "``."""
    parts = (part for value in values for part in _KEYWORD_SEPARATORS.split(str(value or "")))
    return ", ".join(unique_texts(parts))


def edge_weight(props: Mapping[str, Any]) -> float:
    """An edge's ``weight`` as a float; ``DEFAULT_WEIGHT`` when absent, ``None`` or ``""``.

    Raises ``ValueError`` for a value that is not a number.
    """
    value = props.get("weight")
    if value is None or value == "":
        return DEFAULT_WEIGHT
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"edge weight must be a number, got {value!r}") from exc
