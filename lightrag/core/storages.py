"""The set of storages one engine uses (built by ``lightrag.compose.open_storages``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any

from lightrag.vocabulary.storage import DocStatusStorage, GraphStorage, KVStorage, VectorStorage

__all__ = ["CHUNK_META", "ENTITY_META", "RELATION_META", "Storages"]

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

    def named(self) -> list[tuple[str, Any]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

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
