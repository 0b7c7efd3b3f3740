"""Query bounds in the composed config: defaults, the embedded recipe's, env overrides."""

from __future__ import annotations

from .conftest import LoadFn


def test_defaults_bound_a_query_in_time_tokens_and_keywords(load: LoadFn) -> None:
    config = load().config
    assert config.server.query_timeout == 300
    assert config.server.max_query_length == 65536
    assert config.rag.retrieval_query_tokens == 512
    assert config.rag.max_query_keywords == 20


def test_the_embedded_recipe_refuses_questions_past_4000_characters(load: LoadFn) -> None:
    assert load(["+recipe=embedded"]).config.server.max_query_length == 4000


def test_env_overrides_the_recipe_and_none_lifts_the_time_limit(load: LoadFn) -> None:
    environ = {"LIGHTRAG_MAX_QUERY_LENGTH": "9000", "LIGHTRAG_QUERY_TIMEOUT": "none"}
    config = load(["+recipe=embedded"], environ=environ).config
    assert config.server.max_query_length == 9000
    assert config.server.query_timeout is None
