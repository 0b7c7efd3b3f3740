"""The vector records of entities and relations, and writing them with their embeddings.

One builder per record kind serves the insert merge, document deletion and graph
edits, so an entity or relation gets the same vector id, ``content`` (the text
embedded) and metadata whichever of them wrote it last. Metadata fields follow
``ENTITY_META`` / ``RELATION_META`` in ``lightrag.core.storages``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from lightrag.core.context import EngineContext
from lightrag.core.graph_fields import UNKNOWN_TYPE, edge_weight
from lightrag.vocabulary import ids

__all__ = ["entity_vector_record", "relation_vector_record", "write_vectors"]


def _text(props: Mapping[str, Any], key: str) -> str:
    value = props.get(key)
    return "" if value is None else str(value)


def entity_vector_record(name: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(vector id, record)`` of entity ``name`` with graph node ``props``.

    ``entity_type`` is ``UNKNOWN_TYPE`` when the node has none; ``content`` (embedded)
    is the name, a newline and the description.
    """
    return ids.entity_vector_id(name), {
        "entity_name": name,
        "entity_type": _text(props, "entity_type") or UNKNOWN_TYPE,
        "source_id": _text(props, "source_id"),
        "file_path": _text(props, "file_path"),
        "content": f"{name}\n{_text(props, 'description')}",
    }


def relation_vector_record(
    source: str, target: str, props: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """``(vector id, record)`` of the relation ``source`` -- ``target`` with graph edge
    ``props``; the same for either order of the endpoints.

    ``src_id``/``tgt_id`` are in entity-key order (``ids.ordered_endpoints``); ``weight``
    is ``edge_weight(props)`` (``ValueError`` when not a number); ``content`` (embedded)
    is keywords, tab, source, newline, target, newline, description.
    """
    source, target = ids.ordered_endpoints(source, target)
    keywords = _text(props, "keywords")
    description = _text(props, "description")
    return ids.relation_vector_id(source, target), {
        "src_id": source,
        "tgt_id": target,
        "keywords": keywords,
        "description": description,
        "weight": edge_weight(props),
        "source_id": _text(props, "source_id"),
        "file_path": _text(props, "file_path"),
        "content": f"{keywords}\t{source}\n{target}\n{description}",
    }


async def write_vectors(ctx: EngineContext, **namespaces: Mapping[str, dict[str, Any]]) -> None:
    """Embed every record's ``content`` in one batched pass and upsert by namespace.

    Keyword names are ``Storages`` attributes (``entities_vdb``, ``chunks_vdb``, ...);
    content longer than the embedding model's token limit is truncated for embedding
    only (the stored ``content`` stays whole).
    """
    texts: list[str] = []
    limit = ctx.embedding.max_tokens
    for records in namespaces.values():
        for record in records.values():
            content = str(record["content"])
            if len(content) > limit:  # only then can it exceed the model's token limit
                content = ctx.tokenizer.truncate(content, limit)
            texts.append(content)
    vectors = await ctx.embed(texts)
    start = 0
    writes = []
    for name, records in namespaces.items():
        if records:
            end = start + len(records)
            writes.append(getattr(ctx.storages, name).upsert(records, vectors[start:end]))
            start = end
    await asyncio.gather(*writes)
