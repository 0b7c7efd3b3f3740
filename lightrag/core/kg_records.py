"""Record shapes of knowledge-graph edits: checked updates, info dicts, merged props.

Graph node props: ``entity_id, entity_type, description, source_id, file_path,
created_at``; edge props: ``description, keywords, weight, source_id, file_path,
created_at``. Multi-valued props are united as the insert merge unites them
(``lightrag.core.graph_fields``); vector records come from ``vector_records``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lightrag.core.graph_fields import (
    DEFAULT_WEIGHT,
    UNKNOWN_TYPE,
    edge_weight,
    join_field,
    join_keywords,
)

__all__ = [
    "GraphEditError",
    "entity_info",
    "merge_edge_props",
    "merge_node_props",
    "relation_info",
    "scalar_updates",
]

_SCALAR = (str, int, float, bool)


class GraphEditError(ValueError):
    """An edit that cannot be made as asked (the message says why)."""


def scalar_updates(
    updates: Mapping[str, Any], forbidden: Iterable[str], what: str
) -> dict[str, Any]:
    """``updates`` checked: flat JSON scalars only and no key from ``forbidden``.

    Raises ``GraphEditError`` naming the offending key.
    """
    blocked = set(forbidden)
    checked: dict[str, Any] = {}
    for key, value in updates.items():
        if key in blocked:
            raise GraphEditError(f"{what}: field {key!r} cannot be set here")
        if value is not None and not isinstance(value, _SCALAR):
            raise GraphEditError(
                f"{what}: field {key!r} must be a string, number or boolean, "
                f"got {type(value).__name__}"
            )
        checked[key] = "" if value is None else value
    if "weight" in checked:
        try:
            checked["weight"] = float(checked["weight"])
        except (TypeError, ValueError) as exc:
            raise GraphEditError(
                f"{what}: weight must be a number, got {checked['weight']!r}"
            ) from exc
    return checked


def entity_info(name: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """What edit calls return for an entity: the main fields plus all graph props."""
    return {
        "entity_name": name,
        "entity_type": props.get("entity_type", ""),
        "description": props.get("description", ""),
        "source_id": props.get("source_id", ""),
        "file_path": props.get("file_path", ""),
        "graph_data": dict(props),
    }


def relation_info(source: str, target: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """What edit calls return for a relation: the main fields plus all graph props."""
    return {
        "src_id": source,
        "tgt_id": target,
        "description": props.get("description", ""),
        "keywords": props.get("keywords", ""),
        "weight": props.get("weight", DEFAULT_WEIGHT),
        "source_id": props.get("source_id", ""),
        "file_path": props.get("file_path", ""),
        "graph_data": dict(props),
    }


def merge_node_props(
    name: str, target: Mapping[str, Any] | None, sources: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """One node out of a target (kept first, its type wins) and the nodes merged into it.

    Descriptions are united with ``GRAPH_FIELD_SEP`` like the insert-side merge, so a
    later insert can still summarise them.
    """
    everyone = ([target] if target else []) + list(sources)
    if target and target.get("entity_type"):
        entity_type = str(target["entity_type"])
    else:
        types = Counter(str(p.get("entity_type")) for p in sources if p.get("entity_type"))
        entity_type = types.most_common(1)[0][0] if types else UNKNOWN_TYPE
    created = [p["created_at"] for p in everyone if p.get("created_at") not in (None, "")]
    return {
        **(dict(target) if target else {}),
        "entity_id": name,
        "entity_type": entity_type,
        "description": join_field(p.get("description") for p in everyone),
        "source_id": join_field(p.get("source_id") for p in everyone),
        "file_path": join_field(p.get("file_path") for p in everyone),
        "created_at": min(created, key=str) if created else "",
    }


def merge_edge_props(edges: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One edge out of several between the same endpoints: weights summed, texts united."""
    created = [p["created_at"] for p in edges if p.get("created_at") not in (None, "")]
    merged: dict[str, Any] = {}
    for props in edges:
        merged.update({k: v for k, v in props.items() if k not in merged})
    merged.update(
        {
            "description": join_field(p.get("description") for p in edges),
            "keywords": join_keywords(p.get("keywords") for p in edges),
            "weight": sum(edge_weight(p) for p in edges),
            "source_id": join_field(p.get("source_id") for p in edges),
            "file_path": join_field(p.get("file_path") for p in edges),
            "created_at": min(created, key=str) if created else "",
        }
    )
    return merged
