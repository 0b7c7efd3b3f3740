"""The fake Ollama server (``lightrag.testing.fake_ollama``) speaks to the real ollama bindings."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
import uvicorn

from lightrag.core.keywords import parse_keywords
from lightrag.core.query_prompts import KEYWORDS_SYSTEM_PROMPT, KEYWORDS_USER_PROMPT
from lightrag.llm.ollama import OllamaChatModel, OllamaEmbeddingModel
from lightrag.testing.fake_ollama import fake_ollama_app
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(fake_ollama_app(latency_ms=0, dim=16), log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the fake Ollama server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()


async def test_chat_answers_like_the_fake_chat_model_whole_and_streamed(fake_url: str) -> None:
    llm = OllamaChatModel({"host": fake_url, "model": "fake"})
    prompt = KEYWORDS_USER_PROMPT.format(history="(none)", query="Where does Alice work?")
    system = KEYWORDS_SYSTEM_PROMPT.format(language="English")
    try:
        reply = await llm.complete(prompt, system_prompt=system, json_mode=True)
        streamed = "".join([piece async for piece in llm.stream("Say hello")])
    finally:
        await llm.aclose()
    expected = await FakeChatModel().complete(prompt, system_prompt=system, json_mode=True)
    assert reply == expected and not parse_keywords(reply).empty
    assert streamed == await FakeChatModel().complete("Say hello")


async def test_embeddings_have_the_configured_dimension_and_match_the_hashing_embedder(
    fake_url: str,
) -> None:
    embedder = OllamaEmbeddingModel({"host": fake_url, "model": "fake", "dim": 16})
    try:
        vectors = await embedder.embed(["alpha beta", "gamma"])
    finally:
        await embedder.aclose()
    expected = await HashingEmbeddingModel({"dim": 16}).embed(["alpha beta", "gamma"])
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
