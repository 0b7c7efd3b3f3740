"""The OpenAI-compatible API: /v1/models and /v1/chat/completions (whole and SSE)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.unit.server.chat_support import (
    ECHO_PREFIX,
    OPEN_WEBUI_TITLE_PROMPT,
    ChatApp,
    chat_app,
    live_server,
    make_config,
    make_llm,
)

QUESTION = "What did Grace Hopper develop?"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[ChatApp]:
    config = make_config(tmp_path, simulated_model_name="kb", simulated_model_tag="v1")
    async with chat_app(config, make_llm()) as served:
        yield served


def _user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


async def _complete(served: ChatApp, messages: list[dict[str, Any]]) -> dict[str, Any]:
    response = await served.client.post(
        "/v1/chat/completions", json={"model": "kb:v1", "messages": messages}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _events(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = [block for block in response.text.split("\n\n") if block.strip()]
    assert all(block.startswith("data: ") for block in blocks)
    return [block.removeprefix("data: ") for block in blocks]


async def test_models_lists_the_configured_model(served: ChatApp) -> None:
    listed = (await served.client.get("/v1/models")).json()
    assert listed["object"] == "list"
    assert [(m["id"], m["object"]) for m in listed["data"]] == [("kb:v1", "model")]


async def test_completion_answers_through_rag_with_usage(served: ChatApp) -> None:
    result = await _complete(served, [_user(QUESTION)])
    assert result["object"] == "chat.completion"
    assert result["id"].startswith("chatcmpl-")
    assert result["model"] == "kb:v1"
    choice = result["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].startswith(f"Answer to: {QUESTION}")
    assert "Grace Hopper" in choice["message"]["content"]
    assert choice["finish_reason"] == "stop"
    usage = result["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_completion_uses_prefix_routing_history_and_system(served: ChatApp) -> None:
    messages = [
        {"role": "system", "content": "Cite sources."},
        _user("Tell me about COBOL."),
        {"role": "assistant", "content": "A business language."},
        _user(f"/hybrid {QUESTION}"),
    ]
    content = (await _complete(served, messages))["choices"][0]["message"]["content"]
    assert content.startswith(f"Answer to: {QUESTION}")
    assert "history messages: 2" in content
    assert "instructions: Cite sources." in content


async def test_completion_context_prefix_returns_context_only(served: ChatApp) -> None:
    content = (await _complete(served, [_user(f"/localcontext {QUESTION}")]))["choices"][0][
        "message"
    ]["content"]
    assert "Grace Hopper" in content
    assert not content.startswith("Answer to:")
    assert served.llm.calls["answer"] == 0


async def test_completion_accepts_content_parts(served: ChatApp) -> None:
    parts = [{"type": "text", "text": "/naive"}, {"type": "text", "text": QUESTION}]
    content = (await _complete(served, [_user(parts)]))["choices"][0]["message"]["content"]
    assert content.startswith(f"Answer to: {QUESTION}")


async def test_completion_bypass_and_front_end_tasks_skip_retrieval(served: ChatApp) -> None:
    bypass = await _complete(
        served, [{"role": "system", "content": "Sys"}, _user(f"/bypass {ECHO_PREFIX} hi")]
    )
    assert bypass["choices"][0]["message"]["content"].startswith("direct reply; system=Sys;")
    title = await _complete(served, [_user(OPEN_WEBUI_TITLE_PROMPT)])
    assert title["choices"][0]["message"]["content"].startswith("direct reply; system=None")
    assert served.llm.calls["keywords"] == 0
    assert served.llm.calls["answer"] == 0


async def test_stream_sends_chunks_then_stop_usage_and_done(served: ChatApp) -> None:
    response = await served.client.post(
        "/v1/chat/completions",
        json={
            "model": "kb:v1",
            "messages": [_user(QUESTION)],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    events = _events(response)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    *content_chunks, stop, usage = chunks
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in content_chunks)
    assert text.startswith(f"Answer to: {QUESTION}")
    assert len(content_chunks) > 2
    assert stop["choices"][0]["finish_reason"] == "stop"
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] > 0


async def test_stream_without_usage_option_sends_no_usage_chunk(served: ChatApp) -> None:
    response = await served.client.post(
        "/v1/chat/completions", json={"messages": [_user(QUESTION)], "stream": True}
    )
    chunks = [json.loads(event) for event in _events(response)[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in chunk for chunk in chunks)


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([], "messages must not be empty"),
        ([{"role": "system", "content": "only a system prompt"}], "must have role 'user'"),
        ([_user("/mix[x]")], "must be followed by a question"),
    ],
)
async def test_bad_messages_get_an_openai_error_object(
    served: ChatApp, messages: list[dict[str, Any]], expected: str
) -> None:
    response = await served.client.post("/v1/chat/completions", json={"messages": messages})
    assert response.status_code == 400
    error = response.json()["error"]
    assert expected in error["message"]
    assert error["type"] == "invalid_request_error"


async def test_llm_failure_is_a_502_or_an_error_event(tmp_path: Path) -> None:
    async with chat_app(make_config(tmp_path), make_llm(fail_kinds=["answer"])) as served:
        response = await served.client.post(
            "/v1/chat/completions", json={"messages": [_user(QUESTION)]}
        )
        assert response.status_code == 502
        assert "configured to fail" in response.json()["error"]["message"]
        streamed = await served.client.post(
            "/v1/chat/completions", json={"messages": [_user(QUESTION)], "stream": True}
        )
        last = json.loads(_events(streamed)[-1])
        assert "configured to fail" in last["error"]["message"]


async def test_v1_routes_need_the_api_key_when_one_is_set(tmp_path: Path) -> None:
    config = make_config(tmp_path, api_key="secret-key")
    async with chat_app(config, make_llm(), index=False) as served:
        assert (await served.client.get("/v1/models")).status_code in (401, 403)
        allowed = await served.client.get("/v1/models", headers={"X-API-Key": "secret-key"})
        assert allowed.status_code == 200


async def test_official_openai_client_understands_every_response(served: ChatApp) -> None:
    async with live_server(served.app) as base_url:
        client = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
        models = await client.models.list()
        assert [model.id for model in models.data] == ["kb:v1"]

        completion = await client.chat.completions.create(
            model="kb:v1", messages=[{"role": "user", "content": QUESTION}]
        )
        assert (completion.choices[0].message.content or "").startswith(f"Answer to: {QUESTION}")
        assert completion.usage is not None and completion.usage.total_tokens > 0

        stream = await client.chat.completions.create(
            model="kb:v1",
            messages=[{"role": "user", "content": f"/naive {QUESTION}"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        pieces: list[str] = []
        usage_seen = False
        async for chunk in stream:
            if chunk.usage is not None:
                usage_seen = True
            for choice in chunk.choices:
                pieces.append(choice.delta.content or "")
        assert "".join(pieces).startswith(f"Answer to: {QUESTION}")
        assert usage_seen

        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="kb:v1", messages=[])
        assert "messages must not be empty" in str(caught.value)
        await client.close()


async def test_openai_client_reaches_a_keyed_server_by_header_or_bearer_key(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path, api_key="secret-key")
    async with (
        chat_app(config, make_llm(), index=False) as served,
        live_server(served.app) as base_url,
    ):
        denied = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="wrong", max_retries=0)
        with pytest.raises(openai.APIStatusError):
            await denied.models.list()
        await denied.close()
        client = openai.AsyncOpenAI(
            base_url=f"{base_url}/v1",
            api_key="unused",
            default_headers={"X-API-Key": "secret-key"},
            max_retries=0,
        )
        models = await client.models.list()
        assert [model.id for model in models.data] == ["lightrag:latest"]
        await client.close()
        bearer = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="secret-key", max_retries=0)
        models = await bearer.models.list()
        assert [model.id for model in models.data] == ["lightrag:latest"]
        await bearer.close()


async def test_model_retrieve_describes_a_listed_model(served: ChatApp) -> None:
    response = await served.client.get("/v1/models/kb:v1")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": "kb:v1",
        "object": "model",
        "created": 1705276800,
        "owned_by": "lightrag",
    }


@pytest.mark.parametrize("model", ["gpt-4o", "kb:v2", "kb", "org/kb:v1"])
async def test_model_retrieve_of_an_unlisted_id_is_an_openai_404(
    served: ChatApp, model: str
) -> None:
    response = await served.client.get(f"/v1/models/{model}")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "model_not_found" and error["type"] == "invalid_request_error"
    assert model in error["message"]


async def test_official_openai_client_retrieves_models(served: ChatApp) -> None:
    async with live_server(served.app) as base_url:
        client = openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
        model = await client.models.retrieve("kb:v1")
        assert (model.id, model.object, model.owned_by) == ("kb:v1", "model", "lightrag")
        with pytest.raises(openai.NotFoundError) as caught:
            await client.models.retrieve("gpt-4o")
        assert caught.value.code == "model_not_found"
        assert "gpt-4o" in caught.value.message
        await client.close()
