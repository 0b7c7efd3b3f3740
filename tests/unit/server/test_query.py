"""Query routes over an indexed corpus: every mode, streaming, retrieval only, errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from .server_support import make_config, running_app

MODES = ["local", "global", "hybrid", "naive", "mix", "bypass"]


@pytest.mark.parametrize("mode", MODES)
async def test_query_answers_in_every_mode(
    indexed: tuple[httpx.AsyncClient, FastAPI], mode: str
) -> None:
    client, _ = indexed
    response = await client.post(
        "/query", json={"query": "Where does Alice Smith work?", "mode": mode}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["response"], str) and body["response"].strip()
    assert isinstance(body.get("references", []), list)


async def test_query_references_name_the_source_files(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    body = (
        await client.post("/query", json={"query": "Who founded Acme Corporation?", "mode": "mix"})
    ).json()
    files = {ref["file_path"] for ref in body["references"]}
    assert files & {"alice.txt", "bob.txt"}
    assert all("content" not in ref for ref in body["references"])


async def test_query_without_references_omits_them(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    body = (
        await client.post(
            "/query", json={"query": "Who is Bob Jones?", "include_references": False}
        )
    ).json()
    assert "references" not in body


async def test_seed_style_query_body_is_accepted(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    response = await client.post(
        "/query",
        json={
            "query": "Who is Bob Jones?",
            "mode": "hybrid",
            "stream": False,
            "only_need_context": False,
            "max_token_for_text_unit": 4000,
            "max_token_for_global_context": 4000,
            "max_token_for_local_context": 4000,
            "history_turns": 3,
            "conversation_history": [{"role": "user", "content": "hi"}],
        },
    )
    assert response.status_code == 200, response.text


async def test_only_need_context_returns_the_context_not_an_answer(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    body = (
        await client.post(
            "/query",
            json={"query": "Alice Smith", "mode": "local", "only_need_context": True},
        )
    ).json()
    assert "Alice Smith" in body["response"]


async def test_stream_sends_references_first_then_response_pieces(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    async with client.stream(
        "POST", "/query/stream", json={"query": "Where does Alice Smith work?", "mode": "mix"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) async for line in response.aiter_lines() if line.strip()]
    assert "references" in lines[0]
    pieces = [line["response"] for line in lines[1:]]
    assert pieces and all(isinstance(piece, str) for piece in pieces)
    assert "".join(pieces).strip()
    assert not any("error" in line for line in lines)


async def test_stream_false_sends_one_line_with_the_whole_answer(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    response = await client.post(
        "/query/stream", json={"query": "Who is Bob Jones?", "stream": False}
    )
    lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0]["response"].strip() and "references" in lines[0]


async def test_query_data_returns_retrieval_without_an_answer(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    body = (
        await client.post("/query/data", json={"query": "Alice Smith Berlin", "mode": "local"})
    ).json()
    assert body["status"] == "success"
    assert set(body["data"]) == {"entities", "relationships", "chunks", "references"}
    assert body["data"]["entities"]
    assert body["metadata"]["query_mode"] == "local"
    assert set(body["metadata"]["keywords"]) == {"high_level", "low_level"}
    assert "response" not in body


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"query": ""}, "query"),
        ({"query": "   "}, "empty"),
        ({"query": "x", "mode": "everything"}, "mode"),
        ({"query": "x", "top_k": 0}, "top_k"),
        ({"query": "x", "top_k": 5000}, "top_k"),
        ({"mode": "mix"}, "query"),
        ({"query": "x", "conversation_history": [{"role": "robot", "content": "x"}]}, "role"),
    ],
)
async def test_invalid_query_bodies_are_422_naming_the_field(
    served: tuple[httpx.AsyncClient, FastAPI], payload: dict[str, object], needle: str
) -> None:
    client, _ = served
    response = await client.post("/query", json=payload)
    assert response.status_code == 422
    assert needle in response.text


async def test_malformed_json_is_422_saying_so(served: tuple[httpx.AsyncClient, FastAPI]) -> None:
    client, _ = served
    response = await client.post(
        "/query", content=b'{"query": "x",', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "JSON" in response.text


async def test_overlong_query_is_422_with_the_limit(tmp_path: Path) -> None:
    async with running_app(make_config(tmp_path, max_query_length=100)) as (client, _):
        response = await client.post("/query", json={"query": "q" * 101})
    assert response.status_code == 422
    assert "max_query_length" in response.json()["detail"]


async def test_model_failure_is_502_with_a_message(tmp_path: Path) -> None:
    config = make_config(tmp_path, llm={"fail_on_text": "EXPLODE"})
    async with running_app(config) as (client, _):
        response = await client.post("/query", json={"query": "EXPLODE now", "mode": "bypass"})
    assert response.status_code == 502
    assert "Model call failed" in response.json()["detail"]


async def test_stream_failure_after_headers_ends_with_an_error_line(tmp_path: Path) -> None:
    config = make_config(tmp_path, llm={"fail_on_text": "EXPLODE"})
    async with running_app(config) as (client, _):
        response = await client.post(
            "/query/stream", json={"query": "EXPLODE please", "mode": "bypass"}
        )
    lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    assert response.status_code == 200
    assert "references" in lines[0]
    assert "EXPLODE" in lines[-1]["error"]
    assert "Model call failed" in lines[-1]["error"]


async def test_stream_failure_before_headers_is_502(tmp_path: Path) -> None:
    config = make_config(tmp_path, llm={"fail_on_text": "EXPLODE"})
    async with running_app(config) as (client, _):
        response = await client.post("/query/stream", json={"query": "EXPLODE", "mode": "mix"})
    assert response.status_code == 502
    assert "Model call failed" in response.json()["detail"]


async def test_include_chunk_content_adds_the_chunk_texts_to_references(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    body = (
        await client.post(
            "/query",
            json={"query": "Who founded Acme Corporation?", "include_chunk_content": True},
        )
    ).json()
    contents = [text for ref in body["references"] for text in ref.get("content") or []]
    assert any("Acme Corporation" in text for text in contents)
