"""Token budgets of the answer context are exact: what is kept fits, what is cut did not.

``build_context`` on synthetic ranked lists with the real tokenizer, over sweeps of
budgets: each section, counted as joined in the prompt, stays within its budget; the
whole prompt (system prompt with the context, query, history, safety margin) stays
within ``max_total_tokens``; each list is a prefix of the ranking, and its next item
would not have fitted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from lightrag.core.context_builder import (
    TOKEN_SAFETY_MARGIN,
    BuiltContext,
    build_context,
    render_system_prompt,
)
from lightrag.core.tokenizer import get_tokenizer
from lightrag.vocabulary.types import Message, QueryParam

TOKENIZER = get_tokenizer()
QUERY = "Which programs restore coastal wetlands, and who funds them?"
HISTORY: list[Message] = [
    Message(role="user", content="Tell me about wetlands."),
    Message(role="assistant", content="Wetlands are shallow, vegetated water bodies."),
]
WORDS = str.split("marsh reed heron tide silt delta sluice levee peat dune mangrove estuary")


def _text(i: int, words: int) -> str:
    return " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(words)) + f" item {i}."


ENTITIES = [
    {"entity_name": f"Entity {i}", "entity_type": "organization", "description": _text(i, 5 + i)}
    for i in range(40)
]
RELATIONS = [
    {
        "src_id": f"Entity {i}",
        "tgt_id": f"Entity {i + 1}",
        "description": _text(i, 8 + (i % 9)),
        "keywords": "funding",
        "weight": 1.0,
    }
    for i in range(40)
]
CHUNKS = [
    {
        "chunk_id": f"chunk-{i}",
        "content": _text(i, 60 + 13 * (i % 5)),
        "file_path": f"reports/doc-{i // 2}.md",
        "full_doc_id": f"doc-{i // 2}",
    }
    for i in range(30)
]


def _entity_line(e: dict[str, Any]) -> str:
    record = {"entity": e["entity_name"], "type": e["entity_type"], "description": e["description"]}
    return json.dumps(record, ensure_ascii=False)


def _relation_line(r: dict[str, Any]) -> str:
    record = {"entity1": r["src_id"], "entity2": r["tgt_id"], "description": r["description"]}
    return json.dumps(record, ensure_ascii=False)


def _lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


def _cost(lines: Sequence[str]) -> int:
    """What the builder charges for lines: their tokens plus one per newline."""
    return sum(TOKENIZER.count(line) + 1 for line in lines)


def _build(**budgets: int) -> tuple[BuiltContext, QueryParam]:
    param = QueryParam(**budgets)
    built = build_context(
        entities=ENTITIES,
        relations=RELATIONS,
        chunks=CHUNKS,
        query=QUERY,
        history=HISTORY,
        param=param,
        tokenizer=TOKENIZER,
    )
    return built, param


def _prompt_tokens(built: BuiltContext, param: QueryParam) -> int:
    return (
        TOKENIZER.count(render_system_prompt(built.text, param))
        + TOKENIZER.count(QUERY)
        + sum(TOKENIZER.count(m["content"]) + 4 for m in HISTORY)
        + TOKEN_SAFETY_MARGIN
    )


@pytest.mark.parametrize("budget", [0, 1, 17, 40, 41, 99, 250, 613, 1000])
def test_entity_section_fits_its_budget_and_the_next_entity_would_not(budget: int) -> None:
    built, _ = _build(max_entity_tokens=budget)
    lines = _lines(built.text, '{"entity": ')
    assert built.entities == ENTITIES[: len(built.entities)]
    assert lines == [_entity_line(e) for e in built.entities]
    assert TOKENIZER.count("\n".join(lines)) <= budget
    assert _cost(lines) <= budget
    assert len(built.entities) < len(ENTITIES)
    assert _cost([*lines, _entity_line(ENTITIES[len(lines)])]) > budget


@pytest.mark.parametrize("budget", [0, 1, 30, 55, 120, 400, 777, 1500])
def test_relation_section_fits_its_budget_and_the_next_relation_would_not(budget: int) -> None:
    built, _ = _build(max_relation_tokens=budget)
    lines = _lines(built.text, '{"entity1": ')
    assert built.relations == RELATIONS[: len(built.relations)]
    assert TOKENIZER.count("\n".join(lines)) <= budget
    assert _cost(lines) <= budget
    assert len(built.relations) < len(RELATIONS)
    assert _cost([*lines, _relation_line(RELATIONS[len(lines)])]) > budget


@pytest.mark.parametrize("total", [400, 700, 800, 1200, 1900, 2600, 3333, 5000, 9000, 30000])
def test_whole_prompt_fits_max_total_tokens(total: int) -> None:
    built, param = _build(max_total_tokens=total)
    assert _prompt_tokens(built, param) <= total
    assert built.entities == ENTITIES[: len(built.entities)]
    assert built.relations == RELATIONS[: len(built.relations)]
    assert [c["chunk_id"] for c in built.chunks] == [
        c["chunk_id"] for c in CHUNKS[: len(built.chunks)]
    ]


def test_a_total_too_small_for_the_prompt_keeps_nothing() -> None:
    built, _ = _build(max_total_tokens=300)  # less than the system prompt alone
    assert built.entities == [] and built.relations == [] and built.chunks == []
    assert built.references == []


def test_the_total_cuts_entities_then_relations_then_chunks_in_that_priority() -> None:
    free, _ = _build(max_entity_tokens=400, max_relation_tokens=400, max_total_tokens=30000)
    full_entities, full_relations = len(free.entities), len(free.relations)
    assert full_entities and full_relations and free.chunks
    skeleton = _prompt_tokens(_build(max_total_tokens=1)[0], QueryParam())
    # room for the entity section and half the relation section, nothing for chunks
    entity_cost = _cost(_lines(free.text, '{"entity": '))
    relation_cost = _cost(_lines(free.text, '{"entity1": '))
    total = skeleton + entity_cost + relation_cost // 2
    built, param = _build(max_entity_tokens=400, max_relation_tokens=400, max_total_tokens=total)
    assert len(built.entities) == full_entities
    assert 0 < len(built.relations) < full_relations
    assert built.chunks == []
    assert _prompt_tokens(built, param) <= total


def test_chunks_take_what_the_sections_leave_and_stop_at_the_first_that_does_not_fit() -> None:
    total = 2600
    built, param = _build(max_entity_tokens=200, max_relation_tokens=200, max_total_tokens=total)
    assert 0 < len(built.chunks) < len(CHUNKS)
    assert _prompt_tokens(built, param) <= total
    fixed = _prompt_tokens(_build(max_total_tokens=1)[0], param)  # nothing kept: the skeleton
    charged = (
        _cost(_lines(built.text, '{"entity": '))
        + _cost(_lines(built.text, '{"entity1": '))
        + _cost(_lines(built.text, '{"reference_id": '))
        + _cost([f"[{ref.reference_id}] {ref.file_path}" for ref in built.references])
    )
    assert fixed + charged <= total
    nxt = CHUNKS[len(built.chunks)]
    known = {ref.doc_id: ref.reference_id for ref in built.references}
    reference_id = known.get(nxt["full_doc_id"], str(len(known) + 1))
    line = json.dumps({"reference_id": reference_id, "content": nxt["content"]})
    extra = _cost([line])
    if nxt["full_doc_id"] not in known:
        extra += _cost([f"[{reference_id}] {nxt['file_path']}"])
    assert fixed + charged + extra > total


def test_remembered_token_counts_equal_fresh_ones_and_the_memory_stays_bounded() -> None:
    from lightrag.core import tokenizer as tokenizer_module

    fresh = tokenizer_module.get_tokenizer.__wrapped__()  # a private instance
    lines = [_entity_line(e) for e in ENTITIES] + [c["content"] * 40 for c in CHUNKS[:3]]
    first = [fresh.count(line) for line in lines]
    again = [fresh.count(line) for line in lines]
    assert first == again == [len(fresh.encode(line)) for line in lines]
    for i in range(tokenizer_module._MEMO_ENTRIES + 10):
        fresh.count(f"line {i}")
    assert len(fresh._counts) <= tokenizer_module._MEMO_ENTRIES
    assert fresh.count(lines[0]) == first[0]
