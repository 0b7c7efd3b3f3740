"""The conf/llm and conf/embedding group files resolve into each binding's config model."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from lightrag.registry import Registry
from lightrag.registry.models import chat_registry, embedding_registry
from lightrag.testing import FAKES_CONF_DIR as FAKES_CONF

CONF = Path(__file__).resolve().parents[3] / "conf"
HTTP_BINDINGS = ["ollama", "openai", "azure_openai", "lollms"]
SEED_VARS = [
    "LLM_BINDING_HOST",
    "LLM_MODEL",
    "LLM_BINDING_API_KEY",
    "EMBEDDING_BINDING_HOST",
    "EMBEDDING_MODEL",
    "EMBEDDING_BINDING_API_KEY",
    "EMBEDDING_DIM",
    "MAX_EMBED_TOKENS",
    "MAX_TOKENS",
    "TIMEOUT",
    "LLM_TIMEOUT",
    "EMBEDDING_TIMEOUT",
    "MAX_ASYNC",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_EMBEDDING_DEPLOYMENT",
    "AZURE_EMBEDDING_API_VERSION",
    "AZURE_EMBEDDING_ENDPOINT",
    "AZURE_EMBEDDING_API_KEY",
    "EMBEDDING_BATCH_NUM",
    "EMBEDDING_FUNC_MAX_ASYNC",
    "OLLAMA_KEEP_ALIVE",
    "OPENAI_LLM_TEMPERATURE",
    "EMBEDDING_USE_BASE64",
    "EMBEDDING_SEND_DIM",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SEED_VARS:
        monkeypatch.delenv(name, raising=False)


def load(group: str, name: str) -> dict[str, object]:
    path = (FAKES_CONF if name == "fake" else CONF) / group / f"{name}.yaml"
    assert path.read_text().startswith("# "), f"{path} must begin with a comment"
    resolved = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    assert isinstance(resolved, dict)
    return {str(k): v for k, v in resolved.items()}


def build(registry: Registry, values: dict[str, object]) -> object:
    params = dict(values)
    cls = registry.load(str(params.pop("type")))
    return cls(params)


@pytest.mark.parametrize("name", [*HTTP_BINDINGS, "fake"])
def test_every_group_file_names_a_registered_binding(name: str) -> None:
    for group, registry in (("llm", chat_registry), ("embedding", embedding_registry)):
        values = load(group, name)
        assert registry.canonical(str(values["type"])) == name


@pytest.mark.parametrize("name", ["ollama", "openai", "lollms"])
async def test_defaults_build_a_working_binding(name: str) -> None:
    llm = build(chat_registry, load("llm", name))
    emb = build(embedding_registry, load("embedding", name))
    assert llm.identity.startswith(f"{name}:")  # type: ignore[attr-defined]
    await llm.aclose()  # type: ignore[attr-defined]
    await emb.aclose()  # type: ignore[attr-defined]


async def test_ollama_defaults_are_the_seed_defaults() -> None:
    llm = build(chat_registry, load("llm", "ollama"))
    emb = build(embedding_registry, load("embedding", "ollama"))
    assert llm.identity == "ollama:mistral-nemo:latest"  # type: ignore[attr-defined]
    assert llm.config.host == "http://localhost:11434"  # type: ignore[attr-defined]
    assert llm.config.num_ctx == 32768  # type: ignore[attr-defined]
    assert emb.identity == "ollama:bge-m3:latest"  # type: ignore[attr-defined]
    assert (emb.dim, emb.max_tokens) == (1024, 8192)  # type: ignore[attr-defined]
    await llm.aclose()  # type: ignore[attr-defined]
    await emb.aclose()  # type: ignore[attr-defined]


async def test_seed_env_vars_reach_the_bindings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_BINDING_HOST", "http://gpu-box:8000/v1")
    monkeypatch.setenv("LLM_MODEL", "qwen2.5-72b")
    monkeypatch.setenv("LLM_BINDING_API_KEY", "sk-env-key")
    monkeypatch.setenv("TIMEOUT", "None")
    monkeypatch.setenv("EMBEDDING_DIM", "768")
    monkeypatch.setenv("MAX_EMBED_TOKENS", "512")
    llm = build(chat_registry, load("llm", "openai"))
    emb = build(embedding_registry, load("embedding", "ollama"))
    config = llm.config  # type: ignore[attr-defined]
    # MAX_ASYNC is rag.max_async, copied into the binding by the launcher: test_shared_knobs.
    assert (config.host, config.model) == ("http://gpu-box:8000/v1", "qwen2.5-72b")
    assert config.api_key.get_secret_value() == "sk-env-key"
    assert config.timeout is None
    assert (emb.dim, emb.max_tokens) == (768, 512)  # type: ignore[attr-defined]
    await llm.aclose()  # type: ignore[attr-defined]
    await emb.aclose()  # type: ignore[attr-defined]


async def test_azure_reads_its_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az-key")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "chat-dep")
    monkeypatch.setenv("AZURE_EMBEDDING_DEPLOYMENT", "emb-dep")
    monkeypatch.setenv("AZURE_EMBEDDING_API_VERSION", "2024-02-01")
    llm = build(chat_registry, load("llm", "azure_openai"))
    emb = build(embedding_registry, load("embedding", "azure_openai"))
    assert llm.identity == "azure_openai:chat-dep"  # type: ignore[attr-defined]
    assert llm.config.api_version == "2024-08-01-preview"  # type: ignore[attr-defined]
    assert emb.identity == "azure_openai:emb-dep"  # type: ignore[attr-defined]
    assert emb.config.api_version == "2024-02-01"  # type: ignore[attr-defined]
    assert emb.config.api_key.get_secret_value() == "az-key"  # type: ignore[attr-defined]
    await llm.aclose()  # type: ignore[attr-defined]
    await emb.aclose()  # type: ignore[attr-defined]


def test_azure_without_endpoint_fails_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="AZURE_OPENAI_ENDPOINT"):
        build(chat_registry, load("llm", "azure_openai"))


@pytest.mark.parametrize("name", HTTP_BINDINGS)
def test_config_models_are_exposed_for_start_up_validation(name: str) -> None:
    for registry in (chat_registry, embedding_registry):
        cls = registry.load(name)
        assert "model" in cls.config_model.model_fields


RECIPES = sorted((CONF.parent / "recipes").glob("*.yaml"))


@pytest.mark.parametrize("recipe", RECIPES, ids=[path.stem for path in RECIPES])
def test_no_user_facing_recipe_chooses_the_fake_models(recipe: Path) -> None:
    defaults = OmegaConf.load(recipe).get("defaults", [])
    choices = {
        key.removeprefix("override ").strip("/"): value
        for item in defaults
        if isinstance(item, dict) or OmegaConf.is_dict(item)
        for key, value in item.items()
    }
    assert choices, f"{recipe.name} overrides no group: the check would prove nothing"
    assert "fake" not in (choices.get("llm"), choices.get("embedding")), choices


def test_every_recipe_was_checked() -> None:
    assert {path.stem for path in RECIPES} >= {"embedded", "openai-ollama", "ollama-local"}
