"""Keyword parsing (lenient), history selection and the cached keyword extractor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lightrag.config.models import RagConfig
from lightrag.core.keywords import Keywords, parse_keywords, recent_history
from lightrag.testing.fakes import FakeChatModel
from lightrag.vocabulary.types import QueryParam

from .query_seed import World, close_world, open_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    opened = await open_world(tmp_path)
    yield opened
    await close_world(opened)


@pytest.mark.parametrize(
    ("reply", "high", "low"),
    [
        (
            '{"high_level_keywords": ["energy"], "low_level_keywords": ["Acme"]}',
            ["energy"],
            ["Acme"],
        ),
        (
            'Sure! Here it is:\n```json\n{"high_level_keywords": ["a", "b"],\n'
            '"low_level_keywords": []}\n```\nHope that helps.',
            ["a", "b"],
            [],
        ),
        ("{'high_level_keywords': ['x',], 'low_level_keywords': ['y',],}", ["x"], ["y"]),
        (
            '{"high_level_keywords": ["solar", "wind"], "low_level_keywords": ["Acme", "Den',
            ["solar", "wind"],
            ["Acme"],
        ),
        ('{"High_Level": "trade, policy", "low_level": "WTO"}', ["trade", "policy"], ["WTO"]),
        (
            '{"high_level_keywords": ["dup", "Dup", " ", 3], "low_level_keywords": null}',
            ["dup", "3"],
            [],
        ),
        ("I cannot help with that.", [], []),
        ("", [], []),
    ],
    ids=[
        "clean",
        "fenced-with-prose",
        "single-quotes-trailing-commas",
        "truncated",
        "alt-keys-strings",
        "dedup-and-junk",
        "prose-only",
        "empty",
    ],
)
def test_parse_keywords_recovers_what_models_emit(
    reply: str, high: list[str], low: list[str]
) -> None:
    assert parse_keywords(reply) == Keywords(high=high, low=low)


def test_recent_history_keeps_the_last_turns_from_a_user_message() -> None:
    history = [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "q3"},
        {"role": "assistant", "content": "a3"},
    ]
    assert [m["content"] for m in recent_history(history, 2)] == ["q2", "a2", "q3", "a3"]
    assert len(recent_history(history, 10)) == 6
    assert recent_history(history, 0) == []


def test_recent_history_rejects_a_message_without_role_naming_its_index() -> None:
    with pytest.raises(ValueError, match=r"conversation_history\[1\]"):
        recent_history([{"role": "user", "content": "q"}, {"content": "no role"}], 3)


async def test_supplied_keywords_skip_the_model(world: World) -> None:
    param = QueryParam(mode="local", hl_keywords=["themes"], ll_keywords=["Acme Corp"])
    keywords = await world.queries.keywords.extract("anything", param, [])
    assert keywords == Keywords(high=["themes"], low=["Acme Corp"])
    assert world.llm.calls["keywords"] == 0


async def test_extracted_keywords_come_from_the_model_and_are_cached(world: World) -> None:
    param = QueryParam(mode="local")
    first = await world.queries.keywords.extract("Where does Acme Corp build turbines?", param, [])
    second = await world.queries.keywords.extract("Where does Acme Corp build turbines?", param, [])
    assert first == second
    assert first.low == ["Acme Corp"]
    assert "turbines" in first.high
    assert world.llm.calls["keywords"] == 1


async def test_keyword_cache_misses_when_history_changes(world: World) -> None:
    param = QueryParam(mode="local")
    history = recent_history([{"role": "user", "content": "Tell me about Denmark"}], 3)
    await world.queries.keywords.extract("And its factories?", param, [])
    await world.queries.keywords.extract("And its factories?", param, history)
    assert world.llm.calls["keywords"] == 2


async def test_keyword_cache_misses_when_language_or_model_changes(tmp_path: Path) -> None:
    base = await open_world(tmp_path / "a")
    await base.queries.keywords.extract("Acme Corp wind", QueryParam(), [])
    await close_world(base)
    french = await open_world(tmp_path / "a", config=RagConfig(language="French"))
    await french.queries.keywords.extract("Acme Corp wind", QueryParam(), [])
    assert french.llm.calls["keywords"] == 1
    await close_world(french)
    other = await open_world(tmp_path / "a", llm=FakeChatModel({"model": "other"}))
    await other.queries.keywords.extract("Acme Corp wind", QueryParam(), [])
    assert other.llm.calls["keywords"] == 1
    await close_world(other)
    again = await open_world(tmp_path / "a")
    await again.queries.keywords.extract("Acme Corp wind", QueryParam(), [])
    assert again.llm.calls["keywords"] == 0  # persisted cache hit for the original inputs
    await close_world(again)


async def test_empty_extraction_of_a_short_query_uses_the_query_as_low_level_keyword(
    world: World,
) -> None:
    keywords = await world.queries.keywords.extract("what about it", QueryParam(), [])
    assert keywords == Keywords(high=[], low=["what about it"])


async def test_empty_extraction_of_a_long_query_stays_empty(world: World) -> None:
    query = "what about it and so on, and who is it, and why and how and why not, and so on"
    assert len(query) >= 50
    keywords = await world.queries.keywords.extract(query, QueryParam(), [])
    assert keywords.empty
