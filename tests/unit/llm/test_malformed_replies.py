"""A reply of the wrong shape is a ``ModelError`` naming the binding, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from model_protocol_server import FAST_RETRIES, ModelProtocolServer, Step

from lightrag.llm.ollama import OllamaChatModel, OllamaEmbeddingModel
from lightrag.llm.openai import OpenAIChatModel, OpenAIEmbeddingModel
from lightrag.vocabulary.models import ModelError

MALFORMED_OLLAMA_CHAT: list[Any] = [
    {"message": None, "done": True},
    {"message": "plain text instead of an object", "done": True},
    {"message": {"role": "assistant", "content": None}, "done": True},
    ["not", "an", "object"],
]
MALFORMED_OPENAI_CHAT: list[Any] = [
    {"choices": []},
    {"choices": ["text instead of a choice object"]},
    {"choices": [{"message": "text instead of a message object"}]},
    {"choices": [{"message": None, "finish_reason": "length"}]},
]
MALFORMED_OPENAI_EMBEDDINGS: list[Any] = [
    {"data": ["text instead of an embedding object"]},
    {"data": [{"index": 0}]},
    {"data": [{"index": 0, "embedding": {"not": "a vector"}}]},
    {"data": None},
]


@pytest.mark.parametrize("reply", MALFORMED_OLLAMA_CHAT)
async def test_ollama_chat_reply_of_the_wrong_shape_is_a_model_error(
    server: ModelProtocolServer, reply: Any
) -> None:
    server.state.plan("/api/chat", Step(body=reply))
    llm = OllamaChatModel({"host": server.url, "model": "m", **FAST_RETRIES})
    with pytest.raises(ModelError, match=r"ollama chat model 'm' at .*: reply has no"):
        await llm.complete("hello")
    await llm.aclose()


@pytest.mark.parametrize("reply", MALFORMED_OPENAI_CHAT)
async def test_openai_chat_reply_of_the_wrong_shape_is_a_model_error(
    server: ModelProtocolServer, reply: Any
) -> None:
    server.state.plan("/v1/chat/completions", Step(body=reply))
    llm = OpenAIChatModel({"host": f"{server.url}/v1", "model": "m", **FAST_RETRIES})
    with pytest.raises(ModelError, match=r"openai chat model 'm' at .*: reply has no"):
        await llm.complete("hello")
    await llm.aclose()


@pytest.mark.parametrize("reply", MALFORMED_OPENAI_EMBEDDINGS)
async def test_openai_embedding_reply_of_the_wrong_shape_is_a_model_error(
    server: ModelProtocolServer, reply: Any
) -> None:
    server.state.plan("/v1/embeddings", Step(body=reply))
    model = OpenAIEmbeddingModel(
        {"host": f"{server.url}/v1", "model": "e", "dim": 8, **FAST_RETRIES}
    )
    with pytest.raises(ModelError, match=r"openai embedding model 'e' at .*"):
        await model.embed(["hello"])
    await model.aclose()


async def test_ollama_embed_reply_of_the_wrong_shape_is_a_model_error(
    server: ModelProtocolServer,
) -> None:
    server.state.plan("/api/embed", Step(body={"embeddings": "not a list"}))
    model = OllamaEmbeddingModel({"host": server.url, "model": "e", "dim": 8, **FAST_RETRIES})
    with pytest.raises(ModelError, match=r"ollama embedding model 'e' at .*'embeddings' list"):
        await model.embed(["hello"])
    await model.aclose()


async def test_openai_stream_events_of_the_wrong_shape_are_skipped_not_a_crash(
    server: ModelProtocolServer,
) -> None:
    events = [
        {"choices": ["text instead of a choice object"]},
        {"choices": [{"delta": None}]},
        {"choices": [{"delta": {"content": "kept"}}]},
        {"choices": [{"delta": {}, "finish_reason": "stop"}]},
    ]
    sse = "".join(f"data: {json.dumps(event)}\n\n" for event in events) + "data: [DONE]\n\n"
    server.state.plan("/v1/chat/completions", Step(body=sse))
    llm = OpenAIChatModel({"host": f"{server.url}/v1", "model": "m", **FAST_RETRIES})
    assert [piece async for piece in llm.stream("hello")] == ["kept"]
    await llm.aclose()


async def test_ollama_stream_line_without_a_message_object_is_skipped_not_a_crash(
    server: ModelProtocolServer,
) -> None:
    lines = [
        {"message": None, "done": False},
        {"message": {"role": "assistant", "content": "kept"}, "done": False},
        {"message": "text", "done": True},
    ]
    server.state.plan("/api/chat", Step(body="".join(json.dumps(line) + "\n" for line in lines)))
    llm = OllamaChatModel({"host": server.url, "model": "m", **FAST_RETRIES})
    assert [piece async for piece in llm.stream("hello")] == ["kept"]
    await llm.aclose()
