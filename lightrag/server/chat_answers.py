"""Answering a chat turn from a chat front end: through the engine, or straight to the LLM.

Both compatible APIs (Ollama, OpenAI) call these; each request builds its own
parameters, so concurrent requests share no mutable state (the system prompt goes
with the call, never into a shared model setting).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from lightrag.config.models import AppConfig
from lightrag.core.engine import LightRAG
from lightrag.server.chat_routing import (
    ChatTurn,
    build_query_param,
    is_front_end_task,
    route_query,
)
from lightrag.server.limits import check_query_length

__all__ = ["complete_chat", "count_prompt_tokens", "count_tokens", "stream_chat"]


async def _once(text: str) -> AsyncIterator[str]:
    yield text


def count_tokens(rag: LightRAG, text: str) -> int:
    """Tokens of ``text`` in the engine's tokenizer (an estimate of the model's count)."""
    return rag.count_tokens(text)


def count_prompt_tokens(rag: LightRAG, turn: ChatTurn) -> int:
    """Tokens of the question, the history and the system prompt."""
    texts = [turn.query, turn.system_prompt or ""]
    texts.extend(message["content"] for message in turn.history)
    return sum(count_tokens(rag, text) for text in texts)


async def complete_chat(rag: LightRAG, config: AppConfig, turn: ChatTurn) -> str:
    """The whole reply to ``turn``.

    Front-end task prompts go to the LLM as sent; everything else is routed by its
    prefix through ``rag.query``. Raises ``ChatRequestError`` / ``ValueError`` for a
    bad request, ``HTTPException`` (422) for an over-long one, ``ModelError`` when
    the LLM fails.
    """
    check_query_length(turn.query, config.server)
    if is_front_end_task(turn.query):
        return await rag.chat(turn.query, system_prompt=turn.system_prompt, history=turn.history)
    route = route_query(turn.query, config.server.default_chat_mode)
    result = await rag.query(route.query, build_query_param(route, turn, config, stream=False))
    return result.response


async def stream_chat(rag: LightRAG, config: AppConfig, turn: ChatTurn) -> AsyncIterator[str]:
    """The reply to ``turn`` as text pieces; same routing and errors as ``complete_chat``.

    Retrieval happens before this returns, so its errors surface before any byte is
    sent; the caller must consume or ``aclose()`` the returned iterator.
    """
    check_query_length(turn.query, config.server)
    if is_front_end_task(turn.query):
        return rag.chat_stream(turn.query, system_prompt=turn.system_prompt, history=turn.history)
    route = route_query(turn.query, config.server.default_chat_mode)
    answer = await rag.query_stream(
        route.query, build_query_param(route, turn, config, stream=True)
    )
    return answer.pieces
