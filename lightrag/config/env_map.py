"""The seed's env var names and what they set in the composed config.

Two kinds: ``GROUP_VARS`` choose a config group option (``LLM_BINDING=openai`` ->
``llm=openai``; storage names may be the seed's class names, resolved through the
registry aliases), and ``VALUE_VARS`` set one key of the ``server`` or ``rag``
section. Connection parameters of bindings and storages are not here: their YAML
reads them with ``${oc.env:NAME,default}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lightrag.config.errors import ConfigError
from lightrag.registry import Registry
from lightrag.registry.coordination import coordination_registry
from lightrag.registry.models import chat_registry, embedding_registry
from lightrag.registry.storage import storage_registry

__all__ = ["GROUP_VARS", "VALUE_VARS", "GroupVar", "ValueVar", "split_llm_binding"]


def _text(raw: str) -> Any:
    return raw


def _optional_seconds(raw: str) -> Any:
    """A timeout: a number, or "none"/"0"/"" for no limit (the seed's "None")."""
    return None if raw.strip().lower() in {"", "none", "null", "0"} else raw


def _optional_text(raw: str) -> Any:
    return raw if raw.strip() else None


def _comma_list(raw: str) -> Any:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _json_or_comma_list(raw: str) -> Any:
    """A JSON list (``'["Person","Event"]'``) or a comma-separated list."""
    text = raw.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON list: {exc}") from exc
        if not isinstance(value, list):
            raise ValueError("not a JSON list")
        return value
    return _comma_list(text)


def _accounts(raw: str) -> Any:
    """``"admin:secret,reader:pw"`` -> ``[{"username": "admin", "password": "secret"}, ...]``."""
    accounts = []
    for item in _comma_list(raw):
        username, sep, password = item.partition(":")
        if not sep or not username or not password:
            raise ValueError("expected 'user:password' pairs separated by commas")
        accounts.append({"username": username, "password": password})
    return accounts


def _scoped_keys(raw: str) -> Any:
    """``'{"key1": ["team_a"], "key2": ["team_a", "team_b"]}'`` -> ``server.api_keys``."""
    if not raw.strip():
        return []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON object: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError('expected a JSON object {"key": ["workspace", ...]}')
    return [{"key": key, "workspaces": spaces} for key, spaces in value.items()]


@dataclass(frozen=True, slots=True)
class ValueVar:
    """An env var that sets one dotted config key, converted from text by ``convert``."""

    name: str
    key: str
    convert: Callable[[str], Any] = _text


@dataclass(frozen=True, slots=True)
class GroupVar:
    """An env var that chooses the option of a config group, by registry name or alias."""

    name: str
    group: str
    registry: Registry


VALUE_VARS: tuple[ValueVar, ...] = (
    # server
    ValueVar("HOST", "server.host"),
    ValueVar("PORT", "server.port"),
    ValueVar("WORKING_DIR", "server.working_dir"),
    ValueVar("INPUT_DIR", "server.input_dir"),
    ValueVar("NAMESPACE_PREFIX", "server.workspace"),  # the seed's name, before WORKSPACE
    ValueVar("WORKSPACE", "server.workspace"),
    ValueVar("LIGHTRAG_REPLICAS", "server.replicas"),
    ValueVar("LOG_LEVEL", "server.log_level", lambda raw: raw.strip().upper()),
    ValueVar("VERBOSE", "server.verbose"),
    ValueVar("TIMEOUT", "server.timeout", _optional_seconds),
    ValueVar("AUTO_SCAN_AT_STARTUP", "server.auto_scan_at_startup"),
    ValueVar("LIGHTRAG_API_KEY", "server.api_key", _optional_text),
    ValueVar("AUTH_ACCOUNTS", "server.accounts", _accounts),
    ValueVar("LIGHTRAG_WORKSPACE_API_KEYS", "server.api_keys", _scoped_keys),
    ValueVar("LIGHTRAG_QUERY_API_KEYS", "server.query_api_keys", _comma_list),
    ValueVar("LIGHTRAG_WORKSPACES_AUTO_CREATE", "server.workspaces.auto_create"),
    ValueVar("LIGHTRAG_WORKSPACES_MAX_ENGINES", "server.workspaces.max_engines"),
    ValueVar("TOKEN_SECRET", "server.token_secret", _optional_text),
    ValueVar("TOKEN_EXPIRE_HOURS", "server.token_expire_hours"),
    ValueVar("WHITELIST_PATHS", "server.whitelist_paths", _comma_list),
    ValueVar("SSL", "server.ssl"),
    ValueVar("SSL_CERTFILE", "server.ssl_certfile", _optional_text),
    ValueVar("SSL_KEYFILE", "server.ssl_keyfile", _optional_text),
    ValueVar("CORS_ORIGINS", "server.cors_origins", _comma_list),
    ValueVar("SIMULATED_MODEL_NAME", "server.simulated_model_name"),
    ValueVar("OLLAMA_EMULATING_MODEL_NAME", "server.simulated_model_name"),
    ValueVar("OLLAMA_EMULATING_MODEL_TAG", "server.simulated_model_tag"),
    ValueVar("MAX_UPLOAD_SIZE", "server.max_upload_size"),
    ValueVar("MAX_TEXTS_PER_REQUEST", "server.max_texts_per_request"),
    ValueVar("LIGHTRAG_MAX_QUERY_LENGTH", "server.max_query_length"),
    ValueVar("LIGHTRAG_QUERY_TIMEOUT", "server.query_timeout", _optional_seconds),
    # rag: chunking and extraction
    ValueVar("CHUNK_SIZE", "rag.chunk_token_size"),
    ValueVar("CHUNK_OVERLAP_SIZE", "rag.chunk_overlap_token_size"),
    ValueVar("ENTITY_TYPES", "rag.entity_types", _json_or_comma_list),
    ValueVar("SUMMARY_LANGUAGE", "rag.language"),
    ValueVar("MAX_GLEANING", "rag.max_gleaning"),
    ValueVar("FORCE_LLM_SUMMARY_ON_MERGE", "rag.force_llm_summary_on_merge"),
    ValueVar("SUMMARY_MAX_TOKENS", "rag.summary_max_tokens"),
    ValueVar("SUMMARY_CONTEXT_SIZE", "rag.summary_context_size"),
    ValueVar("SUMMARY_LENGTH_RECOMMENDED", "rag.summary_length_recommended"),
    # rag: concurrency, batching, cache
    ValueVar("MAX_ASYNC", "rag.max_async"),
    ValueVar("MAX_PARALLEL_INSERT", "rag.max_parallel_insert"),
    ValueVar("EMBEDDING_BATCH_NUM", "rag.embedding_batch_size"),
    ValueVar("EMBEDDING_FUNC_MAX_ASYNC", "rag.embedding_max_async"),
    ValueVar("ENABLE_LLM_CACHE", "rag.enable_llm_cache"),
    ValueVar("ENABLE_LLM_CACHE_FOR_EXTRACT", "rag.enable_llm_cache_for_extract"),
    # rag: query defaults
    ValueVar("COSINE_THRESHOLD", "rag.cosine_threshold"),
    ValueVar("TOP_K", "rag.top_k"),
    ValueVar("CHUNK_TOP_K", "rag.chunk_top_k"),
    ValueVar("RELATED_CHUNK_NUMBER", "rag.related_chunk_number"),
    ValueVar("MAX_ENTITY_TOKENS", "rag.max_entity_tokens"),
    ValueVar("MAX_RELATION_TOKENS", "rag.max_relation_tokens"),
    ValueVar("MAX_TOTAL_TOKENS", "rag.max_total_tokens"),
    ValueVar("HISTORY_TURNS", "rag.history_turns"),
    ValueVar("MAX_GRAPH_NODES", "rag.max_graph_nodes"),
    ValueVar("LIGHTRAG_RETRIEVAL_QUERY_TOKENS", "rag.retrieval_query_tokens"),
    ValueVar("LIGHTRAG_MAX_QUERY_KEYWORDS", "rag.max_query_keywords"),
)

GROUP_VARS: tuple[GroupVar, ...] = (
    GroupVar("LLM_BINDING", "llm", chat_registry),
    GroupVar("EMBEDDING_BINDING", "embedding", embedding_registry),
    GroupVar("LIGHTRAG_KV_STORAGE", "storage/kv", storage_registry("kv")),
    GroupVar("LIGHTRAG_VECTOR_STORAGE", "storage/vector", storage_registry("vector")),
    GroupVar("LIGHTRAG_GRAPH_STORAGE", "storage/graph", storage_registry("graph")),
    GroupVar("LIGHTRAG_DOC_STATUS_STORAGE", "storage/doc_status", storage_registry("doc_status")),
    GroupVar("LIGHTRAG_COORDINATION", "coordination", coordination_registry),
)


def split_llm_binding(value: str) -> tuple[str, str | None]:
    """The seed's ``openai-ollama`` LLM binding means OpenAI chat + Ollama embeddings.

    Returns (llm binding, embedding binding implied or None).
    """
    if value.strip().lower() == "openai-ollama":
        return "openai", "ollama"
    return value.strip(), None


def convert_value(var: ValueVar, raw: str, source: str) -> Any:
    """``raw`` converted for ``var.key``; raises ``ConfigError`` naming var, value and source."""
    try:
        return var.convert(raw)
    except ValueError as exc:
        raise ConfigError(f"{var.key}: {raw!r}: {exc} (from {source} {var.name})") from exc
