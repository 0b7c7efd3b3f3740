"""Data types shared by the engine, the storages and the server.

Records that live in storages are plain ``dict``s (JSON-serialisable); the
``TypedDict``s below document their fields. Values passed between engine
parts are dataclasses or pydantic models.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict

from pydantic import BaseModel, Field

__all__ = [
    "GRAPH_FIELD_SEP",
    "ChunkRecord",
    "DeletionResult",
    "DocStatus",
    "DocStatusRecord",
    "EnqueueResult",
    "ExtractedEntity",
    "ExtractedRelation",
    "Extraction",
    "KnowledgeGraph",
    "KnowledgeGraphEdge",
    "KnowledgeGraphNode",
    "Message",
    "QueryMode",
    "QueryParam",
    "QueryResult",
    "Reference",
    "RetrievedContext",
    "StreamingAnswer",
]

GRAPH_FIELD_SEP = "<SEP>"
"""Joins multi-valued string fields (source chunk ids, file paths) as upstream does."""

QueryMode = Literal["local", "global", "hybrid", "naive", "mix", "bypass"]


class Message(TypedDict):
    """One chat turn: ``{"role": "user" | "assistant" | "system", "content": str}``."""

    role: str
    content: str


class DocStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"


class DocStatusRecord(TypedDict):
    """A document's pipeline state as stored by a doc-status storage (keyed by doc id)."""

    status: str
    content_summary: str
    content_length: int
    file_path: str
    created_at: str  # ISO 8601, UTC
    updated_at: str
    track_id: str
    chunks_count: NotRequired[int | None]
    chunks_list: NotRequired[list[str]]
    error_msg: NotRequired[str | None]
    metadata: NotRequired[dict[str, Any]]


class ChunkRecord(TypedDict):
    """A text chunk as stored in the ``text_chunks`` KV namespace (keyed by chunk id)."""

    content: str
    tokens: int
    chunk_order_index: int
    full_doc_id: str
    file_path: str
    extraction: NotRequired[dict[str, Any]]  # parsed extraction, kept for delete-rebuild


@dataclass(slots=True)
class ExtractedEntity:
    """One entity as extracted from one chunk, before merging."""

    name: str
    type: str
    description: str
    source_id: str  # chunk id
    file_path: str = ""


@dataclass(slots=True)
class ExtractedRelation:
    """One undirected relation as extracted from one chunk, before merging."""

    source: str
    target: str
    description: str
    keywords: str
    weight: float
    source_id: str  # chunk id
    file_path: str = ""


@dataclass(slots=True)
class Extraction:
    """What one chunk yielded: entities and relations (possibly empty)."""

    entities: list[ExtractedEntity] = field(default_factory=list)
    relations: list[ExtractedRelation] = field(default_factory=list)


class QueryParam(BaseModel):
    """Parameters of one query. Defaults follow the upstream server's request defaults."""

    mode: QueryMode = "mix"
    only_need_context: bool = False
    only_need_prompt: bool = False
    response_type: str = "Multiple Paragraphs"
    stream: bool = False
    top_k: int = Field(default=40, ge=1, le=1000)
    chunk_top_k: int = Field(default=20, ge=1, le=1000)
    max_entity_tokens: int = Field(default=6000, ge=0)
    max_relation_tokens: int = Field(default=8000, ge=0)
    max_total_tokens: int = Field(default=30000, ge=1)
    hl_keywords: list[str] = Field(default_factory=list)
    ll_keywords: list[str] = Field(default_factory=list)
    conversation_history: list[dict[str, str]] = Field(default_factory=list)
    history_turns: int = Field(default=3, ge=0)
    user_prompt: str | None = None
    include_references: bool = True


class Reference(BaseModel):
    """A source the answer drew on: a numbered document (by file path)."""

    reference_id: str
    file_path: str
    doc_id: str | None = None
    content: list[str] | None = None


class RetrievedContext(BaseModel):
    """What retrieval found, before the answer is generated."""

    mode: QueryMode
    high_level_keywords: list[str] = Field(default_factory=list)
    low_level_keywords: list[str] = Field(default_factory=list)
    entities: list[dict[str, Any]] = Field(default_factory=list)
    relationships: list[dict[str, Any]] = Field(default_factory=list)
    chunks: list[dict[str, Any]] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.entities or self.relationships or self.chunks)


class QueryResult(BaseModel):
    """A complete (non-streamed) answer."""

    response: str
    references: list[Reference] = Field(default_factory=list)
    context: RetrievedContext | None = None
    llm_generated: bool = True
    cached: bool = False


class EnqueueResult(BaseModel):
    """What ``enqueue`` accepted: the new document ids, the skipped duplicates, a track id."""

    track_id: str
    doc_ids: list[str] = Field(default_factory=list)
    duplicates: list[str] = Field(default_factory=list)


class DeletionResult(BaseModel):
    status: Literal["success", "not_found", "fail"]
    doc_id: str
    message: str
    entities_deleted: int = 0
    relations_deleted: int = 0
    entities_rebuilt: int = 0
    relations_rebuilt: int = 0


class KnowledgeGraphNode(BaseModel):
    id: str
    labels: list[str]
    properties: dict[str, Any] = Field(default_factory=dict)


class KnowledgeGraphEdge(BaseModel):
    id: str
    type: str | None = None
    source: str
    target: str
    properties: dict[str, Any] = Field(default_factory=dict)


class KnowledgeGraph(BaseModel):
    nodes: list[KnowledgeGraphNode] = Field(default_factory=list)
    edges: list[KnowledgeGraphEdge] = Field(default_factory=list)
    is_truncated: bool = False


@dataclass(slots=True)
class StreamingAnswer:
    """A streamed answer: references known up front, then text pieces.

    ``pieces`` must be consumed or closed (``await pieces.aclose()``); closing it
    cancels the LLM stream. The complete text is cached once the stream ends.
    """

    references: list[Reference]
    pieces: AsyncIterator[str]
    llm_generated: bool = True
