"""Candidate retrieval per query mode: entities, relations and chunks, ranked and bounded.

- ``local``: entity vectors (low-level keywords) -> those entities, their edges, chunks;
- ``global``: relation vectors (high- and low-level keywords) -> those edges, their
  endpoints, chunks;
- ``hybrid``: both, interleaved round-robin and deduplicated;
- ``naive``: chunk vectors (query) only;
- ``mix``: ``hybrid`` plus chunk vectors.

Counts are bounded here, token budgets later (``context_builder``): ``top_k`` bounds
the entity hits and the edges taken from them (local), and the relation hits and the
endpoints taken from them (global); ``chunk_top_k`` bounds the chunks of the whole
query, vector chunks and graph chunks together.

Relation search embeds the high-level keywords *and* the low-level ones: a relation's
vector text holds its endpoint names, so a question that names its subject finds that
subject's relations instead of any relation that shares the theme words (with the
theme words alone, the subject's relations drown among the others as the graph grows).
Local edges are taken round-robin over the entities in their rank order, each
entity's edges strongest first, so one hub entity cannot fill the list alone.

The query and the keyword strings are embedded in one call, each cut to
``rag.retrieval_query_tokens`` tokens (the cost of a query does not grow with its
length). Entity search without low-level keywords uses the high-level ones followed
by the query (the theme words weigh more than the question's function words, which
match any long description); with no keywords at all, both searches use the query's
own vector, so a question without extracted keywords still reaches the graph.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
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


def _edge_rank(
    key: tuple[str, str],
    *,
    name: str,
    props: dict[tuple[str, str], dict[str, Any]],
    found: set[str],
    degrees: dict[str, int],
) -> tuple[int, float, int, tuple[str, str]]:
    """Sort key of ``name``'s edge ``key``: edges between two hits first, then by weight,
    then by the degree of the far endpoint, then by the endpoints (a stable order)."""
    other = key[1] if key[0] == name else key[0]
    return (0 if other in found else 1, -_weight(props[key]), -degrees.get(other, 0), key)


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
        low = ", ".join(keywords.low)
        both = ", ".join([*keywords.high, *keywords.low])
        wants_local = mode in ("local", "hybrid", "mix")
        wants_global = mode in ("global", "hybrid", "mix")
        # one embedding call; never an empty string (some APIs reject it), none twice
        needs: dict[str, str] = {}
        if mode in ("naive", "mix"):
            needs["query"] = query
        if wants_local:
            needs["local"] = low or (f"{both}, {query}" if both else query)
        if wants_global:
            needs["global"] = both or query
        texts = list(dict.fromkeys(needs.values()))
        # However long the question, a bounded number of tokens is embedded.
        limit = self.ctx.config.retrieval_query_tokens
        bounded = [self._bounded(text, limit) for text in texts]
        embedded = dict(zip(texts, await self.ctx.embed(bounded), strict=True))
        vectors = {role: embedded[text] for role, text in needs.items()}
        query_vector = vectors.get("query")
        local_vector = vectors.get("local")
        global_vector = vectors.get("global")

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
        # graph ids are already canonical: an edge is its two ids in order (a hub has
        # thousands of edges, so no name normalisation per edge here)
        asked: dict[tuple[str, str], tuple[str, str]] = {}
        own: list[list[tuple[str, str]]] = []
        for name in names:
            keys: list[tuple[str, str]] = []
            for a, b in edges_by_node.get(name, []):
                key = (a, b) if a <= b else (b, a)
                asked.setdefault(key, (a, b))
                keys.append(key)
            own.append(keys)
        edge_props = await graph.get_edges(list(asked.values()))
        props = {key: edge_props[pair] for key, pair in asked.items() if pair in edge_props}
        found = set(names)
        others = {node for key in props for node in key} - found
        degrees = await graph.node_degrees(sorted(others)) if others else {}
        per_entity = [
            heapq.nsmallest(
                param.top_k,
                (key for key in dict.fromkeys(keys) if key in props),
                key=partial(_edge_rank, name=name, props=props, found=found, degrees=degrees),
            )
            for name, keys in zip(names, own, strict=True)
        ]
        chosen = interleave(per_entity, key=lambda key: key)[: param.top_k]
        relations = [_relation(*asked[key], props[key]) for key in chosen]
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
        endpoints = list(dict.fromkeys(n for r in relations for n in (r["src_id"], r["tgt_id"])))
        nodes = await graph.get_nodes(endpoints[: 2 * param.top_k])
        names = [name for name in endpoints if name in nodes][: param.top_k]
        entities = [_entity(name, nodes[name]) for name in names]
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

    def _graph_chunk_ids(
        self, entities: Sequence[dict[str, Any]], relations: Sequence[dict[str, Any]]
    ) -> list[str]:
        """The chunks of the found entities and relations, by evidence, best first.

        Each item offers up to ``related_chunk_number`` of its chunks, those that most
        items share first (ties by chunk id, so the pick does not depend on the order in
        which documents were merged). A chunk scores, summed over the items offering it,
        ``1 / (rank of the item in its list + 1) / (chunks the item has)``: a chunk that
        a top item and few others point at beats one of a hub's thousand chunks.
        """
        size = self.ctx.config.related_chunk_number
        items = [split_field(item.get("source_id")) for item in (*entities, *relations)]
        ranks = [*range(len(entities)), *range(len(relations))]
        shared = Counter(chunk for chunks in items for chunk in set(chunks))
        score: dict[str, float] = {}
        for chunks, rank in zip(items, ranks, strict=True):
            if not chunks:
                continue
            weight = 1.0 / (rank + 1) / len(set(chunks))
            for chunk in sorted(set(chunks), key=lambda c: (-shared[c], c))[:size]:
                score[chunk] = score.get(chunk, 0.0) + weight
        return sorted(score, key=lambda c: (-score[c], c))

    async def _merge_chunks(
        self,
        vector_chunks: list[dict[str, Any]],
        entities: list[dict[str, Any]],
        relations: list[dict[str, Any]],
        param: QueryParam,
    ) -> list[dict[str, Any]]:
        """Graph chunks and vector chunks interleaved (graph first), ``chunk_top_k`` in all.

        Graph chunks are ranked by how strongly the found entities and relations point
        at them (``_graph_chunk_ids``). Both choices were measured on
        ``benchmarks/retrieval_quality.py`` (mix, ``top_k 5, chunk_top_k 3``, gold
        document hit): vector chunks first, as the public project merges them, 0.94 at
        N=1000 and 0.60 at N=10,000 against 1.00 and 0.90 graph first; ranking graph
        chunks by cosine to the query (the public project's ``VECTOR`` pick) 0.64 at
        N=1000. A question's vector is a weak guide among chunks; the graph's pointers
        to them are a strong one.
        """
        wanted = self._graph_chunk_ids(entities, relations)
        records = await self.ctx.storages.text_chunks.get_many(wanted) if wanted else []
        graph_chunks = [
            {
                "chunk_id": chunk_id,
                "content": record.get("content", ""),
                "file_path": record.get("file_path", ""),
                "full_doc_id": record.get("full_doc_id", ""),
            }
            for chunk_id, record in zip(wanted, records, strict=True)
            if record is not None
        ]
        merged = interleave([graph_chunks, vector_chunks], key=lambda c: c["chunk_id"])
        return merged[: param.chunk_top_k]
