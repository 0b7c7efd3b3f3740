"""Argument checks and edge keys shared by the database graph storages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

__all__ = ["check_node_id", "check_positive", "stored_pair", "unique"]

T = TypeVar("T")


def stored_pair(source: str, target: str) -> tuple[str, str]:
    """The stored form of an undirected edge: endpoints in string order."""
    return (source, target) if source <= target else (target, source)


def unique(items: Sequence[T]) -> list[T]:
    """``items`` without repeats, in first-seen order."""
    return list(dict.fromkeys(items))


def check_positive(value: int, name: str) -> None:
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")


def check_node_id(node_id: str) -> str:
    """``node_id``, or ``ValueError`` unless it is a non-empty string."""
    if not isinstance(node_id, str) or not node_id:
        raise ValueError(f"node id must be a non-empty string, got {node_id!r}")
    return node_id
