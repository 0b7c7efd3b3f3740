"""``LightRAG``: the engine facade the server (and library users) call.

It owns the storages and models and delegates to one part per concern:
``Pipeline`` (enqueue, index, resume, delete), ``QueryEngine`` (keywords,
retrieval, context, answers) and ``GraphEditor`` (knowledge-graph access and edits).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lightrag.config.models import RagConfig
from lightrag.core.cache import LLMCache
from lightrag.core.context import EngineContext
from lightrag.core.kg_edit import GraphEditor
from lightrag.core.pipeline import Pipeline, PipelineStatus
from lightrag.core.query import QueryEngine
from lightrag.core.storages import Storages
from lightrag.core.tokenizer import get_tokenizer
from lightrag.vocabulary.models import ChatModel, EmbeddingModel
from lightrag.vocabulary.types import (
    DeletionResult,
    EnqueueResult,
    KnowledgeGraph,
    QueryParam,
    QueryResult,
    RetrievedContext,
    StreamingAnswer,
)

__all__ = ["LightRAG"]


class LightRAG:
    """Graph-based RAG over pluggable storages and models.

    Build with ``lightrag.compose.build_engine(app_config)`` or directly from parts; call
    ``await initialize()`` before use and ``await finalize()`` at the end (or use
    ``async with``).
    """

    def __init__(
        self,
        *,
        config: RagConfig,
        storages: Storages,
        llm: ChatModel,
        embedding: EmbeddingModel,
    ) -> None:
        self.config = config
        self.ctx = EngineContext(
            config=config,
            storages=storages,
            llm=llm,
            embedding=embedding,
            tokenizer=get_tokenizer(config.tokenizer_encoding),
            cache=LLMCache(storages.llm_cache, enabled=config.enable_llm_cache),
        )
        self.pipeline = Pipeline(self.ctx)
        self.query_engine = QueryEngine(self.ctx)
        self.graph = GraphEditor(self.ctx, locks=self.pipeline.merger.locks)

    @property
    def storages(self) -> Storages:
        return self.ctx.storages

    # lifecycle -----------------------------------------------------------------

    async def initialize(self) -> None:
        """Open every storage. Documents left pending/processing/failed by a crash are
        resumed by the next ``process_queue`` or ``start_processing``."""
        await self.ctx.storages.initialize()

    async def finalize(self) -> None:
        """Wait for no new work, persist and close storages and model clients."""
        await self.pipeline.shutdown()
        await self.ctx.storages.finalize()
        await self.ctx.llm.aclose()
        await self.ctx.embedding.aclose()

    async def __aenter__(self) -> LightRAG:
        await self.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.finalize()

    # documents -------------------------------------------------------------------

    async def enqueue(
        self,
        texts: Sequence[str],
        *,
        ids: Sequence[str] | None = None,
        file_paths: Sequence[str] | None = None,
        track_id: str | None = None,
    ) -> EnqueueResult:
        """Record documents as ``pending`` (id = content hash unless given); skip duplicates."""
        return await self.pipeline.enqueue(texts, ids=ids, file_paths=file_paths, track_id=track_id)

    async def process_queue(self) -> None:
        """Index every pending, processing (crashed) and failed document; returns when done."""
        await self.pipeline.process()

    async def insert(
        self,
        texts: str | Sequence[str],
        *,
        ids: Sequence[str] | None = None,
        file_paths: Sequence[str] | None = None,
    ) -> EnqueueResult:
        """Enqueue and index documents; returns when they are processed (or failed)."""
        batch = [texts] if isinstance(texts, str) else list(texts)
        result = await self.enqueue(batch, ids=ids, file_paths=file_paths)
        await self.process_queue()
        return result

    def start_processing(self) -> bool:
        """Index the queue in the background; ``False`` when a run is already going
        (that run picks up the new documents before it ends)."""
        return self.pipeline.start()

    @property
    def pipeline_status(self) -> PipelineStatus:
        return self.pipeline.status

    async def cancel_pipeline(self) -> bool:
        """Ask the running pipeline to stop; unfinished documents go back to ``pending``."""
        return await self.pipeline.cancel()

    async def reprocess_failed(self) -> int:
        """Move failed documents back to pending and start processing; returns how many."""
        return await self.pipeline.reprocess_failed()

    async def delete_document(self, doc_id: str) -> DeletionResult:
        """Delete a document, its chunks and vectors, and what only it sourced in the graph;
        rebuild descriptions of shared entities and relations from their other sources."""
        return await self.pipeline.delete_document(doc_id)

    async def clear(self) -> None:
        """Drop every storage (documents, chunks, graph, vectors, status, cache)."""
        await self.pipeline.shutdown()
        await self.ctx.storages.drop()

    async def clear_cache(self, modes: Sequence[str] | None = None) -> int:
        return await self.ctx.cache.clear(modes)

    # queries ---------------------------------------------------------------------

    async def query(self, text: str, param: QueryParam | None = None) -> QueryResult:
        """Answer ``text`` in ``param.mode`` (``only_need_context``/``only_need_prompt``
        return the context or prompt as ``response`` without calling the LLM)."""
        return await self.query_engine.query(text, param or QueryParam())

    async def query_stream(self, text: str, param: QueryParam | None = None) -> StreamingAnswer:
        return await self.query_engine.query_stream(text, param or QueryParam())

    async def retrieve(self, text: str, param: QueryParam | None = None) -> RetrievedContext:
        """Retrieval only: keywords, entities, relationships, chunks, references."""
        return await self.query_engine.retrieve(text, param or QueryParam())

    # knowledge graph ---------------------------------------------------------------

    async def get_knowledge_graph(
        self, label: str, *, max_depth: int = 3, max_nodes: int | None = None
    ) -> KnowledgeGraph:
        limit = max_nodes if max_nodes is not None else self.config.max_graph_nodes
        return await self.ctx.storages.graph.subgraph(label, max_depth, limit)

    async def graph_labels(self) -> list[str]:
        return await self.ctx.storages.graph.all_labels()

    async def popular_labels(self, limit: int = 300) -> list[str]:
        return await self.ctx.storages.graph.popular_labels(limit)

    async def search_labels(self, query: str, limit: int = 50) -> list[str]:
        return await self.ctx.storages.graph.search_labels(query, limit)

    async def entity_exists(self, name: str) -> bool:
        return await self.graph.entity_exists(name)

    async def create_entity(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        return await self.graph.create_entity(name, data)

    async def edit_entity(
        self, name: str, updates: dict[str, Any], *, allow_rename: bool = True
    ) -> dict[str, Any]:
        return await self.graph.edit_entity(name, updates, allow_rename=allow_rename)

    async def delete_entity(self, name: str) -> bool:
        return await self.graph.delete_entity(name)

    async def create_relation(
        self, source: str, target: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        return await self.graph.create_relation(source, target, data)

    async def edit_relation(
        self, source: str, target: str, updates: dict[str, Any]
    ) -> dict[str, Any]:
        return await self.graph.edit_relation(source, target, updates)

    async def delete_relation(self, source: str, target: str) -> bool:
        return await self.graph.delete_relation(source, target)

    async def merge_entities(self, sources: Sequence[str], target: str) -> dict[str, Any]:
        return await self.graph.merge_entities(sources, target)
