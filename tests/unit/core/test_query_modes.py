"""Each query mode retrieves from the right stores and answers from that context."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from lightrag.testing.fakes import DEFAULT_HANDLERS, FakeChatModel, FakeHandler, FakeRequest
from lightrag.vocabulary.types import QueryMode, QueryParam, RetrievedContext

from .query_seed import C_BOB, C_NOTES, C_WIND, World, close_world, open_world, seed


def names(context: RetrievedContext) -> list[str]:
    return [e["entity_name"] for e in context.entities]


def pairs(context: RetrievedContext) -> set[frozenset[str]]:
    return {frozenset((r["src_id"], r["tgt_id"])) for r in context.relationships}


def chunk_ids(context: RetrievedContext) -> list[str]:
    return [c["chunk_id"] for c in context.chunks]


async def test_local_mode_finds_entities_then_their_relations_and_chunks(world: World) -> None:
    param = QueryParam(mode="local", ll_keywords=["Denmark"], hl_keywords=["x"])
    context = await world.queries.retrieve("Which country hosts the factory?", param)
    assert names(context)[0] == "Denmark"
    assert frozenset(("Acme Corp", "Denmark")) in pairs(context)
    assert C_WIND in chunk_ids(context)
    assert C_NOTES not in chunk_ids(context)


async def test_global_mode_finds_relations_then_their_endpoints_and_chunks(world: World) -> None:
    param = QueryParam(mode="global", hl_keywords=["aerospace rockets"], ll_keywords=["x"])
    context = await world.queries.retrieve("Who flies what?", param)
    assert context.relationships[0]["src_id"] == "Bob Jones"
    assert context.relationships[0]["tgt_id"] == "Orbital Labs"
    assert {"Bob Jones", "Orbital Labs"} <= set(names(context))
    assert C_BOB in chunk_ids(context)


async def test_hybrid_mode_unites_local_and_global_results_without_duplicates(
    world: World,
) -> None:
    keywords = {"ll_keywords": ["Denmark"], "hl_keywords": ["aerospace rockets"]}
    local = await world.queries.retrieve("q", QueryParam(mode="local", **keywords))
    global_ = await world.queries.retrieve("q", QueryParam(mode="global", **keywords))
    hybrid = await world.queries.retrieve("q", QueryParam(mode="hybrid", **keywords))
    assert set(names(hybrid)) == set(names(local)) | set(names(global_))
    assert pairs(hybrid) == pairs(local) | pairs(global_)
    assert len(names(hybrid)) == len(set(names(hybrid)))
    assert len(chunk_ids(hybrid)) == len(set(chunk_ids(hybrid)))
    assert names(hybrid)[:2] == [names(local)[0], names(global_)[0]]  # round-robin


async def test_naive_mode_uses_chunk_vectors_only_and_no_keyword_call(world: World) -> None:
    context = await world.queries.retrieve("cafeteria lunch menu", QueryParam(mode="naive"))
    assert context.entities == [] and context.relationships == []
    assert chunk_ids(context)[0] == C_NOTES
    assert world.llm.calls["keywords"] == 0


async def test_mix_mode_adds_chunk_vectors_to_the_graph_context(world: World) -> None:
    param = QueryParam(mode="mix", ll_keywords=["Denmark"], hl_keywords=["wind power"])
    mix = await world.queries.retrieve("cafeteria lunch menu", param)
    hybrid = await world.queries.retrieve(
        "cafeteria lunch menu", param.model_copy(update={"mode": "hybrid"})
    )
    assert "Denmark" in names(mix)
    assert C_NOTES in chunk_ids(mix)
    assert C_NOTES not in chunk_ids(hybrid)


async def test_keywords_extracted_by_the_model_drive_local_retrieval(world: World) -> None:
    result = await world.queries.query("Who is Bob Jones?", QueryParam(mode="local"))
    assert result.context is not None
    assert result.context.low_level_keywords == ["Bob Jones"]
    assert names(result.context)[0] == "Bob Jones"
    assert world.llm.calls["keywords"] == 1
    assert "entities: Bob Jones" in result.response


async def test_answer_is_generated_from_the_retrieved_context(world: World) -> None:
    param = QueryParam(mode="local", ll_keywords=["Denmark"])
    result = await world.queries.query("Which country hosts the factory?", param)
    assert result.llm_generated and not result.cached
    relations_line = next(x for x in result.response.splitlines() if x.startswith("relations:"))
    assert {"Acme Corp", "Denmark"} <= set(relations_line[len("relations: ") :].split(" -- "))
    assert "Acme Corp builds wind turbines in Denmark" in result.response
    assert world.llm.calls["answer"] == 1


def _echo(model: FakeChatModel, request: FakeRequest) -> str:
    turns = " | ".join(f"{m['role']}:{m['content']}" for m in request.history)
    return f"prompt={request.prompt} system={request.system_prompt} history={turns}"


async def test_bypass_sends_the_query_and_history_straight_to_the_model(tmp_path: Path) -> None:
    echo = FakeChatModel(handlers=[*DEFAULT_HANDLERS, FakeHandler("echo", lambda r: True, _echo)])
    world = await open_world(tmp_path, llm=echo)
    await seed(world)
    history = [
        {"role": "user", "content": "old question"},
        {"role": "assistant", "content": "old answer"},
        {"role": "user", "content": "recent question"},
        {"role": "assistant", "content": "recent answer"},
    ]
    param = QueryParam(mode="bypass", conversation_history=history, history_turns=1)
    result = await world.queries.query("Acme Corp?", param)
    assert result.response == (
        "prompt=Acme Corp? system=None history=user:recent question | assistant:recent answer"
    )
    assert result.references == []
    assert echo.calls["keywords"] == 0 and world.embedding.calls == 3  # only the seeding
    await close_world(world)


class ExtractiveModel:
    """A deterministic ``NativeRagModel``: keywords and answers without prompts."""

    identity = "fake:extractive"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    async def complete(self, prompt: str, **_: object) -> str:
        self.prompts.append(prompt)
        return "prompted"

    async def stream(self, prompt: str, **_: object) -> AsyncIterator[str]:
        self.prompts.append(prompt)
        yield "prompted"

    async def aclose(self) -> None:
        return None

    async def extract_graph(self, text: str, *, chunk_id: str, file_path: str) -> object:
        raise AssertionError("not used by queries")

    async def extract_keywords(self, query: str) -> tuple[list[str], list[str]]:
        return ["rockets"], ["Bob Jones"]

    async def summarize_descriptions(self, name: str, descriptions: Sequence[str]) -> str:
        raise AssertionError("not used by queries")

    async def answer_from_context(self, query: str, context: RetrievedContext) -> str:
        return "extractive: " + ", ".join(e["entity_name"] for e in context.entities)


async def test_native_rag_model_extracts_keywords_and_answers_without_prompts(
    tmp_path: Path,
) -> None:
    model = ExtractiveModel()
    world = await open_world(tmp_path, llm=model)  # type: ignore[arg-type]
    await seed(world)
    result = await world.queries.query("anything at all", QueryParam(mode="local"))
    assert result.response.startswith("extractive: Bob Jones")
    assert result.context is not None and result.context.high_level_keywords == ["rockets"]
    stream = await world.queries.query_stream("something else", QueryParam(mode="local"))
    assert "".join([p async for p in stream.pieces]).startswith("extractive: Bob Jones")
    assert model.prompts == []
    await close_world(world)


@pytest.mark.parametrize(
    ("mode", "ll", "hl", "texts"),
    [
        ("mix", ["Acme Corp"], ["wind power"], 2),  # the query equals the keywords: once
        ("hybrid", ["Acme Corp"], ["wind power"], 2),
        ("local", ["Acme Corp"], [], 1),
        ("global", ["Acme Corp"], [], 1),  # no high-level keywords: the query stands in
        ("naive", [], [], 1),
    ],
)
async def test_query_and_keywords_are_embedded_in_one_call_without_empty_texts(
    world: World, mode: QueryMode, ll: list[str], hl: list[str], texts: int
) -> None:
    calls, embedded = world.embedding.calls, world.embedding.texts_embedded
    param = QueryParam(mode=mode, ll_keywords=ll, hl_keywords=hl)
    await world.queries.retrieve("Acme Corp", param)
    assert world.embedding.calls == calls + 1
    assert world.embedding.texts_embedded == embedded + texts
