"""Candidate retrieval per query mode: entities, relations and chunks, ranked, not yet cut.

- ``local``: entity vectors (low-level keywords) -> those entities, their edges, their chunks;
- ``global``: relation vectors (high-level keywords) -> those edges, their endpoints, chunks;
- ``hybrid``: both, interleaved round-robin and deduplicated;
- ``naive``: chunk vectors (query) only;
- ``mix``: ``hybrid`` plus chunk vectors.

The query and the keyword strings are embedded in one call, each cut to
``rag.retrieval_query_tokens`` tokens (the cost of a query does not grow with its
length). A missing keyword list falls back to the query's own vector, so a question
without extracted keywords still reaches the graph.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any, TypeVar

import numpy as np

from lightrag.core.context import EngineContext
from lightrag.core.graph_fields import split_field
from lightrag.core.keywords import Keywords
from lightrag.vocabulary.ids import entity_key, relation_key
from lightrag.vocabulary.types import QueryMode, QueryParam

__all__ = ["Candidates", "Retriever", "interleave"]

T = TypeVar("T")
_ENTITY_FIELDS = ("entity_type", "description", "source_id", "file_path", "created_at")
_RELATION_FIELDS = ("description", "keywords", "weight", "source_id", "file_path", "created_at")


@dataclass(slots=True)
class Candidates:
    """Ranked retrieval results, best first (budgets are applied later)."""

    entities: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[dict[str, Any]] = field(default_factory=list)


def interleave(lists: Sequence[Sequence[T]], key: Any) -> list[T]:
    """Round-robin merge of ``lists``, keeping the first item of each ``key(item)``."""
    seen: set[Hashable] = set()
    merged: list[T] = []
    for row in zip_longest(*lists):
        for item in row:
            if item is None:
                continue
            identity = key(item)
            if identity not in seen:
                seen.add(identity)
                merged.append(item)
    return merged


def _pair_key(relation: dict[str, Any]) -> tuple[str, str]:
    return relation_key(relation["src_id"], relation["tgt_id"])


def _entity(name: str, props: dict[str, Any]) -> dict[str, Any]:
    return {"entity_name": name, **{key: props.get(key, "") for key in _ENTITY_FIELDS}}


def _relation(source: str, target: str, props: dict[str, Any]) -> dict[str, Any]:
    record = {"src_id": source, "tgt_id": target}
    record.update({key: props.get(key, "") for key in _RELATION_FIELDS})
    return record


def _weight(relation: dict[str, Any]) -> float:
    try:
        return float(relation.get("weight") or 0.0)
    except (TypeError, ValueError):
        return 0.0


class Retriever:
    """Finds ranked candidates in the vector stores and the graph."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    async def search(
        self, mode: QueryMode, query: str, keywords: Keywords, param: QueryParam
    ) -> Candidates:
        """Candidates for ``mode`` (``bypass`` finds nothing)."""
        if mode == "bypass":
            return Candidates()
        low, high = ", ".join(keywords.low), ", ".join(keywords.high)
        wants_local = mode in ("local", "hybrid", "mix")
        wants_global = mode in ("global", "hybrid", "mix")
        # one embedding call; never an empty string (some APIs reject it)
        texts: dict[str, str] = {}
        if mode in ("naive", "mix") or (wants_local and not low) or (wants_global and not high):
            texts["query"] = query
        if wants_local and low:
            texts["low"] = low
        if wants_global and high:
            texts["high"] = high
        # However long the question, a bounded number of tokens is embedded.
        limit = self.ctx.config.retrieval_query_tokens
        embedded = [self._bounded(text, limit) for text in texts.values()]
        vectors = dict(zip(texts, await self.ctx.embed(embedded), strict=True))
        query_vector = vectors.get("query")
        local_vector = vectors.get("low", query_vector) if wants_local else None
        global_vector = vectors.get("high", query_vector) if wants_global else None

        local_task = global_task = vector_task = None
        async with asyncio.TaskGroup() as group:
            if local_vector is not None:
                local_task = group.create_task(self._local(local_vector, param))
            if global_vector is not None:
                global_task = group.create_task(self._global(global_vector, param))
            if mode in ("naive", "mix") and query_vector is not None:
                vector_task = group.create_task(self._vector_chunks(query_vector, param))
        local = local_task.result() if local_task else Candidates()
        global_ = global_task.result() if global_task else Candidates()
        entities = interleave(
            [local.entities, global_.entities], key=lambda e: entity_key(e["entity_name"])
        )
        relations = interleave([local.relations, global_.relations], key=_pair_key)
        vector_chunks = vector_task.result() if vector_task else []
        chunks = await self._merge_chunks(vector_chunks, entities, relations, param)
        return Candidates(entities=entities, relations=relations, chunks=chunks)

    def _bounded(self, text: str, limit: int) -> str:
        """``text`` cut to ``limit`` tokens (a token is at least one character, so a text
        of at most ``limit`` characters is never tokenised here)."""
        return text if len(text) <= limit else self.ctx.tokenizer.truncate(text, limit)

    async def _local(self, vector: np.ndarray, param: QueryParam) -> Candidates:
        graph = self.ctx.storages.graph
        hits = await self.ctx.storages.entities_vdb.query(vector, param.top_k)
        names = list(dict.fromkeys(str(h["entity_name"]) for h in hits if h.get("entity_name")))
        nodes = await graph.get_nodes(names)
        names = [name for name in names if name in nodes]
        edges_by_node = await graph.get_nodes_edges(names)
        pairs: dict[tuple[str, str], tuple[str, str]] = {}
        for name in names:
            for source, target in edges_by_node.get(name, []):
                pairs.setdefault(relation_key(source, target), (source, target))
        edge_props = await graph.get_edges(list(pairs.values()))
        endpoints = {node for pair in edge_props for node in pair}
        degrees = await graph.node_degrees(sorted(endpoints))
        relations = [_relation(a, b, props) for (a, b), props in edge_props.items()]
        relations.sort(
            key=lambda r: (degrees.get(r["src_id"], 0) + degrees.get(r["tgt_id"], 0), _weight(r)),
            reverse=True,
        )
        entities = [_entity(name, nodes[name]) for name in names]
        return Candidates(entities=entities, relations=relations)

    async def _global(self, vector: np.ndarray, param: QueryParam) -> Candidates:
        graph = self.ctx.storages.graph
        hits = await self.ctx.storages.relationships_vdb.query(vector, param.top_k)
        pairs = [
            (str(h["src_id"]), str(h["tgt_id"]))
            for h in hits
            if h.get("src_id") and h.get("tgt_id")
        ]
        edge_props = await graph.get_edges(pairs)
        relations = [_relation(a, b, edge_props[(a, b)]) for a, b in pairs if (a, b) in edge_props]
        names = list(dict.fromkeys(n for r in relations for n in (r["src_id"], r["tgt_id"])))
        nodes = await graph.get_nodes(names)
        entities = [_entity(name, nodes[name]) for name in names if name in nodes]
        return Candidates(entities=entities, relations=relations)

    async def _vector_chunks(self, vector: np.ndarray, param: QueryParam) -> list[dict[str, Any]]:
        hits = await self.ctx.storages.chunks_vdb.query(vector, param.chunk_top_k)
        return [
            {
                "chunk_id": str(hit["id"]),
                "content": hit.get("content", ""),
                "file_path": hit.get("file_path", ""),
                "full_doc_id": hit.get("full_doc_id", ""),
            }
            for hit in hits
        ]

    def _related_chunk_ids(self, items: Iterable[dict[str, Any]], limit: int) -> list[str]:
        """Up to ``related_chunk_number`` chunks per item, preferring chunks that many of
        the items share (ties by chunk id, so the pick does not depend on the order in
        which documents were merged); at most ``limit`` in all."""
        per_item = [split_field(item.get("source_id")) for item in items]
        shared = Counter(chunk for chunks in per_item for chunk in set(chunks))
        picked: list[str] = []
        seen: set[str] = set()
        for chunks in per_item:
            ranked = sorted(chunks, key=lambda chunk: (-shared[chunk], chunk))
            for chunk in ranked[: self.ctx.config.related_chunk_number]:
                if chunk not in seen:
                    seen.add(chunk)
                    picked.append(chunk)
        return picked[:limit]

    async def _merge_chunks(
        self,
        vector_chunks: list[dict[str, Any]],
        entities: list[dict[str, Any]],
        relations: list[dict[str, Any]],
        param: QueryParam,
    ) -> list[dict[str, Any]]:
        entity_ids = self._related_chunk_ids(entities, param.chunk_top_k)
        relation_ids = self._related_chunk_ids(relations, param.chunk_top_k)
        wanted = [i for i in dict.fromkeys(entity_ids + relation_ids)]
        records = await self.ctx.storages.text_chunks.get_many(wanted) if wanted else []
        by_id = {
            chunk_id: {
                "chunk_id": chunk_id,
                "content": record.get("content", ""),
                "file_path": record.get("file_path", ""),
                "full_doc_id": record.get("full_doc_id", ""),
            }
            for chunk_id, record in zip(wanted, records, strict=True)
            if record is not None
        }
        from_entities = [by_id[i] for i in entity_ids if i in by_id]
        from_relations = [by_id[i] for i in relation_ids if i in by_id]
        return interleave(
            [vector_chunks, from_entities, from_relations], key=lambda c: c["chunk_id"]
        )
