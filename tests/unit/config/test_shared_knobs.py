"""One source per knob: rag.max_async, rag.embedding_batch_size and rag.embedding_max_async
bound the engine and the chosen binding alike, however they are set."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightrag.compose import build_engine
from lightrag.config.errors import ConfigError
from lightrag.config.loader import SeedFlag
from lightrag.registry.models import chat_registry, embedding_registry

from .conftest import LoadFn

LLM_WAYS = {
    "env MAX_ASYNC": {"environ": {"MAX_ASYNC": "8"}},
    "flag --max-async": {"flags": [SeedFlag("MAX_ASYNC", "8", "--max-async")]},
    "override rag.max_async": {"overrides": ["rag.max_async=8"]},
}


@pytest.mark.parametrize("way", LLM_WAYS)
@pytest.mark.parametrize("binding", ["openai", "ollama", "lollms"])
async def test_llm_concurrency_set_once_bounds_pipeline_and_binding(
    load: LoadFn, tmp_path: Path, way: str, binding: str
) -> None:
    kwargs = dict(LLM_WAYS[way])
    overrides = [f"llm={binding}", "embedding=fake", *kwargs.pop("overrides", [])]
    config = load(overrides, check_classes=True, **kwargs).config
    config = config.model_copy(
        update={"server": config.server.model_copy(update={"working_dir": tmp_path})}
    )
    assert config.rag.max_async == 8
    llm = chat_registry.load(binding)(config.llm.params())
    assert llm.config.max_async == 8  # the binding's own request limit
    assert llm._http._slots.size == 8  # its slot pool
    engine = build_engine(config, llm=llm)
    try:
        assert engine.pipeline.llm.slots.size == 8  # the pipeline's pool of LLM slots
    finally:
        await llm.aclose()


@pytest.mark.parametrize("binding", ["openai", "ollama", "lollms", "azure_openai"])
def test_embedding_batch_and_concurrency_set_once_reach_engine_and_binding(
    load: LoadFn, binding: str
) -> None:
    environ = {
        "EMBEDDING_BATCH_NUM": "7",
        "EMBEDDING_FUNC_MAX_ASYNC": "3",
        "AZURE_OPENAI_ENDPOINT": "https://example.openai.azure.com",
    }
    config = load([f"embedding={binding}"], environ=environ, check_classes=True).config
    assert (config.rag.embedding_batch_size, config.rag.embedding_max_async) == (7, 3)
    model = embedding_registry.load(binding)(config.embedding.params())
    assert (model.config.batch_size, model.config.max_async) == (7, 3)


def test_the_defaults_agree_between_engine_and_binding(load: LoadFn) -> None:
    config = load(["llm=openai", "embedding=openai"], check_classes=True).config
    assert config.llm.params()["max_async"] == config.rag.max_async == 4
    assert config.embedding.params()["batch_size"] == config.rag.embedding_batch_size
    assert config.embedding.params()["max_async"] == config.rag.embedding_max_async


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("+llm.max_async=2", "llm.max_async: concurrent LLM calls are set once, as rag.max_async"),
        ("+embedding.batch_size=2", "set once, as rag.embedding_batch_size (EMBEDDING_BATCH_NUM)"),
        ("+embedding.max_async=2", "as rag.embedding_max_async (EMBEDDING_FUNC_MAX_ASYNC)"),
    ],
)
def test_setting_a_bindings_copy_directly_is_an_error_naming_the_one_key(
    load: LoadFn, override: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load(["llm=openai", "embedding=openai", override])


def test_embedded_recipe_runs_one_spacy_call_at_a_time(load: LoadFn) -> None:
    config = load(["+recipe=embedded"], check_classes=False).config
    assert config.rag.max_async == 1
