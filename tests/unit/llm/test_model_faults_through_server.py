"""Model backend faults end to end: the real app under uvicorn, the Ollama binding for
chat and embeddings pointed at the protocol server, which is made to be down, too slow
or to answer garbage.

A document whose model calls fail for good ends ``failed`` with the reason (binding,
host, what went wrong) after the binding's retries; a query answers 503 with the reason
when the backend is down or too slow (``Retry-After`` set) and 502 when it answered
something unusable; ``reprocess_failed`` indexes the document once the backend is back;
an embedding dimension that changed between runs stops the start with both named.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from model_protocol_server import FAST_RETRIES, ModelProtocolServer, Step
from served_app import served

from lightrag.config.models import AppConfig, BackendChoice, ServerConfig

CHAT = "/api/chat"
EMBED = "/api/embed"
TEXT = "Nora Vale keeps bees in Lisbon. Nora Vale sells honey to the Lisbon market."


def _config(tmp_path: Path, chat_host: str, embed_host: str, **chat: Any) -> AppConfig:
    common = {"max_retries": 2, **FAST_RETRIES}
    return AppConfig(
        server=ServerConfig(working_dir=tmp_path / "rag", input_dir=tmp_path / "inputs"),
        llm=BackendChoice.model_validate(
            {"type": "ollama", "host": chat_host, "model": "chat-test", **common, **chat}
        ),
        embedding=BackendChoice.model_validate(
            {"type": "ollama", "host": embed_host, "model": "embed-test", "dim": 8, **common}
        ),
    )


@pytest.fixture
def lightrag_url(tmp_path: Path, server: ModelProtocolServer) -> Iterator[str]:
    with served(_config(tmp_path, server.url, server.url, timeout=1.0)) as url:
        yield url


def _settled(client: httpx.Client) -> dict[str, int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        busy = client.get("/documents/pipeline_status").json()["busy"]
        counts: dict[str, int] = client.get("/documents/status_counts").json()["status_counts"]
        if not busy and not counts.get("pending") and not counts.get("processing"):
            return counts
        time.sleep(0.05)
    pytest.fail("the pipeline did not settle within 60 s")


def _failure_reason(client: httpx.Client) -> str:
    failed = client.get("/documents").json()["statuses"]["failed"]
    assert len(failed) == 1, failed
    reason: str = failed[0]["error_msg"]
    return reason


def test_a_chat_backend_that_is_down_fails_the_document_and_reprocess_recovers_it(
    server: ModelProtocolServer, lightrag_url: str
) -> None:
    server.state.plan(CHAT, *[Step(status=503)] * 30)  # every attempt of every call
    with httpx.Client(base_url=lightrag_url, timeout=30) as client:
        assert client.post("/documents/text", json={"text": TEXT}).status_code == 200
        assert _settled(client)["failed"] == 1
        reason = _failure_reason(client)
        assert "ollama chat model 'chat-test'" in reason and server.url in reason
        assert "HTTP 503 after 3 attempts" in reason

        # a query meanwhile: the answer's chat call meets the same outage
        server.state.plan(CHAT, *[Step(status=503)] * 3)
        reply = client.post("/query", json={"query": "Who keeps bees?", "mode": "bypass"})
        assert reply.status_code == 503, reply.text
        assert "HTTP 503 after 3 attempts" in reply.json()["detail"]
        assert reply.headers["retry-after"].isdigit()

        server.state.plans.clear()  # the backend is back
        body = client.post("/documents/reprocess_failed").json()
        assert body["document_count"] == 1
        counts = _settled(client)
    assert counts["processed"] == 1 and counts["failed"] == 0


def test_a_chat_backend_slower_than_its_timeout_fails_the_document_and_the_query(
    server: ModelProtocolServer, lightrag_url: str
) -> None:
    server.state.handler_delay = 3.0  # the binding's timeout is 1 s
    with httpx.Client(base_url=lightrag_url, timeout=30) as client:
        client.post("/documents/text", json={"text": TEXT})
        assert _settled(client)["failed"] == 1
        assert "no answer within 1.0s" in _failure_reason(client)
        reply = client.post("/query", json={"query": "Who keeps bees?", "mode": "bypass"})
    assert reply.status_code == 503, reply.text
    assert "no answer within 1.0s" in reply.json()["detail"]


def test_a_chat_backend_answering_garbage_fails_the_document_and_the_query_is_502(
    server: ModelProtocolServer, lightrag_url: str
) -> None:
    server.state.plan(CHAT, *[Step(body="<html>proxy error</html>")] * 30)
    with httpx.Client(base_url=lightrag_url, timeout=30) as client:
        client.post("/documents/text", json={"text": TEXT})
        assert _settled(client)["failed"] == 1
        assert "the reply is not JSON" in _failure_reason(client)
        server.state.plans.clear()
        server.state.plan(CHAT, Step(body="<html>proxy error</html>"))
        reply = client.post("/query", json={"query": "Who keeps bees?", "mode": "bypass"})
    assert reply.status_code == 502, reply.text
    assert "the reply is not JSON" in reply.json()["detail"]
    assert "retry-after" not in reply.headers


def test_an_embedding_backend_that_is_down_fails_the_document_and_the_query_is_503(
    tmp_path: Path, server: ModelProtocolServer, closed_port_url: str
) -> None:
    config = _config(tmp_path, server.url, closed_port_url)
    with served(config) as url, httpx.Client(base_url=url, timeout=30) as client:
        client.post("/documents/text", json={"text": TEXT})
        assert _settled(client)["failed"] == 1
        reason = _failure_reason(client)
        assert "ollama embedding model 'embed-test'" in reason and closed_port_url in reason
        assert "connection failed after 3 attempts" in reason
        reply = client.post("/query", json={"query": "Who keeps bees?", "mode": "naive"})
    assert reply.status_code == 503, reply.text
    assert closed_port_url in reply.json()["detail"]


def test_an_embedding_dimension_changed_between_runs_stops_the_start_naming_both(
    tmp_path: Path, server: ModelProtocolServer
) -> None:
    with (
        served(_config(tmp_path, server.url, server.url)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        client.post("/documents/text", json={"text": TEXT})
        assert _settled(client)["processed"] == 1

    changed = _config(tmp_path, server.url, server.url)
    changed.embedding = BackendChoice.model_validate(
        {"type": "ollama", "host": server.url, "model": "embed-test", "dim": 16}
    )
    server.state.embed_dim = 16
    with pytest.raises(RuntimeError, match="did not start") as refused, served(changed):
        pass
    reason = str(refused.value)
    assert "8-dimensional" in reason and "16" in reason, reason
