"""The seed's env var names and flags reach the config keys they name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from lightrag.config.cli_flags import SEED_FLAGS, build_parser, parse_args
from lightrag.config.env_map import GROUP_VARS, VALUE_VARS
from lightrag.config.loader import SeedFlag

from .conftest import LoadFn

# env name -> (raw value, expected value at its key)
VALUE_SAMPLES: dict[str, tuple[str, Any]] = {
    "HOST": ("127.0.0.1", "127.0.0.1"),
    "PORT": ("9000", 9000),
    "WORKING_DIR": ("/data/rag", Path("/data/rag")),
    "INPUT_DIR": ("/data/in", Path("/data/in")),
    "NAMESPACE_PREFIX": ("team_a", "team_a"),
    "WORKSPACE": ("team_b", "team_b"),
    "LIGHTRAG_REPLICAS": ("3", 3),
    "LOG_LEVEL": ("debug", "DEBUG"),
    "VERBOSE": ("True", True),
    "TIMEOUT": ("None", None),
    "AUTO_SCAN_AT_STARTUP": ("true", True),
    "LIGHTRAG_API_KEY": ("k-123", "k-123"),
    "AUTH_ACCOUNTS": ("admin:pw1,reader:pw2", ["admin", "reader"]),
    "TOKEN_SECRET": ("s3cret", "s3cret"),
    "TOKEN_EXPIRE_HOURS": ("48", 48.0),
    "WHITELIST_PATHS": ("/health, /docs", ["/health", "/docs"]),
    "SSL": ("true", True),
    "SSL_CERTFILE": ("/tls/cert.pem", Path("/tls/cert.pem")),
    "SSL_KEYFILE": ("/tls/key.pem", Path("/tls/key.pem")),
    "CORS_ORIGINS": ("http://a:3000,http://b", ["http://a:3000", "http://b"]),
    "SIMULATED_MODEL_NAME": ("myrag", "myrag"),
    "OLLAMA_EMULATING_MODEL_NAME": ("rag2", "rag2"),
    "OLLAMA_EMULATING_MODEL_TAG": ("v1", "v1"),
    "MAX_UPLOAD_SIZE": ("1024", 1024),
    "MAX_TEXTS_PER_REQUEST": ("10", 10),
    "CHUNK_SIZE": ("800", 800),
    "CHUNK_OVERLAP_SIZE": ("50", 50),
    "ENTITY_TYPES": ('["Person","Event"]', ["Person", "Event"]),
    "SUMMARY_LANGUAGE": ("French", "French"),
    "MAX_GLEANING": ("0", 0),
    "FORCE_LLM_SUMMARY_ON_MERGE": ("4", 4),
    "SUMMARY_MAX_TOKENS": ("500", 500),
    "SUMMARY_CONTEXT_SIZE": ("9000", 9000),
    "SUMMARY_LENGTH_RECOMMENDED": ("300", 300),
    "MAX_ASYNC": ("16", 16),
    "MAX_PARALLEL_INSERT": ("3", 3),
    "EMBEDDING_BATCH_NUM": ("10", 10),
    "EMBEDDING_FUNC_MAX_ASYNC": ("4", 4),
    "ENABLE_LLM_CACHE": ("false", False),
    "ENABLE_LLM_CACHE_FOR_EXTRACT": ("false", False),
    "COSINE_THRESHOLD": ("0.4", 0.4),
    "TOP_K": ("60", 60),
    "CHUNK_TOP_K": ("10", 10),
    "RELATED_CHUNK_NUMBER": ("7", 7),
    "MAX_ENTITY_TOKENS": ("4000", 4000),
    "MAX_RELATION_TOKENS": ("4000", 4000),
    "MAX_TOTAL_TOKENS": ("20000", 20000),
    "HISTORY_TURNS": ("5", 5),
    "MAX_GRAPH_NODES": ("500", 500),
    "LIGHTRAG_WORKSPACE_API_KEYS": ('{"k1": ["team_a"], "k2": ["team_a", "team_b"]}', ["k1", "k2"]),
    "LIGHTRAG_QUERY_API_KEYS": ("q-1, q-2", ["q-1", "q-2"]),
    "LIGHTRAG_WORKSPACES_AUTO_CREATE": ("true", True),
    "LIGHTRAG_WORKSPACES_MAX_ENGINES": ("8", 8),
    "LIGHTRAG_MAX_QUERY_LENGTH": ("2000", 2000),
    "LIGHTRAG_QUERY_TIMEOUT": ("none", None),
    "LIGHTRAG_RETRIEVAL_QUERY_TOKENS": ("256", 256),
    "LIGHTRAG_MAX_QUERY_KEYWORDS": ("8", 8),
}


def _at(config: Any, key: str) -> Any:
    value = config
    for part in key.split("."):
        value = getattr(value, part)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, list) and value and hasattr(value[0], "username"):
        return [account.username for account in value]
    if isinstance(value, list) and value and hasattr(value[0], "key"):
        return [scoped.key.get_secret_value() for scoped in value]
    if isinstance(value, list) and value and isinstance(value[0], SecretStr):
        return [secret.get_secret_value() for secret in value]
    return value


def test_every_value_var_has_a_sample() -> None:
    assert {var.name for var in VALUE_VARS} == set(VALUE_SAMPLES)


@pytest.mark.parametrize("var", VALUE_VARS, ids=lambda var: var.name)
def test_env_name_sets_its_key(load: LoadFn, var: Any) -> None:
    raw, expected = VALUE_SAMPLES[var.name]
    environ = {**_needs(var.name), var.name: raw}
    assert _at(load(environ=environ).config, var.key) == expected


def _needs(name: str) -> dict[str, str]:
    """What a setting needs besides itself: replicas need databases and coordination."""
    if name != "LIGHTRAG_REPLICAS":
        return {}
    roles = ("KV", "VECTOR", "GRAPH", "DOC_STATUS")
    return {"LIGHTRAG_COORDINATION": "postgres"} | {
        f"LIGHTRAG_{role}_STORAGE": "postgres" for role in roles
    }


# env name -> [(seed value, group option)]
GROUP_SAMPLES = {
    "LLM_BINDING": [("openai", "openai"), ("azure_openai", "azure_openai"), ("lollms", "lollms")],
    "EMBEDDING_BINDING": [("openai", "openai"), ("azure-openai", "azure_openai")],
    "LIGHTRAG_KV_STORAGE": [("JsonKVStorage", "json"), ("json", "json")],
    "LIGHTRAG_VECTOR_STORAGE": [("NanoVectorDBStorage", "nano")],
    "LIGHTRAG_GRAPH_STORAGE": [
        ("NetworkXStorage", "networkx"),
        ("PGGraphStorage", "age"),  # upstream's PGGraphStorage is the Apache AGE graph
        ("AGEStorage", "age"),
        ("PGTableGraphStorage", "postgres"),
        ("GremlinStorage", "gremlin"),
    ],
    "LIGHTRAG_DOC_STATUS_STORAGE": [("JsonDocStatusStorage", "json")],
    "LIGHTRAG_COORDINATION": [("postgres", "postgres"), ("local", "local")],
}


@pytest.mark.parametrize("var", GROUP_VARS, ids=lambda var: var.name)
def test_env_name_chooses_its_group_by_seed_name(load: LoadFn, var: Any) -> None:
    for raw, option in GROUP_SAMPLES[var.name]:
        loaded = load(environ={var.name: raw, "AZURE_OPENAI_ENDPOINT": "https://x"})
        assert loaded.choices[var.group] == option


def test_seed_openai_ollama_binding_means_openai_chat_and_ollama_embeddings(
    load: LoadFn,
) -> None:
    loaded = load(environ={"LLM_BINDING": "openai-ollama", "EMBEDDING_BINDING": "ollama"})
    assert (loaded.choices["llm"], loaded.choices["embedding"]) == ("openai", "ollama")
    alone = load(environ={"LLM_BINDING": "openai-ollama"})
    assert (alone.choices["llm"], alone.choices["embedding"]) == ("openai", "ollama")


def test_binding_connection_env_names_reach_the_binding(load: LoadFn) -> None:
    env = {
        "LLM_MODEL": "qwen2.5:7b",
        "LLM_BINDING_HOST": "http://gpu:11434",
        "EMBEDDING_MODEL": "nomic-embed-text",
        "EMBEDDING_DIM": "768",
    }
    config = load(environ=env).config
    assert config.llm.params()["model"] == "qwen2.5:7b"
    assert config.llm.params()["host"] == "http://gpu:11434"
    assert config.embedding.params()["model"] == "nomic-embed-text"
    assert config.embedding.params()["dim"] == "768"


def _flag_argv(spec: Any, value: str) -> list[str]:
    return [spec.flags[0]] if spec.switch else [spec.flags[0], value]


@pytest.mark.parametrize("spec", SEED_FLAGS, ids=lambda spec: spec.flags[0])
def test_seed_flag_stands_for_its_env_var(spec: Any) -> None:
    parsed = parse_args(build_parser(), _flag_argv(spec, "v1"))
    expected = "true" if spec.switch else "v1"
    assert parsed.flags == [SeedFlag(spec.env_name, expected, spec.flags[0])]
    assert parsed.overrides == []


def test_every_seed_flag_of_the_issue_is_accepted() -> None:
    spelled = {flag for spec in SEED_FLAGS for flag in spec.flags}
    required = [
        "--host",
        "--port",
        "--working-dir",
        "--input-dir",
        "--max-async",
        "--max-tokens",
        "--timeout",
        "--log-level",
        "--verbose",
        "--key",
        "--ssl",
        "--ssl-certfile",
        "--ssl-keyfile",
        "--top-k",
        "--cosine-threshold",
        "--llm-binding",
        "--embedding-binding",
        "--auto-scan-at-startup",
        "--simulated-model-name",
        "--workspace",
        "--kv-storage",
        "--vector-storage",
        "--graph-storage",
        "--doc-status-storage",
    ]
    assert set(required) <= spelled


@pytest.mark.parametrize(
    ("argv", "key", "expected"),
    [
        (["--port", "9000"], "server.port", 9000),
        (["--key", "k1"], "server.api_key", "k1"),
        (["--ssl"], "server.ssl", True),
        (["--top-k", "12"], "rag.top_k", 12),
        (["--max-async", "2"], "rag.max_async", 2),
        (["--chunk_size", "600"], "rag.chunk_token_size", 600),
        (["--working-dir", "/srv/rag"], "server.working_dir", Path("/srv/rag")),
    ],
)
def test_seed_flag_sets_its_key(load: LoadFn, argv: list[str], key: str, expected: Any) -> None:
    parsed = parse_args(build_parser(), argv)
    assert _at(load(flags=parsed.flags).config, key) == expected


def test_seed_flags_choose_groups_and_reach_bindings(load: LoadFn) -> None:
    argv = ["--llm-binding", "openai", "--llm-model", "gpt-4o", "--kv-storage", "JsonKVStorage"]
    loaded = load(flags=parse_args(build_parser(), argv).flags)
    assert loaded.choices["llm"] == "openai"
    assert loaded.config.llm.params()["model"] == "gpt-4o"
    assert loaded.choices["storage/kv"] == "json"


def test_flag_that_nothing_reads_is_reported(load: LoadFn) -> None:
    flags = parse_args(build_parser(), ["--llm-binding", "openai", "--max-tokens", "4096"]).flags
    assert load(flags=flags).notes == ("--max-tokens has no effect with this configuration",)
    ollama = parse_args(build_parser(), ["--max-tokens", "4096"]).flags
    loaded = load(flags=ollama)
    assert loaded.notes == ()
    assert loaded.config.llm.params()["num_ctx"] == "4096"


def test_recipe_flag_is_the_recipe_override() -> None:
    parsed = parse_args(build_parser(), ["--recipe", "openai", "server.port=1"])
    assert parsed.overrides == ["+recipe=openai", "server.port=1"]


@pytest.mark.parametrize(
    ("raw", "name", "tag"),
    [("lightrag:latest", "lightrag", "latest"), ("kb:v3", "kb", "v3"), ("kb", "kb", "latest")],
)
def test_seed_simulated_model_name_with_a_tag_sets_name_and_tag(
    load: LoadFn, raw: str, name: str, tag: str
) -> None:
    flags = parse_args(build_parser(), ["--simulated-model-name", raw]).flags
    server = load(flags=flags).config.server
    assert (server.simulated_model_name, server.simulated_model_tag) == (name, tag)


# Seed flags whose env var is read by the default group files, not by env_map.
_BINDING_FLAG_SAMPLES = {
    "MAX_TOKENS": "4096",
    "LLM_MODEL": "qwen2.5:7b",
    "LLM_BINDING_HOST": "http://gpu:11434",
    "LLM_BINDING_API_KEY": "k-llm",
    "EMBEDDING_MODEL": "nomic-embed-text",
    "EMBEDDING_BINDING_HOST": "http://gpu:11434",
    "EMBEDDING_BINDING_API_KEY": "k-emb",
    "EMBEDDING_DIM": "768",
    "MAX_EMBED_TOKENS": "512",
}
_GROUP_FLAG_SAMPLES = {
    var.name: raw for var in GROUP_VARS for raw, _ in GROUP_SAMPLES[var.name][:1]
}


@pytest.mark.parametrize("spec", SEED_FLAGS, ids=lambda spec: spec.flags[0])
def test_every_seed_flag_reaches_the_composed_config(load: LoadFn, spec: Any) -> None:
    name = spec.env_name
    raw = (
        VALUE_SAMPLES.get(name, (None,))[0]
        or _BINDING_FLAG_SAMPLES.get(name)
        or _GROUP_FLAG_SAMPLES[name]
    )
    environ = {"AZURE_OPENAI_ENDPOINT": "https://x", **_needs(name)}
    baseline = load(environ=environ)
    loaded = load(flags=parse_args(build_parser(), _flag_argv(spec, raw)).flags, environ=environ)
    assert loaded.notes == ()  # read by the default configuration
    group = next((var for var in GROUP_VARS if var.name == name), None)
    if group is not None:
        assert loaded.choices[group.group] == dict(GROUP_SAMPLES[name])[raw]
    else:
        assert loaded.config != baseline.config
