"""The Ollama-compatible API: model listing, /api/chat through RAG, /api/generate direct."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import ollama
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

QUESTION = "Who worked with Ada Lovelace?"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[ChatApp]:
    config = make_config(tmp_path, simulated_model_name="kb", simulated_model_tag="v1")
    async with chat_app(config, make_llm()) as served:
        yield served


def _user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


async def _chat(served: ChatApp, content: str, **body: Any) -> dict[str, Any]:
    payload = {"model": "kb:v1", "messages": [_user(content)], "stream": False, **body}
    response = await served.client.post("/api/chat", json=payload)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def _assert_recent(created_at: str) -> None:
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


async def test_version_tags_and_ps_describe_the_configured_model(served: ChatApp) -> None:
    assert (await served.client.get("/api/version")).json() == {"version": "0.9.3"}
    tags = (await served.client.get("/api/tags")).json()["models"]
    assert [(m["name"], m["model"]) for m in tags] == [("kb:v1", "kb:v1")]
    assert tags[0]["details"]["family"] == "lightrag"
    running = (await served.client.get("/api/ps")).json()["models"]
    assert running[0]["name"] == "kb:v1"
    assert "expires_at" in running[0]


async def test_chat_answers_through_rag_with_ollama_fields(served: ChatApp) -> None:
    result = await _chat(served, QUESTION)
    assert result["model"] == "kb:v1"
    _assert_recent(result["created_at"])
    assert result["message"]["role"] == "assistant"
    assert result["message"]["content"].startswith(f"Answer to: {QUESTION}")
    assert "Ada Lovelace" in result["message"]["content"]
    assert result["done"] is True
    assert result["done_reason"] == "stop"
    assert result["load_duration"] == 0
    assert result["prompt_eval_count"] > 0
    assert result["eval_count"] > 0
    assert result["total_duration"] >= result["eval_duration"] >= 0
    assert served.llm.calls["answer"] == 1


async def test_chat_default_mode_is_the_configured_one(tmp_path: Path) -> None:
    config = make_config(tmp_path, default_chat_mode="naive")
    async with chat_app(config, make_llm()) as served:
        before = served.llm.calls["keywords"]
        result = await _chat(served, QUESTION)
        assert result["message"]["content"].startswith(f"Answer to: {QUESTION}")
        assert served.llm.calls["keywords"] == before  # naive retrieval needs no keywords


async def test_chat_mode_prefix_is_stripped_and_selects_the_mode(served: ChatApp) -> None:
    before = served.llm.calls["keywords"]
    naive = await _chat(served, f"/naive {QUESTION}")
    assert naive["message"]["content"].startswith(f"Answer to: {QUESTION}")
    assert served.llm.calls["keywords"] == before
    local = await _chat(served, f"/local {QUESTION}")
    assert local["message"]["content"].startswith(f"Answer to: {QUESTION}")
    assert served.llm.calls["keywords"] == before + 1


async def test_chat_context_prefix_returns_the_context_without_an_answer(served: ChatApp) -> None:
    for prefix in ("/context", "/mixcontext", "/naivecontext"):
        result = await _chat(served, f"{prefix} {QUESTION}")
        content = result["message"]["content"]
        assert "Ada Lovelace" in content, prefix
        assert not content.startswith("Answer to:"), prefix
    assert served.llm.calls["answer"] == 0


async def test_chat_bracket_instructions_reach_the_answer_prompt(served: ChatApp) -> None:
    result = await _chat(served, f"/local[Answer in French] {QUESTION}")
    assert "instructions: Answer in French" in result["message"]["content"]
    plain = await _chat(served, f"/[Be brief] {QUESTION}")
    assert "instructions: Be brief" in plain["message"]["content"]


async def test_chat_unknown_slash_word_is_part_of_the_question(served: ChatApp) -> None:
    result = await _chat(served, "/usr/bin holds programs. Who is Ada Lovelace?")
    assert result["message"]["content"].startswith("Answer to: /usr/bin holds programs.")


async def test_chat_earlier_messages_are_the_conversation_history(served: ChatApp) -> None:
    messages = [
        {"role": "system", "content": "You are helpful."},
        _user("Tell me about the Analytical Engine."),
        {"role": "assistant", "content": "It was designed by Charles Babbage."},
        _user(QUESTION),
    ]
    response = await served.client.post(
        "/api/chat", json={"model": "kb:v1", "messages": messages, "stream": False}
    )
    content = response.json()["message"]["content"]
    assert "history messages: 2" in content
    assert "instructions: You are helpful." in content


async def test_chat_bypass_goes_to_the_llm_with_system_and_history(served: ChatApp) -> None:
    messages = [
        _user("First question"),
        {"role": "assistant", "content": "First answer"},
        _user(f"/bypass {ECHO_PREFIX} hello"),
    ]
    response = await served.client.post(
        "/api/chat",
        json={"model": "kb:v1", "messages": messages, "stream": False, "system": "Be terse"},
    )
    assert response.status_code == 200, response.text
    content = response.json()["message"]["content"]
    assert content.startswith("direct reply; system=Be terse; history=2; prompt=ECHO hello")
    assert served.llm.calls["keywords"] == 0


async def test_chat_stream_sends_ndjson_lines_then_a_done_line(served: ChatApp) -> None:
    response = await served.client.post(
        "/api/chat", json={"model": "kb:v1", "messages": [_user(QUESTION)], "stream": True}
    )
    lines = await _ndjson(response)
    assert len(lines) >= 3  # not a cache hit: several pieces, then the done line
    whole = (await _chat(served, QUESTION))["message"]["content"]
    *content_lines, final = lines
    for line in content_lines:
        assert line["done"] is False
        assert line["model"] == "kb:v1"
        assert line["message"]["role"] == "assistant"
        _assert_recent(line["created_at"])
    assert "".join(line["message"]["content"] for line in content_lines) == whole
    assert final["done"] is True
    assert final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": "", "images": None}
    assert final["eval_count"] > 0
    assert final["prompt_eval_count"] > 0


async def test_chat_streams_by_default_as_ollama_does(served: ChatApp) -> None:
    response = await served.client.post(
        "/api/chat", json={"model": "kb:v1", "messages": [_user(QUESTION)]}
    )
    lines = await _ndjson(response)
    assert lines[-1]["done"] is True
    assert len(lines) > 1


@pytest.mark.parametrize("stream", [False, True])
async def test_open_webui_task_prompts_go_straight_to_the_llm(
    served: ChatApp, stream: bool
) -> None:
    response = await served.client.post(
        "/api/chat",
        json={"model": "kb:v1", "messages": [_user(OPEN_WEBUI_TITLE_PROMPT)], "stream": stream},
    )
    assert response.status_code == 200, response.text
    if stream:
        lines = await _ndjson(response)
        content = "".join(line["message"]["content"] for line in lines)
    else:
        content = response.json()["message"]["content"]
    assert content.startswith("direct reply; system=None; history=0; prompt=### Task:")
    assert served.llm.calls["keywords"] == 0
    assert served.llm.calls["answer"] == 0


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([], "messages must not be empty"),
        ([{"role": "assistant", "content": "hi"}], "must have role 'user'"),
        ([_user("   ")], "last user message is empty"),
        ([_user("/local   ")], "must be followed by a question"),
    ],
)
async def test_chat_rejects_unusable_messages_with_an_ollama_error(
    served: ChatApp, messages: list[dict[str, str]], expected: str
) -> None:
    response = await served.client.post(
        "/api/chat", json={"model": "kb:v1", "messages": messages, "stream": False}
    )
    assert response.status_code == 400
    assert expected in response.json()["error"]


async def test_chat_over_long_query_is_refused(tmp_path: Path) -> None:
    async with chat_app(make_config(tmp_path, max_query_length=50), make_llm(), index=False) as app:
        response = await app.client.post(
            "/api/chat", json={"messages": [_user("x" * 60)], "stream": False}
        )
        assert response.status_code == 422
        assert "max_query_length" in response.json()["error"]


async def test_chat_malformed_json_is_a_422(served: ChatApp) -> None:
    response = await served.client.post(
        "/api/chat", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_chat_body_without_json_content_type_is_accepted(served: ChatApp) -> None:
    body = json.dumps({"messages": [_user(QUESTION)], "stream": False}).encode()
    response = await served.client.post(
        "/api/chat", content=body, headers={"content-type": "application/octet-stream"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["message"]["content"].startswith("Answer to:")


async def test_chat_llm_failure_is_a_502_or_an_in_band_stream_error(tmp_path: Path) -> None:
    async with chat_app(make_config(tmp_path), make_llm(fail_kinds=["answer"])) as served:
        response = await served.client.post(
            "/api/chat", json={"messages": [_user(QUESTION)], "stream": False}
        )
        assert response.status_code == 502
        assert "configured to fail" in response.json()["error"]
        streamed = await served.client.post(
            "/api/chat", json={"messages": [_user(QUESTION)], "stream": True}
        )
        lines = await _ndjson(streamed)
        assert "Error: " in lines[-2]["message"]["content"]
        assert lines[-1]["done"] is True
        assert "configured to fail" in lines[-1]["error"]


async def test_generate_goes_straight_to_the_llm_with_the_request_system(
    served: ChatApp,
) -> None:
    response = await served.client.post(
        "/api/generate",
        json={"model": "kb:v1", "prompt": f"{ECHO_PREFIX} hi", "system": "S1", "stream": False},
    )
    result = response.json()
    assert result["response"] == "direct reply; system=S1; history=0; prompt=ECHO hi"
    assert result["done"] is True
    assert result["done_reason"] == "stop"
    assert result["eval_count"] > 0
    _assert_recent(result["created_at"])
    assert served.llm.calls["keywords"] == 0


async def test_generate_concurrent_requests_keep_their_own_system_prompts(tmp_path: Path) -> None:
    async with chat_app(make_config(tmp_path), make_llm(latency_ms=20), index=False) as served:

        async def ask(i: int) -> str:
            response = await served.client.post(
                "/api/generate",
                json={"prompt": f"{ECHO_PREFIX} {i}", "system": f"sys-{i}", "stream": False},
            )
            reply: str = response.json()["response"]
            return reply

        replies = await asyncio.gather(*(ask(i) for i in range(12)))
        assert served.llm.max_in_flight > 1
        for i, reply in enumerate(replies):
            assert reply == f"direct reply; system=sys-{i}; history=0; prompt=ECHO {i}"


async def test_generate_stream_uses_response_fields(served: ChatApp) -> None:
    response = await served.client.post(
        "/api/generate", json={"prompt": f"{ECHO_PREFIX} streaming please", "stream": True}
    )
    lines = await _ndjson(response)
    *pieces, final = lines
    assert "".join(line["response"] for line in pieces).startswith("direct reply; system=None")
    assert all(line["done"] is False for line in pieces)
    assert final["done"] is True
    assert final["response"] == ""
    assert final["done_reason"] == "stop"


async def test_generate_rejects_an_empty_prompt(served: ChatApp) -> None:
    response = await served.client.post("/api/generate", json={"prompt": "  ", "stream": False})
    assert response.status_code == 400
    assert "prompt must not be empty" in response.json()["error"]


async def test_official_ollama_client_understands_every_response(served: ChatApp) -> None:
    async with live_server(served.app) as base_url:
        client = ollama.AsyncClient(host=base_url)
        listed = await client.list()
        assert [model.model for model in listed.models] == ["kb:v1"]
        running = await client.ps()
        assert running.models[0].model == "kb:v1"

        reply = await client.chat(model="kb:v1", messages=[_user(QUESTION)])
        assert reply.message.role == "assistant"
        assert (reply.message.content or "").startswith(f"Answer to: {QUESTION}")
        assert reply.done and reply.done_reason == "stop"
        assert (reply.eval_count or 0) > 0

        parts = [
            part
            async for part in await client.chat(
                model="kb:v1", messages=[_user(f"/naive {QUESTION}")], stream=True
            )
        ]
        assert parts[-1].done
        assert "".join(p.message.content or "" for p in parts).startswith("Answer to:")

        generated = await client.generate(model="kb:v1", prompt=f"{ECHO_PREFIX} x", system="S")
        assert generated.response == "direct reply; system=S; history=0; prompt=ECHO x"

        with pytest.raises(ollama.ResponseError) as caught:
            await client.chat(model="kb:v1", messages=[])
        assert caught.value.status_code == 400
        assert "messages must not be empty" in caught.value.error


async def test_show_describes_a_listed_model_as_ollama_does(served: ChatApp) -> None:
    response = await served.client.post("/api/show", json={"model": "kb:v1"})
    assert response.status_code == 200, response.text
    body = response.json()
    tags = (await served.client.get("/api/tags")).json()["models"]
    assert body["details"] == tags[0]["details"]
    assert "FROM kb:v1" in body["modelfile"]
    assert body["capabilities"] == ["completion"]
    assert body["model_info"]["general.architecture"] == "lightrag"
    legacy = await served.client.post("/api/show", json={"name": "kb:v1"})
    assert legacy.json() == body


async def test_show_without_a_tag_means_latest(tmp_path: Path) -> None:
    async with chat_app(make_config(tmp_path), make_llm(), index=False) as served:
        response = await served.client.post("/api/show", json={"model": "lightrag"})
        assert response.status_code == 200
        assert "FROM lightrag:latest" in response.json()["modelfile"]


@pytest.mark.parametrize("model", ["llama3:8b", "kb", "kb:v2", "lightrag:latest"])
async def test_show_of_an_unlisted_model_is_an_ollama_404(served: ChatApp, model: str) -> None:
    response = await served.client.post("/api/show", json={"model": model})
    assert response.status_code == 404
    assert response.json() == {"error": f"model {model!r} not found"}


async def test_show_without_a_model_is_400(served: ChatApp) -> None:
    response = await served.client.post("/api/show", json={})
    assert response.status_code == 400
    assert "model" in response.json()["error"]


async def test_official_ollama_client_shows_models(served: ChatApp) -> None:
    async with live_server(served.app) as base_url:
        client = ollama.AsyncClient(host=base_url)
        shown = await client.show("kb:v1")
        assert shown.details is not None and shown.details.family == "lightrag"
        assert shown.modelinfo is not None and shown.modelinfo["general.architecture"] == "lightrag"
        assert shown.capabilities == ["completion"]
        assert shown.modified_at is not None
        with pytest.raises(ollama.ResponseError) as caught:
            await client.show("llama3:8b")
        assert caught.value.status_code == 404
        assert "not found" in caught.value.error
