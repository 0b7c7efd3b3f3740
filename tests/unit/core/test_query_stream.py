"""Streamed answers: references up front, pieces relayed, cached only when complete."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from lightrag.core.query_prompts import NO_CONTEXT_RESPONSE
from lightrag.vocabulary.types import Message, QueryParam

from .query_seed import World, close_world, open_world, seed

QUESTION = "What does Acme Corp do?"
PARAM = QueryParam(mode="local", ll_keywords=["Acme Corp"], hl_keywords=["solar energy"])


async def collect(pieces: AsyncIterator[str]) -> list[str]:
    return [piece async for piece in pieces]


async def test_stream_relays_the_same_answer_as_query_with_references_up_front(
    tmp_path: Path,
) -> None:
    streamed_world = await open_world(tmp_path / "s")
    await seed(streamed_world)
    answer = await streamed_world.queries.query_stream(QUESTION, PARAM)
    assert answer.references and answer.llm_generated
    pieces = await collect(answer.pieces)
    assert len(pieces) > 1
    await close_world(streamed_world)

    plain_world = await open_world(tmp_path / "p")
    await seed(plain_world)
    result = await plain_world.queries.query(QUESTION, PARAM)
    await close_world(plain_world)
    assert "".join(pieces) == result.response
    assert answer.references == result.references


async def test_completed_stream_is_cached_for_the_next_query(world: World) -> None:
    answer = await world.queries.query_stream(QUESTION, PARAM)
    text = "".join(await collect(answer.pieces))
    result = await world.queries.query(QUESTION, PARAM)
    assert result.cached and result.response == text
    again = await world.queries.query_stream(QUESTION, PARAM)
    assert await collect(again.pieces) == [text]
    assert world.llm.calls["answer"] == 1


async def test_stream_closed_early_is_not_cached(world: World) -> None:
    answer = await world.queries.query_stream(QUESTION, PARAM)
    first = await anext(answer.pieces)
    assert first
    await answer.pieces.aclose()  # type: ignore[attr-defined]
    result = await world.queries.query(QUESTION, PARAM)
    assert not result.cached
    assert world.llm.calls["answer"] == 2


class EndlessModel:
    """A chat model whose stream never ends on its own; records when it is closed."""

    identity = "fake:endless"

    def __init__(self) -> None:
        self.closed = asyncio.Event()
        self.sent = 0

    async def complete(self, prompt: str, **_: object) -> str:
        return '{"high_level_keywords": [], "low_level_keywords": ["Acme Corp"]}'

    async def stream(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        try:
            while True:
                self.sent += 1
                yield f"piece{self.sent} "
                await asyncio.sleep(0)
        finally:
            self.closed.set()

    async def aclose(self) -> None:
        return None


async def test_closing_the_stream_closes_the_model_stream(tmp_path: Path) -> None:
    model = EndlessModel()
    world = await open_world(tmp_path, llm=model)  # type: ignore[arg-type]
    await seed(world)
    answer = await world.queries.query_stream(QUESTION, PARAM)
    received = [await anext(answer.pieces) for _ in range(3)]
    await answer.pieces.aclose()  # type: ignore[attr-defined]
    assert received == ["piece1 ", "piece2 ", "piece3 "]
    assert model.closed.is_set()
    assert model.sent == 3
    await close_world(world)


async def test_stream_of_context_only_and_empty_retrieval_needs_no_model(
    world: World, tmp_path: Path
) -> None:
    context_only = PARAM.model_copy(update={"only_need_context": True})
    answer = await world.queries.query_stream(QUESTION, context_only)
    (text,) = await collect(answer.pieces)
    assert not answer.llm_generated and "### Reference list" in text
    empty = await open_world(tmp_path / "empty")
    answer = await empty.queries.query_stream(QUESTION, PARAM)
    assert await collect(answer.pieces) == [NO_CONTEXT_RESPONSE]
    assert not answer.llm_generated and answer.references == []
    assert world.llm.calls["answer"] == 0 and empty.llm.calls["answer"] == 0
    await close_world(empty)


async def test_bypass_stream_is_cached_once_complete(world: World) -> None:
    param = QueryParam(mode="bypass", conversation_history=[{"role": "user", "content": "hi"}])
    answer = await world.queries.query_stream("Say something", param)
    text = "".join(await collect(answer.pieces))
    result = await world.queries.query("Say something", param)
    assert result.cached and result.response == text
    assert world.llm.calls["generic"] == 1
