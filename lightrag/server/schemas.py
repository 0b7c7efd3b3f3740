"""Request and response models of the HTTP API.

Field names follow the upstream server of both generations: the seed's fields
(``max_token_for_*``, ``history_turns``, ``description``) are accepted next to
the latest ones (``chunk_top_k``, ``max_*_tokens``, ``file_source``), so clients
of either keep working. Every request model forbids nothing extra (unknown
fields are ignored, as upstream does) but validates every field it knows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi.responses import StreamingResponse
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict

from lightrag.config.models import AppConfig
from lightrag.vocabulary.types import DocStatus, QueryMode, QueryParam, Reference

__all__ = [
    "ClearCacheRequest",
    "DeleteDocumentsRequest",
    "DeleteEntityRequest",
    "DeleteRelationRequest",
    "DocStatusResponse",
    "DocumentsResponse",
    "EntityCreateRequest",
    "EntityEditRequest",
    "EntityMergeRequest",
    "ErrorResponse",
    "GraphEditResponse",
    "InsertResponse",
    "InsertTextRequest",
    "InsertTextsRequest",
    "NDJSONResponse",
    "NonBlankStr",
    "PaginatedDocsRequest",
    "PaginatedDocsResponse",
    "PaginationInfo",
    "QueryDataResponse",
    "QueryRequest",
    "QueryResponse",
    "QueryStreamLine",
    "ReadinessResponse",
    "RelationCreateRequest",
    "RelationEditRequest",
    "Responses",
    "StatusMessage",
    "TrackStatusResponse",
    "default_query_param",
    "error_response",
    "require_in_schema",
]


def _not_blank(value: str, what: str) -> str:
    if not value.strip():
        raise ValueError(f"{what} must not be empty or whitespace only")
    return value


_NOT_BLANK_SCHEMA: JsonDict = {"pattern": r"\S"}
_CHAT_TURN_SCHEMA: JsonDict = {
    "required": ["role", "content"],
    "properties": {"role": {"enum": ["user", "assistant", "system"]}},
}
"""What ``QueryRequest``'s history validator checks of each turn."""
"""What ``_not_blank`` checks, said in the OpenAPI document: at least one non-space."""


def require_in_schema(*names: str) -> Callable[[JsonDict], None]:
    """A ``json_schema_extra`` that lists ``names`` as required in the OpenAPI document,
    for fields a route checks itself (to answer 400 with its own message, not 422)."""

    def mark(schema: JsonDict) -> None:
        required = schema.setdefault("required", [])
        assert isinstance(required, list)
        required.extend(name for name in names if name not in required)

    return mark


def _reject_blank(value: str) -> str:
    return _not_blank(value, "the value")


NonBlankStr = Annotated[
    str, Field(min_length=1, json_schema_extra=_NOT_BLANK_SCHEMA), AfterValidator(_reject_blank)
]
"""A string with at least one non-whitespace character (422 otherwise)."""


class ErrorResponse(BaseModel):
    """The body of an error answer: ``{"detail": "what was wrong and how to fix it"}``."""

    detail: str


class ReadinessResponse(BaseModel):
    """``GET /ready``: ``ready`` (200), or ``starting`` / ``unavailable`` with a reason (503)."""

    status: Literal["ready", "starting", "unavailable"]
    reason: str | None = None


Responses = dict[int | str, dict[str, Any]]
"""A route's ``responses=``: status -> OpenAPI response (``model``, ``description``)."""


def error_response(description: str, model: type[BaseModel] = ErrorResponse) -> dict[str, Any]:
    """One entry of a route's ``responses``: an error status, its meaning and body model."""
    return {"model": model, "description": description}


# query ---------------------------------------------------------------------------


def default_query_param(config: AppConfig) -> QueryParam:
    """The query defaults as configured (``rag.top_k`` and friends); requests override them."""
    rag = config.rag
    return QueryParam(
        top_k=rag.top_k,
        chunk_top_k=rag.chunk_top_k,
        max_entity_tokens=rag.max_entity_tokens,
        max_relation_tokens=rag.max_relation_tokens,
        max_total_tokens=rag.max_total_tokens,
        history_turns=rag.history_turns,
    )


class QueryRequest(BaseModel):
    """``POST /query``, ``/query/stream`` and ``/query/data`` body.

    Omitted fields take the engine's defaults. The seed's token budgets map onto
    the latest ones: ``max_token_for_local_context`` -> ``max_entity_tokens``,
    ``max_token_for_global_context`` -> ``max_relation_tokens``.
    """

    query: str = Field(
        min_length=1, description="The question.", json_schema_extra=_NOT_BLANK_SCHEMA
    )
    mode: QueryMode = "mix"
    only_need_context: bool | None = None
    only_need_prompt: bool | None = None
    response_type: str | None = Field(default=None, min_length=1)
    stream: bool | None = None
    top_k: int | None = Field(default=None, ge=1, le=1000)
    chunk_top_k: int | None = Field(default=None, ge=1, le=1000)
    max_entity_tokens: int | None = Field(default=None, ge=0)
    max_relation_tokens: int | None = Field(default=None, ge=0)
    max_total_tokens: int | None = Field(default=None, ge=1)
    max_token_for_text_unit: int | None = Field(default=None, ge=1, description="seed; unused")
    max_token_for_global_context: int | None = Field(default=None, ge=0)
    max_token_for_local_context: int | None = Field(default=None, ge=0)
    hl_keywords: list[str] | None = Field(default=None, max_length=64)
    ll_keywords: list[str] | None = Field(default=None, max_length=64)
    conversation_history: (
        list[Annotated[dict[str, str], Field(json_schema_extra=_CHAT_TURN_SCHEMA)]] | None
    ) = None
    history_turns: int | None = Field(default=None, ge=0)
    user_prompt: str | None = None
    include_references: bool = True
    include_chunk_content: bool = False
    enable_rerank: bool | None = Field(default=None, description="accepted; no reranker here")
    disable_user_prompt_prefix: bool = False

    @field_validator("query")
    @classmethod
    def _query_not_blank(cls, value: str) -> str:
        return _not_blank(value, "query")

    @field_validator("conversation_history")
    @classmethod
    def _history_is_chat(cls, value: list[dict[str, str]] | None) -> list[dict[str, str]] | None:
        for index, turn in enumerate(value or []):
            if turn.get("role") not in {"user", "assistant", "system"}:
                raise ValueError(
                    f"conversation_history[{index}].role must be user, assistant or system"
                )
            if "content" not in turn:
                raise ValueError(f"conversation_history[{index}] has no content")
        return value

    def to_param(self, *, defaults: QueryParam, stream: bool = False) -> QueryParam:
        """The engine's ``QueryParam``: ``defaults`` overridden by every field given."""
        updates: dict[str, Any] = {"mode": self.mode, "stream": stream}
        if self.max_token_for_local_context is not None:
            updates["max_entity_tokens"] = self.max_token_for_local_context
        if self.max_token_for_global_context is not None:
            updates["max_relation_tokens"] = self.max_token_for_global_context
        for name in (
            "only_need_context",
            "only_need_prompt",
            "response_type",
            "top_k",
            "chunk_top_k",
            "max_entity_tokens",
            "max_relation_tokens",
            "max_total_tokens",
            "hl_keywords",
            "ll_keywords",
            "conversation_history",
            "history_turns",
            "user_prompt",
        ):
            value = getattr(self, name)
            if value is not None:
                updates[name] = value
        updates["include_references"] = self.include_references
        return QueryParam.model_validate({**defaults.model_dump(), **updates})


class QueryResponse(BaseModel):
    response: str
    references: list[Reference] | None = None
    llm_generated: bool = True


class QueryStreamLine(BaseModel):
    """One line of ``/query/stream``'s NDJSON: the references first (when asked), then
    ``response`` pieces; ``error`` when the answer failed after streaming began."""

    references: list[Reference] | None = None
    response: str | None = None
    error: str | None = None


class NDJSONResponse(StreamingResponse):
    """A streamed body of newline-delimited JSON objects (``application/x-ndjson``); as a
    route's ``response_class`` it puts that media type in the OpenAPI document."""

    media_type = "application/x-ndjson"


class QueryDataResponse(BaseModel):
    status: Literal["success", "failure"]
    message: str
    data: dict[str, Any]
    metadata: dict[str, Any]


# documents -------------------------------------------------------------------------


class InsertTextRequest(BaseModel):
    text: str = Field(min_length=1, json_schema_extra=_NOT_BLANK_SCHEMA)
    file_source: str | None = None
    description: str | None = Field(default=None, description="seed 1.1.4; accepted, not stored")

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        return _not_blank(value, "text")


class InsertTextsRequest(BaseModel):
    texts: list[Annotated[str, Field(min_length=1, json_schema_extra=_NOT_BLANK_SCHEMA)]] = Field(
        min_length=1
    )
    file_sources: list[str] | None = None

    @field_validator("texts")
    @classmethod
    def _texts_not_blank(cls, value: list[str]) -> list[str]:
        for index, text in enumerate(value):
            _not_blank(text, f"texts[{index}]")
        return value

    @model_validator(mode="after")
    def _sources_match_texts(self) -> InsertTextsRequest:
        if self.file_sources is not None and len(self.file_sources) != len(self.texts):
            raise ValueError(
                f"file_sources has {len(self.file_sources)} entries but texts has "
                f"{len(self.texts)}; give one source per text or none"
            )
        return self


class InsertResponse(BaseModel):
    """Every enqueue answers at once; indexing runs in the background.

    ``status``: ``success`` (all new), ``partial_success`` (some new, some
    duplicates or failures), ``duplicated`` (nothing new), ``failure``.
    """

    status: Literal["success", "partial_success", "duplicated", "failure"]
    message: str
    track_id: str
    document_count: int = 0
    doc_ids: list[str] = Field(default_factory=list)
    duplicates: list[str] = Field(default_factory=list)


class StatusMessage(BaseModel):
    status: str
    message: str
    track_id: str | None = None
    document_count: int | None = None
    doc_id: str | None = None


class DocStatusResponse(BaseModel):
    """One document's pipeline state (``error`` repeats ``error_msg`` for seed clients)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    content_summary: str = ""
    content_length: int = 0
    status: str
    created_at: str = ""
    updated_at: str = ""
    track_id: str | None = None
    chunks_count: int | None = None
    error_msg: str | None = None
    error: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    file_path: str = ""

    @classmethod
    def from_record(cls, doc_id: str, record: dict[str, Any]) -> DocStatusResponse:
        error = record.get("error_msg") or record.get("error")
        return cls.model_validate(
            {
                **record,
                "id": doc_id,
                "error_msg": error,
                "error": error,
                "metadata": record.get("metadata") or {},
            }
        )


class DocumentsResponse(BaseModel):
    statuses: dict[str, list[DocStatusResponse]]


class PaginatedDocsRequest(BaseModel):
    status_filter: DocStatus | None = None
    status_filters: list[DocStatus] | None = None
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=10, le=200)
    sort_field: Literal["updated_at", "created_at", "id", "file_path"] = "updated_at"
    sort_direction: Literal["asc", "desc"] = "desc"

    def statuses(self) -> list[str] | None:
        chosen = list(self.status_filters or [])
        if self.status_filter is not None:
            chosen.append(self.status_filter)
        return [status.value for status in chosen] or None


class PaginationInfo(BaseModel):
    page: int
    page_size: int
    total_count: int
    total_pages: int
    has_next: bool
    has_prev: bool


class PaginatedDocsResponse(BaseModel):
    documents: list[DocStatusResponse]
    pagination: PaginationInfo
    status_counts: dict[str, int]


class TrackStatusResponse(BaseModel):
    track_id: str
    documents: list[DocStatusResponse]
    total_count: int
    status_summary: dict[str, int]


class DeleteDocumentsRequest(BaseModel):
    doc_ids: list[Annotated[str, Field(min_length=1, json_schema_extra=_NOT_BLANK_SCHEMA)]] = Field(
        min_length=1
    )
    delete_file: bool = False
    delete_llm_cache: bool = False

    @field_validator("doc_ids")
    @classmethod
    def _ids_not_blank(cls, value: list[str]) -> list[str]:
        for index, item in enumerate(value):
            _not_blank(item, f"doc_ids[{index}]")
        return list(dict.fromkeys(value))


class ClearCacheRequest(BaseModel):
    modes: (
        list[Literal["default", "naive", "local", "global", "hybrid", "mix", "bypass"]] | None
    ) = None


# graph ---------------------------------------------------------------------------


class EntityCreateRequest(BaseModel):
    entity_name: str = Field(min_length=1, json_schema_extra=_NOT_BLANK_SCHEMA)
    entity_data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("entity_name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        return _not_blank(value, "entity_name")


class EntityEditRequest(BaseModel):
    entity_name: NonBlankStr
    updated_data: dict[str, Any] = Field(min_length=1)
    allow_rename: bool = False
    allow_merge: bool = False


class RelationCreateRequest(BaseModel):
    source_entity: NonBlankStr
    target_entity: NonBlankStr
    relation_data: dict[str, Any] = Field(default_factory=dict)


class RelationEditRequest(BaseModel):
    source_id: NonBlankStr
    target_id: NonBlankStr
    updated_data: dict[str, Any] = Field(min_length=1)


class EntityMergeRequest(BaseModel):
    entities_to_change: list[NonBlankStr] = Field(min_length=1)
    entity_to_change_into: NonBlankStr


class DeleteEntityRequest(BaseModel):
    entity_name: NonBlankStr


class DeleteRelationRequest(BaseModel):
    source_entity: NonBlankStr
    target_entity: NonBlankStr


class GraphEditResponse(BaseModel):
    status: Literal["success", "not_found", "fail"]
    message: str
    data: dict[str, Any] = Field(default_factory=dict)
    status_code: int = 200
