"""OpenAI-compatible and Azure OpenAI bindings against the protocol server.

The official ``openai`` client is pointed at the same server as a cross-check:
both must parse the same replies to the same values, and send the same messages.
"""

from __future__ import annotations

import json

import numpy as np
import openai
import pytest
from model_protocol_server import FAST_RETRIES, ModelProtocolServer, answer_for

from lightrag.llm.azure_openai import AzureOpenAIChatModel, AzureOpenAIEmbeddingModel
from lightrag.llm.openai import OpenAIChatModel, OpenAIEmbeddingModel
from lightrag.testing.fakes import HashingEmbeddingModel
from lightrag.vocabulary.models import ModelError

KEY = "sk-cross-check-7781"


def chat(server: ModelProtocolServer, **extra: object) -> OpenAIChatModel:
    config = {"host": f"{server.url}/v1", "model": "gpt-test", "api_key": KEY}
    return OpenAIChatModel({**config, **FAST_RETRIES, **extra})


def embedder(server: ModelProtocolServer, **extra: object) -> OpenAIEmbeddingModel:
    config = {"host": f"{server.url}/v1", "model": "emb-test", "api_key": KEY, "dim": 8}
    return OpenAIEmbeddingModel({**config, **FAST_RETRIES, **extra})


def official(server: ModelProtocolServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)


async def test_chat_matches_the_official_client_request_and_reply(
    server: ModelProtocolServer,
) -> None:
    server.state.required_key = KEY
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "earlier"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": "now"},
    ]
    reference = await official(server).chat.completions.create(
        model="gpt-test",
        messages=messages,  # type: ignore[arg-type]
    )
    llm = chat(server)
    ours = await llm.complete("now", system_prompt="be brief", history=messages[1:3])  # type: ignore[arg-type]
    assert ours == reference.choices[0].message.content == answer_for("now")
    theirs_body, ours_body = server.state.bodies("/v1/chat/completions")
    assert ours_body["messages"] == theirs_body["messages"]
    assert ours_body["model"] == theirs_body["model"]
    theirs_headers, ours_headers = (seen.headers for seen in server.state.seen)
    assert ours_headers["authorization"] == theirs_headers["authorization"] == f"Bearer {KEY}"
    await llm.aclose()


async def test_stream_matches_the_official_client_pieces(server: ModelProtocolServer) -> None:
    stream = await official(server).chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "go on"}], stream=True
    )
    reference = [c.choices[0].delta.content async for c in stream if c.choices]
    llm = chat(server)
    ours = [piece async for piece in llm.stream("go on")]
    assert ours == [piece for piece in reference if piece]
    assert "".join(ours) == answer_for("go on")
    await llm.aclose()


async def test_error_event_in_the_middle_of_the_sse_stream_raises(
    server: ModelProtocolServer,
) -> None:
    server.state.stream_error_after = 1
    llm = chat(server)
    with pytest.raises(ModelError, match="upstream model overloaded mid-answer"):
        async for _ in llm.stream("go on"):
            pass
    await llm.aclose()


async def test_max_tokens_and_temperature_are_sent_under_the_configured_names(
    server: ModelProtocolServer,
) -> None:
    llm = chat(server, temperature=0.2, max_tokens_field="max_completion_tokens")
    await llm.complete("x", max_tokens=77)
    (body,) = server.state.bodies("/v1/chat/completions")
    assert body["max_completion_tokens"] == 77
    assert "max_tokens" not in body
    assert body["temperature"] == 0.2
    await llm.aclose()


async def test_json_mode_sends_response_format_json_object(server: ModelProtocolServer) -> None:
    llm = chat(server)
    answer = await llm.complete("give keywords as json", json_mode=True)
    assert json.loads(answer)["answer"] == answer_for("give keywords as json")
    (body,) = server.state.bodies("/v1/chat/completions")
    assert body["response_format"] == {"type": "json_object"}
    await llm.aclose()


async def test_json_mode_falls_back_once_when_the_server_rejects_response_format(
    server: ModelProtocolServer,
) -> None:
    server.state.reject_response_format = True
    llm = chat(server)
    assert await llm.complete("kw", json_mode=True) == answer_for("kw")
    assert await llm.complete("kw2", json_mode=True) == answer_for("kw2")
    sent = ["response_format" in body for body in server.state.bodies("/v1/chat/completions")]
    assert sent == [True, False, False]
    await llm.aclose()


async def test_embeddings_request_base64_and_match_the_official_client(
    server: ModelProtocolServer,
) -> None:
    texts = ["alpha beta", "gamma", "delta epsilon zeta"]
    reference = await official(server).embeddings.create(model="emb-test", input=texts)
    emb = embedder(server)
    ours = await emb.embed(texts)
    # the server lists items out of order; "index" is what places them (the official
    # client leaves that to the caller, the binding does it)
    by_index = sorted(reference.data, key=lambda item: item.index)
    theirs = np.asarray([item.embedding for item in by_index], dtype=np.float32)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    hashing = HashingEmbeddingModel({"dim": 8})
    np.testing.assert_allclose(ours, np.stack([hashing.embed_one(t) for t in texts]), rtol=1e-6)
    assert server.state.bodies("/v1/embeddings")[-1]["encoding_format"] == "base64"
    await emb.aclose()


async def test_embeddings_accept_floats_from_servers_that_ignore_base64(
    server: ModelProtocolServer,
) -> None:
    server.state.float_only_embeddings = True
    emb = embedder(server, batch_size=2)
    vectors = await emb.embed(["one", "two", "three"])
    hashing = HashingEmbeddingModel({"dim": 8})
    np.testing.assert_allclose(
        vectors, np.stack([hashing.embed_one(t) for t in ["one", "two", "three"]]), rtol=1e-6
    )
    assert len(server.state.bodies("/v1/embeddings")) == 2
    await emb.aclose()


async def test_embeddings_send_dimensions_only_when_asked(server: ModelProtocolServer) -> None:
    plain, sized = embedder(server), embedder(server, send_dimensions=True)
    await plain.embed(["a"])
    await sized.embed(["a"])
    first, second = server.state.bodies("/v1/embeddings")
    assert "dimensions" not in first
    assert second["dimensions"] == 8
    await plain.aclose()
    await sized.aclose()


async def test_embedding_dimension_mismatch_is_an_error(server: ModelProtocolServer) -> None:
    emb = embedder(server, dim=1536)
    with pytest.raises(ModelError, match=r"dimension 8, expected 1536"):
        await emb.embed(["a"])
    await emb.aclose()


def azure_config(server: ModelProtocolServer, **extra: object) -> dict[str, object]:
    return {
        "host": server.url,
        "api_key": server.state.azure_key,
        **FAST_RETRIES,
        **extra,
    }


async def test_azure_chat_addresses_the_deployment_with_api_version_and_api_key(
    server: ModelProtocolServer,
) -> None:
    llm = AzureOpenAIChatModel(
        azure_config(
            server, model="gpt-4o", deployment="prod-gpt4o", api_version="2024-08-01-preview"
        )
    )
    assert llm.identity == "azure_openai:prod-gpt4o"
    assert await llm.complete("hi azure") == answer_for("hi azure")
    assert "".join([p async for p in llm.stream("stream azure")]) == answer_for("stream azure")
    seen = server.state.seen[0]
    assert seen.path == "/openai/deployments/prod-gpt4o/chat/completions"
    assert seen.query == {"api-version": "2024-08-01-preview"}
    assert seen.headers["api-key"] == server.state.azure_key
    assert "authorization" not in seen.headers
    await llm.aclose()


async def test_azure_official_client_reads_the_same_reply(server: ModelProtocolServer) -> None:
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=server.url,
        api_key=server.state.azure_key,
        api_version="2024-08-01-preview",
        max_retries=0,
    )
    reference = await client.chat.completions.create(
        model="dep1", messages=[{"role": "user", "content": "q"}]
    )
    llm = AzureOpenAIChatModel(azure_config(server, model="dep1"))
    assert await llm.complete("q") == reference.choices[0].message.content
    theirs, ours = server.state.seen
    assert (ours.path, ours.query) == (theirs.path, theirs.query)
    await llm.aclose()


async def test_azure_embedding_uses_its_own_deployment_and_version(
    server: ModelProtocolServer,
) -> None:
    emb = AzureOpenAIEmbeddingModel(
        azure_config(server, deployment="emb-deploy", api_version="2023-05-15", dim=8)
    )
    vectors = await emb.embed(["a", "b"])
    assert vectors.shape == (2, 8)
    seen = server.state.seen[0]
    assert seen.path == "/openai/deployments/emb-deploy/embeddings"
    assert seen.query == {"api-version": "2023-05-15"}
    await emb.aclose()


async def test_azure_wrong_key_is_an_error_without_the_key(server: ModelProtocolServer) -> None:
    llm = AzureOpenAIChatModel(azure_config(server, model="dep1", api_key="wrong-azure-key"))
    with pytest.raises(ModelError, match="HTTP 401") as caught:
        await llm.complete("q")
    assert "wrong-azure-key" not in str(caught.value)
    assert len(server.state.seen) == 1
    await llm.aclose()


def test_azure_without_an_endpoint_says_which_variable_to_set() -> None:
    with pytest.raises(ValueError, match="AZURE_OPENAI_ENDPOINT"):
        AzureOpenAIChatModel({"host": None, "model": "gpt-4o"})
