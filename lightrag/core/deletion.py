"""Delete one document: its chunks, vectors and status, and what only it put in the graph.

Entities and relations it shared keep their other sources; their properties
are rebuilt from the extraction results stored with the surviving chunks
(``ChunkRecord["extraction"]``), so no chunk is re-extracted. Summaries of long
description lists go through the LLM cache like any merge.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lightrag.core.chunking import ChunkingOptions, chunk_document
from lightrag.core.context import EngineContext
from lightrag.core.extraction import extraction_from_record
from lightrag.core.graph_fields import UNKNOWN_TYPE, split_field
from lightrag.core.merge import GraphMerger
from lightrag.core.vector_records import entity_vector_record, relation_vector_record, write_vectors
from lightrag.vocabulary import ids
from lightrag.vocabulary.types import (
    GRAPH_FIELD_SEP,
    DeletionResult,
    ExtractedEntity,
    ExtractedRelation,
)

__all__ = ["DocumentDeleter"]

Pair = tuple[str, str]


class DocumentDeleter:
    """Removes a document and rebuilds the graph parts it shared (see module docstring)."""

    def __init__(self, ctx: EngineContext, merger: GraphMerger) -> None:
        self.ctx = ctx
        self.merger = merger

    async def delete(self, doc_id: str) -> DeletionResult:
        """Delete ``doc_id``; ``not_found`` when no storage knows it.

        Raises the LLM's ``ModelError`` when a rebuild summary fails (nothing is
        changed then).
        """
        st = self.ctx.storages
        status = await st.doc_status.get(doc_id)
        full = await st.full_docs.get(doc_id)
        if status is None and full is None:
            return DeletionResult(status="not_found", doc_id=doc_id, message="no such document")
        chunk_ids = set((status or {}).get("chunks_list") or [])
        if not chunk_ids and full and isinstance(full.get("content"), str):
            chunk_ids = set(self._chunk_ids(doc_id, full))
        entities = [
            str(n) for n in ((await st.full_entities.get(doc_id)) or {}).get("entity_names", [])
        ]
        pairs = [
            (str(a), str(b))
            for a, b in ((await st.full_relations.get(doc_id)) or {}).get("relation_pairs", [])
        ]
        keys = {ids.entity_key(n) for n in entities}
        keys.update(ids.entity_key(n) for pair in pairs for n in pair)
        async with self.merger.locks.hold(keys):
            counts = await self._prune_graph(chunk_ids, entities, pairs)
        await st.chunks_vdb.delete(sorted(chunk_ids))
        await st.text_chunks.delete(sorted(chunk_ids))
        for kv in (st.full_entities, st.full_relations, st.full_docs, st.doc_status):
            await kv.delete([doc_id])
        return DeletionResult(
            status="success",
            doc_id=doc_id,
            message=f"deleted document {doc_id} and {len(chunk_ids)} chunks",
            **counts,
        )

    def _chunk_ids(self, doc_id: str, full: dict[str, Any]) -> list[str]:
        """Chunk ids of a document that never finished (re-chunked with today's settings)."""
        options = ChunkingOptions.from_config(self.ctx.config)
        chunks = chunk_document(
            self.ctx.tokenizer,
            full["content"],
            document_id=doc_id,
            file_path=str(full.get("file_path", "")),
            options=options,
        )
        return list(chunks)

    async def _surviving(
        self, chunk_ids: Iterable[str]
    ) -> tuple[dict[str, list[ExtractedEntity]], dict[Pair, list[ExtractedRelation]]]:
        """What the given chunks contributed (from their stored extraction results),
        by entity key and by relation key pair."""
        keys = sorted(set(chunk_ids))
        records = await self.ctx.storages.text_chunks.get_many(keys)
        entities: dict[str, list[ExtractedEntity]] = {}
        relations: dict[Pair, list[ExtractedRelation]] = {}
        for key, record in zip(keys, records, strict=True):
            if not record or not isinstance(record.get("extraction"), dict):
                continue
            found = extraction_from_record(
                record["extraction"], chunk_id=key, file_path=str(record.get("file_path", ""))
            )
            for entity in found.entities:
                entities.setdefault(ids.entity_key(entity.name), []).append(entity)
            for relation in found.relations:
                pair = ids.relation_key(relation.source, relation.target)
                relations.setdefault(pair, []).append(relation)
        return entities, relations

    async def _prune_graph(
        self, chunk_ids: set[str], entities: list[str], pairs: list[Pair]
    ) -> dict[str, int]:
        graph = self.ctx.storages.graph
        nodes = await graph.get_nodes(entities)
        edges = await graph.get_edges(pairs)
        node_left = {
            n: [s for s in split_field(p.get("source_id")) if s not in chunk_ids]
            for n, p in nodes.items()
        }
        edge_left = {
            e: [s for s in split_field(p.get("source_id")) if s not in chunk_ids]
            for e, p in edges.items()
        }
        dead_edges = [e for e, left in edge_left.items() if not left]
        dead_nodes = [n for n, left in node_left.items() if not left]
        wanted = {s for left in [*node_left.values(), *edge_left.values()] for s in left}
        by_entity, by_pair = await self._surviving(wanted)

        new_edges: dict[Pair, dict[str, Any]] = {}
        for pair, props in edges.items():
            left = edge_left[pair]
            if not left or len(left) == len(split_field(props.get("source_id"))):
                continue
            items = by_pair.get(ids.relation_key(*pair), [])
            if items:
                rebuilt = await self.merger.relation_props(pair, None, items)
                new_edges[pair] = {**rebuilt, "created_at": props.get("created_at")}
            else:
                new_edges[pair] = await self._sources_only(props, left)
        # a node whose own sources are gone but that other documents' edges still use
        # stays, described by those edges
        dead_set = {ids.relation_key(*p) for p in dead_edges}
        neighbours = await graph.get_nodes_edges(dead_nodes)
        kept: dict[str, list[Pair]] = {}
        for name in dead_nodes:
            alive = [e for e in neighbours.get(name, []) if ids.relation_key(*e) not in dead_set]
            if alive:
                kept[name] = alive
        dead_nodes = [n for n in dead_nodes if n not in kept]

        new_nodes: dict[str, dict[str, Any]] = {}
        for name, props in nodes.items():
            left = node_left[name]
            if name in kept:
                new_nodes[name] = await self._placeholder(name, props, kept[name], new_edges)
            elif not left or len(left) == len(split_field(props.get("source_id"))):
                continue
            elif found := by_entity.get(ids.entity_key(name), []):
                rebuilt = await self.merger.entity_props(name, None, found)
                new_nodes[name] = {**rebuilt, "created_at": props.get("created_at")}
            else:
                new_nodes[name] = await self._sources_only(props, left)

        # everything computed: now write (vectors first, then the graph)
        await self.ctx.storages.entities_vdb.delete([ids.entity_vector_id(n) for n in dead_nodes])
        await self.ctx.storages.relationships_vdb.delete(
            [ids.relation_vector_id(*p) for p in dead_edges]
        )
        await write_vectors(
            self.ctx,
            entities_vdb=dict(entity_vector_record(n, p) for n, p in new_nodes.items()),
            relationships_vdb=dict(relation_vector_record(*e, p) for e, p in new_edges.items()),
        )
        await graph.delete_edges(dead_edges)
        for name in dead_nodes:
            await graph.delete_node(name)
        for name, props in new_nodes.items():
            await graph.upsert_node(name, props)
        for pair, props in new_edges.items():
            await graph.upsert_edge(*pair, props)
        self.merger.forget(dead_nodes)
        return {
            "entities_deleted": len(dead_nodes),
            "relations_deleted": len(dead_edges),
            "entities_rebuilt": len(new_nodes),
            "relations_rebuilt": len(new_edges),
        }

    async def _sources_only(self, props: dict[str, Any], survivors: list[str]) -> dict[str, Any]:
        """Properties when no stored extraction covers the survivors: keep the text, fix sources."""
        records = await self.ctx.storages.text_chunks.get_many(survivors)
        paths = [str(r.get("file_path", "")) for r in records if r]
        return {
            **props,
            "source_id": GRAPH_FIELD_SEP.join(survivors),
            "file_path": GRAPH_FIELD_SEP.join(dict.fromkeys(p for p in paths if p))
            or props.get("file_path", ""),
        }

    async def _placeholder(
        self,
        name: str,
        props: dict[str, Any],
        alive: list[Pair],
        new_edges: dict[Pair, dict[str, Any]],
    ) -> dict[str, Any]:
        stored = await self.ctx.storages.graph.get_edges(alive)
        edge_props = [new_edges.get(e) or stored.get(e) or {} for e in alive]
        items = [
            ExtractedEntity(name, UNKNOWN_TYPE, str(p.get("description", "")), source, "")
            for p in edge_props
            for source in split_field(p.get("source_id"))[:1]
        ]
        rebuilt = await self.merger.entity_props(name, None, items)
        sources = {s for p in edge_props for s in split_field(p.get("source_id"))}
        paths = {f for p in edge_props for f in split_field(p.get("file_path"))}
        return {
            **rebuilt,
            "entity_type": props.get("entity_type", UNKNOWN_TYPE),
            "source_id": GRAPH_FIELD_SEP.join(sorted(sources)),
            "file_path": GRAPH_FIELD_SEP.join(sorted(paths)),
            "created_at": props.get("created_at"),
        }
