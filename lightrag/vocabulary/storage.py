"""Storage protocols: what every backend of each role must do.

A backend is a class built as ``cls(ctx: StorageContext, params: Mapping[str, Any])``
where ``params`` are the backend's own connection parameters (validated by the
backend into its pydantic ``...Config`` model). All methods are async; none may
block the event loop. Every backend is scoped by ``ctx.workspace`` and
``ctx.namespace``: two namespaces (or workspaces) never see each other's data.

Lifecycle: ``await initialize()`` once before use, ``await index_done()`` after a
batch of writes (file backends persist here), ``await finalize()`` on shutdown.

Database backends share one client (connection pool) per database through
``ctx.clients`` (a ``ClientHub``): every namespace's storage asks the hub for the
client of its connection parameters, so ten namespaces on one PostgreSQL open one
pool, not ten. A backend whose data other processes see at once (a database, as
opposed to a file loaded into memory) sets ``shared = True``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from lightrag.vocabulary.clients import ClientHub
    from lightrag.vocabulary.types import KnowledgeGraph

__all__ = [
    "DocStatusStorage",
    "GraphStorage",
    "KVStorage",
    "StorageContext",
    "VectorStorage",
]


def _new_client_hub() -> ClientHub:
    from lightrag.vocabulary.clients import ClientHub  # asyncio only when a storage is built

    return ClientHub()


@dataclass(frozen=True, slots=True)
class StorageContext:
    """Where a storage lives and what it holds.

    ``working_dir`` is the root for file backends (they write under
    ``working_dir / workspace`` when ``workspace`` is not empty).
    ``embedding_dim`` and ``cosine_threshold`` matter to vector storages only.
    ``meta_fields`` names the metadata fields a vector storage must keep and return.
    ``clients`` hands out the shared connection pools (one hub per server).
    """

    working_dir: Path
    namespace: str
    workspace: str = ""
    embedding_dim: int = 0
    cosine_threshold: float = 0.2
    meta_fields: frozenset[str] = field(default_factory=frozenset)
    clients: ClientHub = field(default_factory=_new_client_hub, compare=False)


@runtime_checkable
class _Lifecycle(Protocol):
    ctx: StorageContext
    # True when another instance (another process) on the same namespace and
    # workspace sees this one's writes as soon as they return (databases); False
    # for stores loaded into one process's memory (the file backends).
    shared: ClassVar[bool]

    async def initialize(self) -> None:
        """Open connections, create tables/collections/files if missing. Idempotent."""

    async def finalize(self) -> None:
        """Flush and close. Idempotent."""

    async def index_done(self) -> None:
        """Called after a batch of writes; file backends persist here (atomically)."""

    async def drop(self) -> None:
        """Remove every record of this namespace and workspace (and persist that)."""


@runtime_checkable
class KVStorage(_Lifecycle, Protocol):
    """Key -> JSON object store (full docs, chunks, LLM cache, ...)."""

    async def get(self, key: str) -> dict[str, Any] | None:
        """The record, or ``None`` when the key is unknown."""

    async def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        """Records in the order of ``keys``; ``None`` for unknown keys."""

    async def missing_keys(self, keys: Sequence[str]) -> set[str]:
        """The subset of ``keys`` not stored."""

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        """Insert or replace whole records by key. Idempotent."""

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove records; unknown keys are ignored."""

    async def keys(self) -> list[str]:
        """Every key of this namespace."""

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every record whose key starts with ``prefix``; returns how many went.

        Backends do this without listing every key to the caller (the LLM cache
        is cleared by mode this way: its keys start with ``"{mode}:"``).
        """

    async def is_empty(self) -> bool: ...


@runtime_checkable
class VectorStorage(_Lifecycle, Protocol):
    """Id -> (vector, metadata) store with cosine similarity search.

    Vectors are computed by the engine (batched) and passed in; a storage never
    calls an embedding model itself.
    """

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        """Insert or replace records; ``vectors[i]`` belongs to the i-th key of ``records``.

        Each record holds metadata fields (those in ``ctx.meta_fields`` are kept).
        Raises ``ValueError`` when a vector's dimension is not ``ctx.embedding_dim``.
        """

    async def query(
        self,
        vector: np.ndarray,
        top_k: int,
        *,
        threshold: float | None = None,
        filters: Mapping[str, Collection[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Up to ``top_k`` best matches, best first, each ``{"id", "score", **meta}``.

        Matches whose cosine similarity is below ``threshold`` (default
        ``ctx.cosine_threshold``) are left out. ``filters`` keeps only records whose
        metadata field equals one of the given values for every field named
        (``{"full_doc_id": ["doc-1", "doc-2"]}``); the top ``top_k`` are taken among
        the records that pass, not before filtering. A field that is not in
        ``ctx.meta_fields`` raises ``ValueError``.
        """

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Metadata records (with ``"id"``) in the order of ``ids``; ``None`` when unknown."""

    async def delete(self, ids: Sequence[str]) -> None:
        """Remove records; unknown ids are ignored."""

    async def count(self) -> int: ...


@runtime_checkable
class GraphStorage(_Lifecycle, Protocol):
    """Undirected property graph: entities are nodes (id = entity name), relations edges.

    Edge operations treat ``(a, b)`` and ``(b, a)`` as the same edge.
    Node and edge properties are flat JSON-compatible dicts.
    """

    async def has_node(self, node_id: str) -> bool: ...

    async def has_edge(self, source: str, target: str) -> bool: ...

    async def get_node(self, node_id: str) -> dict[str, Any] | None: ...

    async def get_edge(self, source: str, target: str) -> dict[str, Any] | None: ...

    async def get_nodes(self, node_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Properties of the known nodes among ``node_ids`` (unknown ones are left out)."""

    async def get_edges(
        self, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Properties of known edges, keyed by the pair as asked."""

    async def node_degree(self, node_id: str) -> int:
        """Number of edges at the node; 0 for an unknown node."""

    async def node_degrees(self, node_ids: Sequence[str]) -> dict[str, int]: ...

    async def edge_degree(self, source: str, target: str) -> int:
        """``node_degree(source) + node_degree(target)``."""

    async def get_node_edges(self, node_id: str) -> list[tuple[str, str]]:
        """Edges at the node as ``(node_id, neighbour)``; empty for an unknown node."""

    async def get_nodes_edges(
        self, node_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, str]]]: ...

    async def upsert_node(self, node_id: str, data: dict[str, Any]) -> None:
        """Create the node or replace its properties."""

    async def upsert_edge(self, source: str, target: str, data: dict[str, Any]) -> None:
        """Create the edge or replace its properties. Endpoints must exist (else ``KeyError``)."""

    async def upsert_nodes(self, nodes: Mapping[str, dict[str, Any]]) -> None:
        """``upsert_node`` for many nodes in one call (one round trip for databases)."""

    async def upsert_edges(self, edges: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """``upsert_edge`` for many ``(source, target, data)`` in one call.

        Every endpoint must exist before the call (else ``KeyError``, and no edge of
        the batch is written); a pair given twice keeps the last data.
        """

    async def delete_node(self, node_id: str) -> None:
        """Remove the node and its edges; unknown ids are ignored."""

    async def delete_nodes(self, node_ids: Sequence[str]) -> None:
        """``delete_node`` for many nodes in one call; unknown ids are ignored."""

    async def delete_edges(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Remove edges; unknown pairs are ignored."""

    async def node_count(self) -> int: ...

    async def all_labels(self) -> list[str]:
        """Every node id, sorted."""

    async def popular_labels(self, limit: int) -> list[str]:
        """Node ids by degree, highest first (ties by id)."""

    async def search_labels(self, query: str, limit: int) -> list[str]:
        """Node ids containing ``query`` case-insensitively; exact and prefix matches first."""

    async def subgraph(self, label: str, max_depth: int, max_nodes: int) -> KnowledgeGraph:
        """Breadth-first neighbourhood of ``label`` (``"*"`` = whole graph, by degree).

        At most ``max_nodes`` nodes; ``is_truncated`` says whether nodes were left out.
        An unknown label gives an empty graph.
        """


@runtime_checkable
class DocStatusStorage(KVStorage, Protocol):
    """Per-document pipeline state (records shaped like ``DocStatusRecord``)."""

    async def status_counts(self) -> dict[str, int]:
        """Count of documents per status (every status of ``DocStatus`` present, 0 allowed)."""

    async def by_status(
        self,
        statuses: Sequence[str],
        *,
        limit: int | None = None,
        after_id: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Records whose status is one of ``statuses``, keyed by doc id, in doc-id order.

        Paged by key: at most ``limit`` records (all when ``None``) whose id is
        greater than ``after_id``; pass the last id of one page to get the next.
        """

    async def by_track_id(self, track_id: str) -> dict[str, dict[str, Any]]: ...

    async def paginated(
        self,
        *,
        statuses: Sequence[str] | None,
        page: int,
        page_size: int,
        sort_field: str = "updated_at",
        sort_desc: bool = True,
    ) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        """One page (1-based) of ``(doc_id, record)`` and the total count matching ``statuses``.

        ``sort_field`` is one of ``updated_at``, ``created_at``, ``id``, ``file_path``.
        """
