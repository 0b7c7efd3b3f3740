"""What the query-language graph backends (Apache AGE, Gremlin) share.

Property checking and JSON encoding, label ranking, and the subgraph walk over
two async look-ups (neighbours and degrees of a batch of nodes), so that every
such backend returns the same subgraph as the PostgreSQL plain-table one: nodes
nearest the start first, then higher degree, then id.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_node_id",
    "check_positive",
    "normalise_pair",
    "props_json",
    "rank_labels",
    "rank_popular",
    "walk_nearest",
]

Neighbours = Callable[[Sequence[str]], Awaitable[Mapping[str, Iterable[str]]]]
Degrees = Callable[[Sequence[str]], Awaitable[Mapping[str, int]]]


def check_positive(value: int, name: str) -> None:
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")


def check_node_id(node_id: str, *, allow_nul: bool = True) -> str:
    """``node_id`` itself; ``ValueError`` for an empty or non-string id (or a NUL when
    the database cannot store one)."""
    if not isinstance(node_id, str) or not node_id:
        raise ValueError(f"node id must be a non-empty string, got {node_id!r}")
    if not allow_nul and "\x00" in node_id:
        raise ValueError(f"node id {node_id!r} holds a NUL character the database cannot store")
    return node_id


def normalise_pair(source: str, target: str) -> tuple[str, str]:
    """The stored form of an undirected edge: endpoints in (Python) string order."""
    return (source, target) if source <= target else (target, source)


def _json_value(value: Any, clean: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, np.generic) and np.ndim(value) == 0:
        return value.item()
    if isinstance(value, Mapping):
        return {clean(str(k)): _json_value(v, clean) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v, clean) for v in value]
    return value


def _keep(text: str) -> str:
    return text


def props_json(data: Mapping[str, Any], owner: str, *, clean: Callable[[str], str] = _keep) -> str:
    """``data`` as a JSON object text (``None`` values dropped, as the file backend does).

    ``clean`` rewrites every string (a database that cannot hold NUL replaces it).
    Raises ``ValueError`` naming ``owner`` for a non-mapping, a non-string key, or a
    value JSON cannot carry (NaN, infinity, arbitrary objects).
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{owner}: properties must be a mapping, got {type(data).__name__}")
    properties: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise ValueError(f"{owner}: property name {key!r} is not a string")
        if value is not None:
            properties[clean(key)] = _json_value(value, clean)
    try:
        return json.dumps(properties, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: properties are not JSON ({exc})") from None


def rank_labels(ids: Iterable[str], query: str, limit: int) -> list[str]:
    """Ids containing ``query`` case-insensitively: exact, prefix, then substring matches;
    shorter ids first within a group, then by id. An empty query finds nothing."""
    needle = query.strip().casefold()
    if not needle:
        return []
    ranked: list[tuple[int, int, str]] = []
    for node_id in ids:
        folded = node_id.casefold()
        position = folded.find(needle)
        if position < 0:
            continue
        ranked.append((0 if folded == needle else 1 if position == 0 else 2, len(folded), node_id))
    return [node_id for _, _, node_id in heapq.nsmallest(limit, ranked)]


def rank_popular(degrees: Mapping[str, int], limit: int) -> list[str]:
    """Up to ``limit`` ids by degree, highest first, ties by id."""
    return heapq.nsmallest(limit, degrees, key=lambda node_id: (-degrees[node_id], node_id))


async def walk_nearest(
    label: str,
    max_depth: int,
    max_nodes: int,
    neighbours: Neighbours,
    degrees: Degrees,
) -> tuple[list[str], bool]:
    """The ``max_nodes`` nodes nearest ``label`` within ``max_depth`` hops, and whether
    reachable nodes were left out.

    Breadth first, one ``neighbours`` call per level; the walk stops once more than
    ``max_nodes`` nodes are reached (farther ones would rank after them anyway).
    Nodes are ranked by hops, then degree (highest first), then id. ``label`` must exist.
    """
    depth_of: dict[str, int] = {label: 0}
    frontier = [label]
    for depth in range(1, max_depth + 1):
        if len(depth_of) > max_nodes or not frontier:
            break
        found = await neighbours(frontier)
        following = sorted(
            {other for node in frontier for other in found.get(node, ()) if other not in depth_of}
        )
        for other in following:
            depth_of[other] = depth
        frontier = following
    truncated = len(depth_of) > max_nodes
    if not truncated:
        chosen = list(depth_of)
    else:
        degree = await degrees(list(depth_of))
        chosen = heapq.nsmallest(
            max_nodes, depth_of, key=lambda n: (depth_of[n], -degree.get(n, 0), n)
        )
    return chosen, truncated
