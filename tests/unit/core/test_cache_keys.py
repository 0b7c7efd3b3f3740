"""The answer cache key covers every input that changes the answer: the same inputs
hit (no model call), a change to any one of them misses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lightrag.config.models import RagConfig
from lightrag.core.query_prompts import ANSWER_MARKER, KEYWORDS_MARKER
from lightrag.testing.fakes import FakeChatModel, FakeHandler, FakeRequest
from lightrag.vocabulary.ids import chunk_id
from lightrag.vocabulary.types import QueryParam

from .query_seed import World, close_world, open_world, seed

QUESTION = "What does Acme Corp build?"
BASE = QueryParam(mode="mix", ll_keywords=["Acme Corp"], hl_keywords=["wind power"])


async def test_same_inputs_hit_the_cache_without_a_model_call(world: World) -> None:
    first = await world.queries.query(QUESTION, BASE)
    second = await world.queries.query(QUESTION, BASE.model_copy())
    assert not first.cached and second.cached
    assert second.response == first.response
    assert second.references == first.references
    assert world.llm.calls["answer"] == 1


@pytest.mark.parametrize(
    ("question", "change"),
    [
        ("What else does Acme Corp build?", {}),
        (QUESTION, {"mode": "hybrid"}),
        (QUESTION, {"top_k": 2}),
        (QUESTION, {"chunk_top_k": 1}),
        (QUESTION, {"max_entity_tokens": 30}),
        (QUESTION, {"max_relation_tokens": 30}),
        (QUESTION, {"max_total_tokens": 900}),
        (QUESTION, {"response_type": "Single Paragraph"}),
        (QUESTION, {"user_prompt": "Be brief."}),
        (QUESTION, {"hl_keywords": ["manufacturing"]}),
        (QUESTION, {"ll_keywords": ["Denmark"]}),
        (QUESTION, {"conversation_history": [{"role": "user", "content": "earlier"}]}),
    ],
    ids=[
        "query",
        "mode",
        "top_k",
        "chunk_top_k",
        "max_entity_tokens",
        "max_relation_tokens",
        "max_total_tokens",
        "response_type",
        "user_prompt",
        "hl_keywords",
        "ll_keywords",
        "history",
    ],
)
async def test_changing_one_input_misses_the_cache(
    world: World, question: str, change: dict[str, Any]
) -> None:
    await world.queries.query(QUESTION, BASE)
    changed = await world.queries.query(question, BASE.model_copy(update=change))
    assert not changed.cached
    assert world.llm.calls["answer"] == 2


async def test_another_model_misses_the_cache(tmp_path: Path) -> None:
    first = await open_world(tmp_path)
    await seed(first)
    await first.queries.query(QUESTION, BASE)
    await close_world(first)
    other = await open_world(tmp_path, llm=FakeChatModel({"model": "other-model"}))
    result = await other.queries.query(QUESTION, BASE)
    assert not result.cached and other.llm.calls["answer"] == 1
    await close_world(other)
    same = await open_world(tmp_path)
    assert (await same.queries.query(QUESTION, BASE)).cached
    await close_world(same)


async def test_new_document_that_changes_the_context_misses_the_cache(world: World) -> None:
    param = QueryParam(mode="naive")
    await world.queries.query("Acme Corp wind turbines", param)
    text = "Acme Corp opened a second wind turbines plant."
    new_chunk = {
        "content": text,
        "tokens": 9,
        "chunk_order_index": 0,
        "full_doc_id": "doc-new",
        "file_path": "news.md",
    }
    chunk = chunk_id("doc-new", text)
    await world.storages.text_chunks.upsert({chunk: new_chunk})
    await world.storages.chunks_vdb.upsert({chunk: new_chunk}, await world.ctx.embed([text]))
    result = await world.queries.query("Acme Corp wind turbines", param)
    assert not result.cached
    assert text in result.response


async def test_disabled_cache_never_hits(tmp_path: Path) -> None:
    world = await open_world(tmp_path, config=RagConfig(enable_llm_cache=False))
    await seed(world)
    await world.queries.query(QUESTION, BASE)
    result = await world.queries.query(QUESTION, BASE)
    assert not result.cached and world.llm.calls["answer"] == 2
    assert await world.storages.llm_cache.is_empty()
    await close_world(world)


async def test_queries_do_not_rewrite_the_cache_file(world: World, tmp_path: Path) -> None:
    cache_file = tmp_path / "kv_store_llm_response_cache.json"
    before = cache_file.stat().st_mtime_ns if cache_file.exists() else None
    for mode in ("local", "mix", "naive", "bypass"):
        await world.queries.query(QUESTION, BASE.model_copy(update={"mode": mode}))
    assert world.llm.calls["answer"] == 3 and world.llm.calls["generic"] == 1
    after = cache_file.stat().st_mtime_ns if cache_file.exists() else None
    assert after == before
    assert len(await world.storages.llm_cache.keys()) == 4  # three answers and the bypass


async def test_blank_answers_and_empty_keywords_are_not_cached(tmp_path: Path) -> None:
    def is_blank_task(request: FakeRequest) -> bool:
        return (request.system_prompt or "").startswith((ANSWER_MARKER, KEYWORDS_MARKER))

    blank = FakeChatModel(handlers=[FakeHandler("blank", is_blank_task, lambda m, r: " \n")])
    world = await open_world(tmp_path, llm=blank)
    await seed(world)
    param = QueryParam(mode="local")
    for _ in range(2):
        result = await world.queries.query("Acme Corp", param)
        assert not result.cached and result.response == " \n"
    assert blank.calls["blank"] == 4  # keywords and answer asked again each time
    assert await world.storages.llm_cache.is_empty()
    await close_world(world)
