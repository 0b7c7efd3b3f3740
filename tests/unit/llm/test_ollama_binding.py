"""Ollama bindings against the protocol server (and the official ``ollama`` client)."""

from __future__ import annotations

import numpy as np
import ollama
import pytest
from model_protocol_server import FAST_RETRIES, ModelProtocolServer, Step, answer_for

from lightrag.llm.ollama import OllamaChatModel, OllamaEmbeddingModel
from lightrag.testing.fakes import HashingEmbeddingModel
from lightrag.vocabulary.models import ChatModel, EmbeddingModel, ModelError


def chat(server: ModelProtocolServer, **extra: object) -> OllamaChatModel:
    return OllamaChatModel({"host": server.url, "model": "qwen2.5:7b", **FAST_RETRIES, **extra})


def embedder(server: ModelProtocolServer, **extra: object) -> OllamaEmbeddingModel:
    config = {"host": server.url, "model": "bge-m3:latest", "dim": 8, **FAST_RETRIES, **extra}
    return OllamaEmbeddingModel(config)


async def test_bindings_satisfy_the_model_protocols(server: ModelProtocolServer) -> None:
    llm, emb = chat(server), embedder(server)
    assert isinstance(llm, ChatModel)
    assert isinstance(emb, EmbeddingModel)
    assert llm.identity == "ollama:qwen2.5:7b"
    assert emb.identity == "ollama:bge-m3:latest"
    assert (emb.dim, emb.max_tokens) == (8, 8192)
    await llm.aclose()
    await emb.aclose()


async def test_complete_sends_messages_num_ctx_keep_alive_and_bearer_key(
    server: ModelProtocolServer,
) -> None:
    server.state.required_key = "ollama-key-123"
    llm = chat(server, num_ctx=4096, keep_alive="10m", api_key="ollama-key-123")
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    answer = await llm.complete("what?", system_prompt="be brief", history=history, max_tokens=50)
    assert answer == answer_for("what?")
    (body,) = server.state.bodies("/api/chat")
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        *history,
        {"role": "user", "content": "what?"},
    ]
    assert body["stream"] is False
    assert body["options"] == {"num_ctx": 4096, "num_predict": 50}
    assert body["keep_alive"] == "10m"
    assert server.state.seen[0].headers["authorization"] == "Bearer ollama-key-123"
    await llm.aclose()


async def test_json_mode_asks_ollama_for_json_format(server: ModelProtocolServer) -> None:
    llm = chat(server)
    answer = await llm.complete("keywords please", json_mode=True)
    assert server.state.bodies("/api/chat")[0]["format"] == "json"
    assert answer.startswith("{")
    await llm.aclose()


async def test_stream_yields_the_ndjson_pieces_in_order(server: ModelProtocolServer) -> None:
    llm = chat(server)
    pieces = [piece async for piece in llm.stream("tell me")]
    assert len(pieces) > 3
    assert "".join(pieces) == answer_for("tell me")
    assert server.state.bodies("/api/chat")[0]["stream"] is True
    await llm.aclose()


async def test_error_line_in_the_middle_of_the_stream_raises_model_error(
    server: ModelProtocolServer,
) -> None:
    server.state.stream_error_after = 2
    llm = chat(server)
    received = []
    with pytest.raises(ModelError, match="model runner crashed mid-answer") as caught:
        async for piece in llm.stream("tell me"):
            received.append(piece)
    assert len(received) == 2
    assert "ollama chat model 'qwen2.5:7b'" in str(caught.value)
    await llm.aclose()


async def test_embed_batches_concurrently_and_keeps_the_input_order(
    server: ModelProtocolServer,
) -> None:
    server.state.handler_delay = 0.2
    emb = embedder(server, batch_size=3, max_async=4)
    texts = [f"text number {i}" for i in range(10)]
    vectors = await emb.embed(texts)
    sizes = sorted(len(body["input"]) for body in server.state.bodies("/api/embed"))
    assert sizes == [1, 3, 3, 3]
    assert server.state.max_in_flight == 4
    expected = HashingEmbeddingModel({"dim": 8})
    assert vectors.dtype == np.float32
    assert vectors.shape == (10, 8)
    for row, text in zip(vectors, texts, strict=True):
        np.testing.assert_allclose(row, expected.embed_one(text), rtol=1e-6)
    body = server.state.bodies("/api/embed")[0]
    assert body["truncate"] is False
    assert body["options"]["num_ctx"] == 8192
    await emb.aclose()


async def test_embed_falls_back_to_the_legacy_endpoint_on_old_servers(
    server: ModelProtocolServer,
) -> None:
    server.state.ollama_legacy = True
    emb = embedder(server, batch_size=2)
    vectors = await emb.embed(["alpha", "beta", "gamma"])
    assert vectors.shape == (3, 8)
    prompts = sorted(body["prompt"] for body in server.state.bodies("/api/embeddings"))
    assert prompts == ["alpha", "beta", "gamma"]
    await emb.embed(["delta"])
    # the fallback is remembered: /api/embed is not asked again
    assert len(server.state.bodies("/api/embed")) <= 2
    assert len(server.state.bodies("/api/embeddings")) == 4
    await emb.aclose()


async def test_model_not_found_is_an_error_not_a_fallback(server: ModelProtocolServer) -> None:
    emb = embedder(server, model="missing")
    with pytest.raises(ModelError, match=r"HTTP 404.*not found, try pulling it"):
        await emb.embed(["alpha"])
    assert server.state.bodies("/api/embeddings") == []
    await emb.aclose()


async def test_wrong_vector_dimension_names_expected_and_got(
    server: ModelProtocolServer,
) -> None:
    server.state.embed_dim = 16
    emb = embedder(server)  # configured for 8
    with pytest.raises(ModelError, match=r"dimension 16, expected 8.*EMBEDDING_DIM"):
        await emb.embed(["alpha"])
    await emb.aclose()


async def test_official_client_parses_the_same_chat_and_embed_replies(
    server: ModelProtocolServer,
) -> None:
    client = ollama.AsyncClient(host=server.url)
    official = await client.chat(model="qwen2.5:7b", messages=[{"role": "user", "content": "hey"}])
    streamed = await client.chat(
        model="qwen2.5:7b", messages=[{"role": "user", "content": "hey"}], stream=True
    )
    official_pieces = [part.message.content async for part in streamed]
    embedded = await client.embed(model="bge-m3:latest", input=["alpha", "beta"])
    official_body = server.state.bodies("/api/chat")[0]

    llm, emb = chat(server), embedder(server)
    assert await llm.complete("hey") == official.message.content
    ours = [piece async for piece in llm.stream("hey")]
    assert ours == [p for p in official_pieces if p]
    ours_body = server.state.bodies("/api/chat")[-2]
    assert ours_body["messages"] == official_body["messages"]
    assert ours_body["model"] == official_body["model"]
    np.testing.assert_allclose(
        await emb.embed(["alpha", "beta"]), np.asarray(embedded.embeddings, dtype=np.float32)
    )
    await llm.aclose()
    await emb.aclose()


async def test_retries_a_503_then_succeeds(server: ModelProtocolServer) -> None:
    server.state.plan("/api/chat", Step(503), Step(503))
    llm = chat(server)
    assert await llm.complete("again") == answer_for("again")
    assert len(server.state.bodies("/api/chat")) == 3
    await llm.aclose()
