"""Keep the per-document entity/relation indexes in step with graph renames and merges.

``full_entities[doc_id] = {"entity_names": [...]}`` and
``full_relations[doc_id] = {"relation_pairs": [[src, tgt], ...]}`` tell document
deletion which graph items a document sourced. When an entity is renamed or
merged, the documents whose chunks sourced it (found through the chunks'
``full_doc_id``) get the new name; pairs that collapse into a self-loop go.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lightrag.core.graph_fields import split_field
from lightrag.core.storages import Storages
from lightrag.vocabulary.ids import entity_key, relation_key

__all__ = ["docs_of_chunks", "rename_in_doc_index"]


async def docs_of_chunks(storages: Storages, source_ids: Sequence[Any]) -> list[str]:
    """Document ids of the chunks named in ``source_ids`` (each possibly SEP-joined)."""
    chunk_ids = sorted({part for value in source_ids for part in split_field(value)})
    if not chunk_ids:
        return []
    records = await storages.text_chunks.get_many(chunk_ids)
    return sorted({str(r["full_doc_id"]) for r in records if r and r.get("full_doc_id")})


def _renamed(name: str, renames: dict[str, str]) -> str:
    return renames.get(entity_key(name), name)


async def rename_in_doc_index(
    storages: Storages, source_ids: Sequence[Any], renames: dict[str, str]
) -> None:
    """Apply ``renames`` (entity key -> new display name) to the sourcing documents' indexes."""
    doc_ids = await docs_of_chunks(storages, source_ids)
    if not doc_ids or not renames:
        return
    entity_updates: dict[str, dict[str, Any]] = {}
    for doc_id, record in zip(doc_ids, await storages.full_entities.get_many(doc_ids), strict=True):
        names = record.get("entity_names") if record else None
        if not isinstance(names, list):
            continue
        new_names = list(dict.fromkeys(_renamed(str(n), renames) for n in names))
        if new_names != names:
            entity_updates[doc_id] = {
                **(record or {}),
                "entity_names": new_names,
                "count": len(new_names),
            }
    relation_updates: dict[str, dict[str, Any]] = {}
    for doc_id, record in zip(
        doc_ids, await storages.full_relations.get_many(doc_ids), strict=True
    ):
        pairs = record.get("relation_pairs") if record else None
        if not isinstance(pairs, list):
            continue
        seen: set[tuple[str, str]] = set()
        new_pairs: list[list[str]] = []
        for pair in pairs:
            a, b = (_renamed(str(n), renames) for n in pair)
            key = relation_key(a, b)
            if key[0] != key[1] and key not in seen:
                seen.add(key)
                new_pairs.append([a, b])
        if new_pairs != pairs:
            relation_updates[doc_id] = {
                **(record or {}),
                "relation_pairs": new_pairs,
                "count": len(new_pairs),
            }
    if entity_updates:
        await storages.full_entities.upsert(entity_updates)
    if relation_updates:
        await storages.full_relations.upsert(relation_updates)
