"""Query parameters: counts, token budgets, response type, user prompt, history,
context/prompt-only answers, references and the empty-retrieval answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightrag.core.query_prompts import ANSWER_MARKER, NO_CONTEXT_RESPONSE
from lightrag.vocabulary.types import QueryParam

from .query_seed import DOCS, World, close_world, open_world

QUESTION = "What does Acme Corp do?"
KEYWORDS = {"ll_keywords": ["Acme Corp"], "hl_keywords": ["solar energy"]}


def line_of(response: str, prefix: str) -> str:
    return next(line for line in response.splitlines() if line.startswith(prefix))


async def test_top_k_limits_the_entities_found(world: World) -> None:
    few = await world.queries.retrieve(QUESTION, QueryParam(mode="local", top_k=1, **KEYWORDS))
    many = await world.queries.retrieve(QUESTION, QueryParam(mode="local", top_k=10, **KEYWORDS))
    assert [e["entity_name"] for e in few.entities] == ["Acme Corp"]
    assert len(many.entities) > 1


async def test_chunk_top_k_limits_the_vector_chunks(world: World) -> None:
    one = await world.queries.retrieve("Acme Corp solar", QueryParam(mode="naive", chunk_top_k=1))
    more = await world.queries.retrieve("Acme Corp solar", QueryParam(mode="naive", chunk_top_k=5))
    assert len(one.chunks) == 1
    assert len(more.chunks) > 1


async def test_zero_entity_budget_leaves_out_entities_but_keeps_relations(world: World) -> None:
    param = QueryParam(mode="local", max_entity_tokens=0, **KEYWORDS)
    context = await world.queries.retrieve(QUESTION, param)
    assert context.entities == []
    assert context.relationships


async def test_relation_budget_cuts_the_relation_list(world: World) -> None:
    full = await world.queries.retrieve(QUESTION, QueryParam(mode="local", **KEYWORDS))
    cut = await world.queries.retrieve(
        QUESTION, QueryParam(mode="local", max_relation_tokens=40, **KEYWORDS)
    )
    assert 0 < len(cut.relationships) < len(full.relationships)
    assert cut.relationships == full.relationships[: len(cut.relationships)]


async def test_chunks_get_only_what_the_total_budget_leaves(world: World) -> None:
    full = await world.queries.retrieve(QUESTION, QueryParam(mode="local", **KEYWORDS))
    prompt = await world.queries.query(
        QUESTION, QueryParam(mode="local", only_need_prompt=True, **KEYWORDS)
    )
    tokens = world.ctx.tokenizer.count(prompt.response)
    tight = QueryParam(mode="local", max_total_tokens=tokens + 60, **KEYWORDS)
    cut = await world.queries.retrieve(QUESTION, tight)
    assert len(full.chunks) >= 3
    assert 0 < len(cut.chunks) < len(full.chunks)
    assert cut.entities == full.entities and cut.relationships == full.relationships
    starved = await world.queries.retrieve(
        QUESTION, QueryParam(mode="local", max_total_tokens=50, **KEYWORDS)
    )
    # the total bounds the whole prompt: 50 tokens do not even hold the system prompt
    assert starved.chunks == [] and starved.entities == [] and starved.relationships == []


async def test_response_type_and_user_prompt_reach_the_model(world: World) -> None:
    param = QueryParam(
        mode="local", response_type="Bullet Points", user_prompt="Answer in French.", **KEYWORDS
    )
    result = await world.queries.query(QUESTION, param)
    assert line_of(result.response, "response type:") == "response type: Bullet Points"
    assert line_of(result.response, "instructions:") == "instructions: Answer in French."


async def test_conversation_history_is_passed_as_chat_turns_limited_by_history_turns(
    world: World,
) -> None:
    history = [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
    ]
    param = QueryParam(mode="local", conversation_history=history, history_turns=1, **KEYWORDS)
    result = await world.queries.query(QUESTION, param)
    assert line_of(result.response, "history messages:") == "history messages: 2"
    none = param.model_copy(update={"history_turns": 0})
    result = await world.queries.query(QUESTION, none)
    assert line_of(result.response, "history messages:") == "history messages: 0"


async def test_malformed_history_and_empty_query_are_rejected(world: World) -> None:
    bad = QueryParam(conversation_history=[{"role": "robot", "content": "x"}])
    with pytest.raises(ValueError, match="conversation_history"):
        await world.queries.query(QUESTION, bad)
    with pytest.raises(ValueError, match="non-empty"):
        await world.queries.query("   ", QueryParam())


async def test_only_need_context_returns_the_context_without_calling_the_model(
    world: World,
) -> None:
    result = await world.queries.query(
        QUESTION, QueryParam(mode="mix", only_need_context=True, **KEYWORDS)
    )
    assert not result.llm_generated
    assert world.llm.calls["answer"] == 0
    assert '{"entity": "Acme Corp"' in result.response
    assert "### Reference list" in result.response
    assert ANSWER_MARKER not in result.response


async def test_only_need_prompt_returns_system_prompt_context_and_query(world: World) -> None:
    result = await world.queries.query(
        QUESTION, QueryParam(mode="local", only_need_prompt=True, **KEYWORDS)
    )
    assert not result.llm_generated
    assert world.llm.calls["answer"] == 0
    assert result.response.startswith(ANSWER_MARKER)
    assert '{"entity": "Acme Corp"' in result.response
    assert result.response.rstrip().endswith(QUESTION)


async def test_references_number_the_documents_of_the_chunks_used(world: World) -> None:
    result = await world.queries.query(QUESTION, QueryParam(mode="local", **KEYWORDS))
    assert result.context is not None
    by_id = {ref.reference_id: ref for ref in result.references}
    assert [ref.reference_id for ref in result.references] == [
        str(i) for i in range(1, len(by_id) + 1)
    ]
    for chunk in result.context.chunks:
        reference = by_id[chunk["reference_id"]]
        assert reference.file_path == chunk["file_path"]
        assert reference.doc_id is not None
        assert chunk["content"] in DOCS[reference.doc_id][1]
        assert reference.content is not None and chunk["content"] in reference.content
    assert {ref.file_path for ref in result.references} == {"reports/energy.md", "reports/space.md"}


async def test_include_references_false_returns_no_references(world: World) -> None:
    param = QueryParam(mode="local", include_references=False, **KEYWORDS)
    result = await world.queries.query(QUESTION, param)
    assert result.references == []


async def test_retrieve_returns_records_in_the_query_data_shape(world: World) -> None:
    context = await world.queries.retrieve(QUESTION, QueryParam(mode="mix", **KEYWORDS))
    entity_fields = {"entity_name", "entity_type", "description", "source_id", "file_path"}
    relation_fields = {"src_id", "tgt_id", "description", "keywords", "weight", "source_id"}
    assert set(context.entities[0]) == entity_fields | {"created_at"}
    assert set(context.relationships[0]) == relation_fields | {"file_path", "created_at"}
    assert set(context.chunks[0]) == {"reference_id", "content", "file_path", "chunk_id"}
    assert context.low_level_keywords == ["Acme Corp"]
    assert context.high_level_keywords == ["solar energy"]


async def test_empty_retrieval_answers_no_context_without_calling_the_model(
    tmp_path: Path,
) -> None:
    empty = await open_world(tmp_path)
    result = await empty.queries.query("What does Acme Corp do?", QueryParam(mode="mix"))
    assert result.response == NO_CONTEXT_RESPONSE
    assert not result.llm_generated
    assert empty.llm.calls["answer"] == 0
    await close_world(empty)
