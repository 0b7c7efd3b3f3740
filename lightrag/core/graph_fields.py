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
    "FieldParts",
    "edge_weight",
    "field_parts",
    "join_field",
    "join_field_onto",
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


class FieldParts:
    """The parts of one joined property as ``join_field`` leaves them: ``parts`` in order,
    ``members`` (the same texts as a set) and ``keys`` (their de-duplication keys).

    Read-only for callers: the cache below extends instances in place.
    """

    __slots__ = ("joined", "keys", "members", "parts")

    def __init__(self, parts: list[str]) -> None:
        self.parts = parts
        self.members = set(parts)
        self.keys = {_dedup_key(part) for part in parts}
        self.joined = GRAPH_FIELD_SEP.join(parts)


def _dedup_key(text: str) -> str:
    return _SPACE.sub(" ", text).casefold()


_CACHE_MIN_PARTS = 16
"""Only lists at least this long are cached: short ones are cheap to split again."""
_CACHE_SIZE = 4096
_cache: dict[str, FieldParts] = {}
"""Joined value -> its parts, for the long lists of popular entities and relations: a
merge then costs O(new parts) instead of re-splitting thousands of chunk ids (which
made indexing N documents quadratic in N). Entries are keyed by the exact string, so
a stale entry is never used; the oldest go first past ``_CACHE_SIZE``."""


def field_parts(value: Any) -> FieldParts:
    """The parts of a joined property (``unique_texts`` of ``split_field``), cached for
    long lists. The result must not be modified."""
    if isinstance(value, str) and value in _cache:
        return _cache[value]
    parsed = FieldParts(unique_texts(split_field(value)))
    if len(parsed.parts) >= _CACHE_MIN_PARTS:
        _remember(parsed.joined, parsed)
    return parsed


def _remember(joined: str, parsed: FieldParts) -> None:
    _cache[joined] = parsed
    if len(_cache) > _CACHE_SIZE:
        del _cache[next(iter(_cache))]


def join_field_onto(base: Any, values: Iterable[Any]) -> str:
    """``join_field([base, *values])``, in O(new parts) when ``base`` is a cached list."""
    parsed = field_parts(base)
    added: list[str] = []
    keys = parsed.keys
    new_keys: set[str] = set()
    for value in values:
        for part in split_field(value):
            text = part.strip()
            key = _dedup_key(text)
            if key not in keys and key not in new_keys:
                new_keys.add(key)
                added.append(text)
    if not added:
        return parsed.joined
    joined = (
        GRAPH_FIELD_SEP.join([parsed.joined, *added])
        if parsed.parts
        else GRAPH_FIELD_SEP.join(added)
    )
    if len(parsed.parts) + len(added) < _CACHE_MIN_PARTS:
        return joined
    if _cache.get(parsed.joined) is parsed:  # move the entry on: the old value is superseded
        del _cache[parsed.joined]
        parsed.parts.extend(added)
        parsed.members.update(added)
        keys.update(new_keys)
        parsed.joined = joined
        _remember(joined, parsed)
    else:
        _remember(joined, FieldParts([*parsed.parts, *added]))
    return joined


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
