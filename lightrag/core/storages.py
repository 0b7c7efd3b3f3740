"""The set of storages one engine uses, opened from config through the registry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from lightrag.config.models import BackendChoice, StorageConfig
from lightrag.storage.base import (
    DocStatusStorage,
    GraphStorage,
    KVStorage,
    StorageContext,
    VectorStorage,
)
from lightrag.storage.registry import StorageRole, storage_registry

__all__ = ["CHUNK_META", "ENTITY_META", "RELATION_META", "Storages", "open_storages"]

ENTITY_META = frozenset({"entity_name", "entity_type", "source_id", "file_path", "content"})
RELATION_META = frozenset(
    {"src_id", "tgt_id", "keywords", "description", "weight", "source_id", "file_path", "content"}
)
CHUNK_META = frozenset({"full_doc_id", "chunk_order_index", "tokens", "file_path", "content"})


@dataclass
class Storages:
    """Every namespace the engine reads and writes."""

    full_docs: KVStorage  # doc id -> {"content", "file_path"}
    text_chunks: KVStorage  # chunk id -> ChunkRecord
    llm_cache: KVStorage  # cache key -> {"return", ...}
    full_entities: KVStorage  # doc id -> {"entity_names": [...]} (for deletion)
    full_relations: KVStorage  # doc id -> {"relation_pairs": [[src, tgt], ...]}
    entities_vdb: VectorStorage
    relationships_vdb: VectorStorage
    chunks_vdb: VectorStorage
    graph: GraphStorage
    doc_status: DocStatusStorage

    def all(self) -> list[Any]:
        return [getattr(self, f.name) for f in fields(self)]

    async def _each(self, action: Callable[[Any], Awaitable[None]]) -> None:
        await asyncio.gather(*(action(storage) for storage in self.all()))

    async def initialize(self) -> None:
        await self._each(lambda s: s.initialize())

    async def index_done(self) -> None:
        await self._each(lambda s: s.index_done())

    async def finalize(self) -> None:
        await self._each(lambda s: s.finalize())

    async def drop(self) -> None:
        await self._each(lambda s: s.drop())


def _open(
    role: StorageRole,
    choice: BackendChoice,
    working_dir: Path,
    workspace: str,
    namespace: str,
    **ctx_extra: Any,
) -> Any:
    cls = storage_registry(role).load(choice.type)
    ctx = StorageContext(
        working_dir=working_dir, namespace=namespace, workspace=workspace, **ctx_extra
    )
    return cls(ctx, choice.params())


def open_storages(
    config: StorageConfig,
    *,
    working_dir: Path,
    workspace: str,
    embedding_dim: int,
    cosine_threshold: float,
) -> Storages:
    """Build (not yet initialise) every storage from config. Raises registry errors."""

    def kv(namespace: str) -> Any:
        return _open("kv", config.kv, working_dir, workspace, namespace)

    def vdb(namespace: str, meta: frozenset[str]) -> Any:
        return _open(
            "vector",
            config.vector,
            working_dir,
            workspace,
            namespace,
            embedding_dim=embedding_dim,
            cosine_threshold=cosine_threshold,
            meta_fields=meta,
        )

    return Storages(
        full_docs=kv("full_docs"),
        text_chunks=kv("text_chunks"),
        llm_cache=kv("llm_response_cache"),
        full_entities=kv("full_entities"),
        full_relations=kv("full_relations"),
        entities_vdb=vdb("entities", ENTITY_META),
        relationships_vdb=vdb("relationships", RELATION_META),
        chunks_vdb=vdb("chunks", CHUNK_META),
        graph=_open("graph", config.graph, working_dir, workspace, "chunk_entity_relation"),
        doc_status=_open("doc_status", config.doc_status, working_dir, workspace, "doc_status"),
    )
