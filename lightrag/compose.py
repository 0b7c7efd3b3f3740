"""The composition root: a validated config in, an engine of registry-chosen parts out.

Only this module (with the server and the CLI above it) turns names into classes:
the engine knows the protocols of ``lightrag.vocabulary``, never a backend.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from typing import Any

from lightrag.config.models import AppConfig, BackendChoice, StorageConfig
from lightrag.core.engine import LightRAG
from lightrag.core.storages import CHUNK_META, ENTITY_META, RELATION_META, Storages
from lightrag.registry.coordination import coordination_registry
from lightrag.registry.models import chat_registry, embedding_registry
from lightrag.registry.storage import StorageRole, storage_registry
from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.coordination import CoordinationContext, Coordinator
from lightrag.vocabulary.models import ChatModel, EmbeddingModel
from lightrag.vocabulary.storage import StorageContext

__all__ = [
    "DEFAULT_COSINE_THRESHOLD",
    "build_engine",
    "cosine_threshold",
    "open_coordinator",
    "open_kv",
    "open_storages",
    "replica_id",
]

DEFAULT_COSINE_THRESHOLD = 0.2
"""The public project's default, for embedding models that declare no calibrated value."""


def build_engine(
    app: AppConfig,
    *,
    llm: ChatModel | None = None,
    embedding: EmbeddingModel | None = None,
    clients: ClientHub | None = None,
    workspace: str | None = None,
    owns_models: bool = True,
) -> LightRAG:
    """Build storages and models by registry name from a validated ``AppConfig``.

    ``clients`` shares database pools with other engines (one hub per server);
    by default the engine gets a hub of its own. ``workspace`` (default
    ``app.server.workspace``) scopes every storage and the coordinator;
    ``owns_models=False`` leaves given models open when the engine finalizes.
    """
    scope = app.server.workspace if workspace is None else workspace
    if embedding is None:
        embedding = embedding_registry.load(app.embedding.type)(app.embedding.params())
    if llm is None:
        llm = chat_registry.load(app.llm.type)(app.llm.params())
    assert embedding is not None and llm is not None
    hub = clients if clients is not None else ClientHub()
    storages = open_storages(
        app.storage,
        working_dir=Path(app.server.working_dir),
        workspace=scope,
        embedding_dim=embedding.dim,
        cosine_threshold=cosine_threshold(app.rag.cosine_threshold, embedding),
        clients=hub,
    )
    coordinator = open_coordinator(app.coordination, workspace=scope, clients=hub)
    return LightRAG(
        config=app.rag,
        storages=storages,
        llm=llm,
        embedding=embedding,
        coordinator=coordinator,
        owns_models=owns_models,
    )


def cosine_threshold(configured: float | None, embedding: object) -> float:
    """The least similarity a vector match needs: ``configured`` when set, else the
    embedding model's calibrated ``relevance_threshold`` (an attribute a model may
    declare, measured by ``benchmarks/abstention.py``), else ``DEFAULT_COSINE_THRESHOLD``.

    Below it a question shares nothing with the indexed text, so retrieval finds
    nothing and the answer says the knowledge base has no information."""
    if configured is not None:
        return configured
    calibrated = getattr(embedding, "relevance_threshold", None)
    return float(calibrated) if calibrated is not None else DEFAULT_COSINE_THRESHOLD


def replica_id() -> str:
    """A name for this process among the replicas: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def open_coordinator(
    choice: BackendChoice, *, workspace: str, clients: ClientHub | None = None
) -> Coordinator:
    """Build (not yet initialise) the coordinator chosen by ``choice``."""
    cls = coordination_registry.load(choice.type)
    ctx = CoordinationContext(
        workspace=workspace,
        replica_id=replica_id(),
        clients=clients if clients is not None else ClientHub(),
    )
    coordinator: Coordinator = cls(ctx, choice.params())
    return coordinator


def _open(
    role: StorageRole,
    choice: BackendChoice,
    working_dir: Path,
    workspace: str,
    namespace: str,
    clients: ClientHub,
    **ctx_extra: Any,
) -> Any:
    cls = storage_registry(role).load(choice.type)
    ctx = StorageContext(
        working_dir=working_dir,
        namespace=namespace,
        workspace=workspace,
        clients=clients,
        **ctx_extra,
    )
    return cls(ctx, choice.params())


def open_kv(
    choice: BackendChoice,
    *,
    working_dir: Path,
    workspace: str,
    namespace: str,
    clients: ClientHub | None = None,
) -> Any:
    """Build (not yet initialise) one KV storage of backend ``choice`` (a ``KVStorage``)."""
    hub = clients if clients is not None else ClientHub()
    return _open("kv", choice, working_dir, workspace, namespace, hub)


def open_storages(
    config: StorageConfig,
    *,
    working_dir: Path,
    workspace: str,
    embedding_dim: int,
    cosine_threshold: float,
    clients: ClientHub | None = None,
) -> Storages:
    """Build (not yet initialise) every storage from config. Raises registry errors.

    Storages on one database share one client from ``clients``.
    """
    hub = clients if clients is not None else ClientHub()

    def kv(namespace: str) -> Any:
        return _open("kv", config.kv, working_dir, workspace, namespace, hub)

    def vdb(namespace: str, meta: frozenset[str]) -> Any:
        return _open(
            "vector",
            config.vector,
            working_dir,
            workspace,
            namespace,
            hub,
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
        graph=_open("graph", config.graph, working_dir, workspace, "chunk_entity_relation", hub),
        doc_status=_open(
            "doc_status", config.doc_status, working_dir, workspace, "doc_status", hub
        ),
    )
