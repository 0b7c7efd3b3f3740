"""``LightRAG``: the engine facade the server (and library users) call.

It owns the storages and models and delegates to one part per concern:
``Pipeline`` (enqueue, index, resume, delete), ``QueryEngine`` (keywords,
retrieval, context, answers) and ``GraphEditor`` (knowledge-graph access and edits).
The server uses only this facade (its methods, ``pipeline_status`` and the errors
exported here), never ``ctx``, ``storages`` or the parts; ``tests/unit/test_layering.py``
holds it to that.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from lightrag.config.models import RagConfig
from lightrag.core.cache import LLMCache
from lightrag.core.context import EngineContext
from lightrag.core.kg_edit import (
    GraphConflictError,
    GraphEditError,
    GraphEditor,
    GraphNotFoundError,
)
from lightrag.core.local_coordination import LocalCoordinator
from lightrag.core.pipeline import Pipeline, PipelineStatus
from lightrag.core.pipeline_status import merged, snapshot
from lightrag.core.query import QueryEngine
from lightrag.core.replica_watch import ReplicaWatch
from lightrag.core.shutdown import finish_reporting
from lightrag.core.storages import Storages
from lightrag.core.tokenizer import get_tokenizer
from lightrag.vocabulary.coordination import Coordinator
from lightrag.vocabulary.models import ChatModel, EmbeddingModel
from lightrag.vocabulary.priority import Priority, at_query_priority, running_at
from lightrag.vocabulary.types import (
    DeletionResult,
    DocStatus,
    EnqueueResult,
    KnowledgeGraph,
    Message,
    QueryParam,
    QueryResult,
    RetrievedContext,
    StreamingAnswer,
)

__all__ = [
    "GraphConflictError",
    "GraphEditError",
    "GraphNotFoundError",
    "LightRAG",
    "finish_reporting",
]

_ALL_STATUSES = tuple(member.value for member in DocStatus)


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
        coordinator: Coordinator | None = None,
        owns_models: bool = True,
    ) -> None:
        """``coordinator`` shares claims, locks and status with other replicas; the
        default (``LocalCoordinator``) is for one process alone. ``owns_models=False``
        leaves the models open at ``finalize`` (engines of one server share them)."""
        self.config = config
        self.owns_models = owns_models
        self.coordinator: Coordinator = coordinator or LocalCoordinator()
        self.ctx = EngineContext(
            config=config,
            storages=storages,
            llm=llm,
            embedding=embedding,
            tokenizer=get_tokenizer(config.tokenizer_encoding),
            cache=LLMCache(storages.llm_cache, enabled=config.enable_llm_cache),
        )
        self.pipeline = Pipeline(self.ctx, self.coordinator)
        self.query_engine = QueryEngine(self.ctx)
        self.graph_editor = GraphEditor(self.ctx, locks=self.coordinator)
        self.replica_watch = ReplicaWatch(self.pipeline, self.coordinator)

    @property
    def storages(self) -> Storages:
        """The storages, for library users and tests; the server does not use them."""
        return self.ctx.storages

    # lifecycle -----------------------------------------------------------------

    async def load_models(self) -> None:
        """Await ``load()`` on the chat and embedding models that have one (optional in
        the model protocols: an embedded model loads its weights there). Its error
        propagates, so a caller can refuse to start."""
        for model in (self.ctx.llm, self.ctx.embedding):
            load = getattr(model, "load", None)
            if callable(load):
                await load()

    @property
    def single_process(self) -> bool:
        """Whether any storage keeps its data in this process alone (the file backends
        declare ``single_process = True``): then no other process may use its directory."""
        return any(
            getattr(type(storage), "single_process", False) for storage in self.ctx.storages.all()
        )

    async def check_ready(self) -> None:
        """Return once the storages answer a cheap read (the document status counts).

        Raises whatever the backend raises when it cannot answer (drivers raise their
        own error types); the caller bounds the wait."""
        await self.ctx.storages.doc_status.status_counts()
        await self.coordinator.check()

    async def initialize(self) -> None:
        """Open every storage and the coordinator. Documents left pending/processing/failed
        by a crash are resumed by the next ``process_queue`` or ``start_processing``; with
        shared coordination every replica also watches for work (``ReplicaWatch``)."""
        await self.ctx.storages.initialize()
        await self.coordinator.initialize()
        if self.coordinator.shared:
            self.replica_watch.start()

    async def finalize(self) -> None:
        """Wait for no new work, persist and close storages, coordinator and model clients.

        Each step is waited for to its end (a storage persisting must not be cut short);
        a step still running after ``shutdown.SLOW_STEP_SECONDS`` is logged by name."""
        await finish_reporting("replica watch", self.replica_watch.stop())
        await finish_reporting("pipeline", self.pipeline.shutdown())
        await finish_reporting("coordinator", self.coordinator.finalize())
        storages = self.ctx.storages
        await asyncio.gather(
            *(
                finish_reporting(f"storage {name} ({type(storage).__name__})", storage.finalize())
                for name, storage in storages.named()
            )
        )
        if self.owns_models:
            await finish_reporting("chat model client", self.ctx.llm.aclose())
            await finish_reporting("embedding model client", self.ctx.embedding.aclose())

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
    def processing(self) -> bool:
        """Whether a pipeline run (started by ``start_processing``) has not ended yet."""
        return self.pipeline.running

    @property
    def pipeline_status(self) -> PipelineStatus:
        """This process's pipeline status (``deployment_status`` covers every replica)."""
        return self.pipeline.status

    async def deployment_status(self) -> PipelineStatus:
        """The pipeline status of the deployment: this process's alone, or with shared
        coordination every live replica's merged (this one's as of now)."""
        if not self.coordinator.shared:
            return self.pipeline.status
        own = snapshot(self.pipeline.status, self.coordinator.replica_id)
        others = [
            s for s in await self.coordinator.statuses() if s.get("replica") != own["replica"]
        ]
        return merged([own, *others])

    async def cancel_pipeline(self) -> bool:
        """Ask the running pipeline (every replica's, with shared coordination) to stop;
        unfinished documents go back to ``pending``. Returns whether any was running."""
        if not self.coordinator.shared:
            return await self.pipeline.cancel()
        busy = (await self.deployment_status()).busy
        await self.coordinator.request_cancel()
        return await self.pipeline.cancel() or busy

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
        """Delete the LLM cache entries of ``modes`` (all when ``None``); returns how many."""
        return await self.ctx.cache.clear(modes)

    # document status ---------------------------------------------------------------

    async def document_counts(self) -> dict[str, int]:
        """Documents per status, every ``DocStatus`` value present (0 when none)."""
        counts = dict.fromkeys(_ALL_STATUSES, 0)
        counts.update(await self.ctx.storages.doc_status.status_counts())
        return counts

    async def all_documents(self) -> dict[str, dict[str, Any]]:
        """Every document's status record, keyed by doc id in doc-id order."""
        return await self.ctx.storages.doc_status.by_status(_ALL_STATUSES)

    async def documents(self, doc_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Status records in the order of ``doc_ids``; ``None`` for an unknown id."""
        return await self.ctx.storages.doc_status.get_many(doc_ids)

    async def documents_by_track_id(self, track_id: str) -> dict[str, dict[str, Any]]:
        """Status records of the documents enqueued under ``track_id`` (empty when none)."""
        return await self.ctx.storages.doc_status.by_track_id(track_id)

    async def documents_page(
        self,
        *,
        statuses: Sequence[str] | None,
        page: int,
        page_size: int,
        sort_field: str = "updated_at",
        sort_desc: bool = True,
    ) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        """One page (1-based) of ``(doc_id, record)`` whose status is one of ``statuses``
        (any when ``None``), and the total count that matches; ``sort_field`` is one of
        ``updated_at``, ``created_at``, ``id``, ``file_path``."""
        return await self.ctx.storages.doc_status.paginated(
            statuses=statuses,
            page=page,
            page_size=page_size,
            sort_field=sort_field,
            sort_desc=sort_desc,
        )

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

    # the configured chat model, without retrieval ------------------------------------

    async def chat(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        max_tokens: int | None = None,
    ) -> str:
        """The configured chat model's whole answer to ``prompt`` after ``history``: no
        retrieval, no LLM cache; at query priority. Raises ``ModelError`` when the call
        fails."""
        with running_at(Priority.QUERY):
            return await self.ctx.llm.complete(
                prompt, system_prompt=system_prompt, history=history, max_tokens=max_tokens
            )

    def chat_stream(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        """``chat`` as text pieces (at query priority); closing the iterator cancels the
        request."""
        return at_query_priority(
            self.ctx.llm.stream(
                prompt, system_prompt=system_prompt, history=history, max_tokens=max_tokens
            )
        )

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the engine's tokenizer (an estimate of the model's count)."""
        return self.ctx.tokenizer.count(text) if text else 0

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
        return await self.graph_editor.entity_exists(name)

    async def resolve_entity(self, name: str) -> str | None:
        """The stored name of entity ``name`` (matched case-insensitively), or ``None``.

        Raises ``GraphEditError`` for a name that is empty once cleaned."""
        return await self.graph_editor.resolve(name)

    async def create_entity(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        return await self.graph_editor.create_entity(name, data)

    async def edit_entity(
        self, name: str, updates: dict[str, Any], *, allow_rename: bool = True
    ) -> dict[str, Any]:
        return await self.graph_editor.edit_entity(name, updates, allow_rename=allow_rename)

    async def delete_entity(self, name: str) -> bool:
        return await self.graph_editor.delete_entity(name)

    async def create_relation(
        self, source: str, target: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        return await self.graph_editor.create_relation(source, target, data)

    async def edit_relation(
        self, source: str, target: str, updates: dict[str, Any]
    ) -> dict[str, Any]:
        return await self.graph_editor.edit_relation(source, target, updates)

    async def delete_relation(self, source: str, target: str) -> bool:
        return await self.graph_editor.delete_relation(source, target)

    async def merge_entities(self, sources: Sequence[str], target: str) -> dict[str, Any]:
        return await self.graph_editor.merge_entities(sources, target)
