"""A client that leaves ``/query/stream`` stops the model's stream upstream.

The real app runs under uvicorn on 127.0.0.1 with the OpenAI binding pointed at
the protocol server, whose answer trickles out one word every 0.2 s. The test
reads the first line of our server's stream, hangs up, and checks that the
protocol server sees its own client (our binding) go away long before the
answer would have ended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from model_protocol_server import ModelProtocolServer
from served_app import served

from lightrag.config.models import AppConfig, BackendChoice, ServerConfig

UPSTREAM = "/v1/chat/completions"


@pytest.fixture
def lightrag_url(tmp_path: Path, server: ModelProtocolServer) -> Iterator[str]:
    config = AppConfig(
        server=ServerConfig(working_dir=tmp_path / "rag", input_dir=tmp_path / "inputs"),
        llm=BackendChoice.model_validate(
            {"type": "openai", "host": f"{server.url}/v1", "model": "gpt-test"}
        ),
        embedding=BackendChoice(type="fake"),
    )
    with served(config) as url:
        yield url


async def test_client_leaving_query_stream_closes_the_upstream_model_stream(
    server: ModelProtocolServer, lightrag_url: str
) -> None:
    server.state.stream_pause = 0.2  # "You said: ... That is all." takes seconds to finish
    long_prompt = " ".join(["word"] * 40)
    async with (
        httpx.AsyncClient(base_url=lightrag_url, timeout=30) as client,
        client.stream(
            "POST", "/query/stream", json={"query": long_prompt, "mode": "bypass"}
        ) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if '"response"' in line:
                break  # the first piece of the answer arrived: hang up mid-answer
    left_at = time.monotonic()
    while UPSTREAM not in server.state.disconnects:
        if time.monotonic() - left_at > 5:
            pytest.fail(
                "the model stream kept running after the client left /query/stream: "
                f"upstream saw {[seen.path for seen in server.state.seen]}, "
                f"disconnects {server.state.disconnects}"
            )
        await asyncio.sleep(0.02)
    assert len(server.state.bodies(UPSTREAM)) == 1
