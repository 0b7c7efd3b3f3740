"""The models' own concurrency limits serve queries first: HTTP bindings and embedded models.

Each test holds the model's only slot with ingestion work, queues more ingestion work
behind it, then submits one query call: the query is the next to run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import numpy as np
import pytest
from model_protocol_server import FAST_RETRIES, ModelProtocolServer

from lightrag.llm.ollama import OllamaEmbeddingModel
from lightrag.vocabulary.priority import Priority, current_priority, running_at


async def _until(condition: Callable[[], bool], seconds: float = 30) -> None:
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the condition never became true")


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_an_http_binding_sends_a_query_before_queued_ingestion_requests(
    server: ModelProtocolServer,
) -> None:
    server.state.embed_dim = 8
    server.state.handler_delay = 0.2  # the first request holds the only slot meanwhile
    model = OllamaEmbeddingModel(
        {"host": server.url, "model": "bge-m3", "dim": 8, "max_async": 1, **FAST_RETRIES}
    )
    try:
        ingest = [asyncio.create_task(model.embed([f"ingest {i}"])) for i in range(5)]
        await _settle()
        with running_at(Priority.QUERY):
            query = asyncio.create_task(model.embed(["the query"]))
        await asyncio.gather(*ingest, query)
    finally:
        await model.aclose()
    order = [body["input"] for body in server.state.bodies("/api/embed")]
    assert order == [["ingest 0"], ["the query"]] + [[f"ingest {i}"] for i in range(1, 5)]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_the_embedded_embedder_runs_a_query_between_the_runs_of_an_ingestion_batch() -> None:
    from lightrag.llm.embedded.embedding import EmbeddedEmbeddingModel

    class Recording(EmbeddedEmbeddingModel):
        """The real model, recording the priority of each onnxruntime run; the first run
        waits until the query is queued."""

        def __init__(self) -> None:
            super().__init__({"batch_size": 2, "cache_size": 0})
            self.runs: list[int] = []
            self.release_first = threading.Event()

        def _run(self, loaded, group):  # type: ignore[no-untyped-def]
            if not self.runs:
                self.release_first.wait(timeout=30)
            self.runs.append(current_priority())
            return super()._run(loaded, group)

    model = Recording()
    await model.load()
    texts = [f"ingestion text number {i} about packages" for i in range(8)]  # 4 runs of 2
    ingest = asyncio.create_task(model.embed(texts))
    await _until(lambda: model._runs.in_use == 1)
    with running_at(Priority.QUERY):
        query = asyncio.create_task(model.embed(["how are packages installed?"]))
    await _until(lambda: model._runs.waiting == 1)
    model.release_first.set()
    vectors, query_vector = await asyncio.gather(ingest, query)
    assert model.runs == [Priority.INGEST, Priority.QUERY] + [Priority.INGEST] * 3
    reference = await EmbeddedEmbeddingModel({"cache_size": 0}).embed(texts)
    np.testing.assert_allclose(vectors, reference, atol=1e-6)  # per-run slots change no vector
    assert query_vector.shape == (1, 384)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_the_embedded_chat_model_parses_a_query_before_queued_chunks() -> None:
    """A question's parse queues only for a core (query first), never behind the chunk
    parses of the spaCy slot (``max_async``)."""
    from lightrag.llm.embedded import cpu
    from lightrag.llm.embedded.chat import EmbeddedChatModel
    from lightrag.vocabulary.priority import PrioritySlots

    core = PrioritySlots(1)
    cpu._POOLS[asyncio.get_running_loop()] = core  # one core
    model = EmbeddedChatModel(
        {"rank_with_embeddings": False, "max_async": 1, "parse_processes": False}
    )
    await model.load()
    finished: list[str] = []

    async def extract(i: int) -> None:
        await model.extract_graph(
            f"Debian ships package number {i}.", chunk_id=f"c{i}", file_path="doc.txt"
        )
        finished.append(f"chunk {i}")

    async def keywords() -> None:
        await model.extract_keywords("How does Debian ship packages?")
        finished.append("query")

    await core.acquire()  # a run in progress holds the only core
    chunks = []
    for i in range(3):
        chunks.append(asyncio.create_task(extract(i)))
        await _settle()
    with running_at(Priority.QUERY):
        query = asyncio.create_task(keywords())
    await _settle()
    core.release()
    await asyncio.gather(*chunks, query)
    assert finished == ["query", "chunk 0", "chunk 1", "chunk 2"]

    await model._slots.acquire()  # a chunk parse holds the spaCy slot
    with running_at(Priority.QUERY):
        await asyncio.wait_for(model.extract_keywords("Where are packages?"), timeout=30)
    model._slots.release()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_the_embedded_answer_ranking_runs_before_queued_extraction() -> None:
    """The ranking embedder has its own runs pool (a query's keyword parse never waits
    behind other queries' ranking) and meets extraction in the cores' pool, query first."""
    from lightrag.llm.embedded import cpu
    from lightrag.llm.embedded.chat import EmbeddedChatModel
    from lightrag.vocabulary.priority import PrioritySlots

    pool = PrioritySlots(1)
    cpu._POOLS[asyncio.get_running_loop()] = pool  # one core
    model = EmbeddedChatModel({"max_async": 1, "parse_processes": False})  # ranks with the embedder
    await model.load()
    assert model._embedder is not None
    finished: list[str] = []

    async def extract(i: int) -> None:
        await model.extract_graph(f"Debian ships package {i}.", chunk_id=f"c{i}", file_path="d")
        finished.append(f"chunk {i}")

    async def rank() -> None:
        assert model._embedder is not None
        await model._embedder.embed(["Debian ships packages.", "How are packages shipped?"])
        finished.append("ranking")

    await pool.acquire(Priority.INGEST)  # an extraction run holds the one core
    chunks = []
    for i in range(2):
        chunks.append(asyncio.create_task(extract(i)))
        await _settle()
    with running_at(Priority.QUERY):
        ranking = asyncio.create_task(rank())
    # chunk 0 and the ranking wait for the core; chunk 1 for the spaCy slot chunk 0 holds
    await _until(lambda: pool.waiting == 2 and model._slots.waiting == 1)
    pool.release()
    await asyncio.gather(*chunks, ranking)
    assert finished == ["ranking", "chunk 0", "chunk 1"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_a_query_parse_on_the_chat_model_goes_before_queued_runs_of_the_engine_embedder() -> (
    None
):
    """Both models take their cores from one pool (``cpu_slots``): the chat model's query
    run overtakes the ingestion runs the engine's embedder queued before it."""
    from lightrag.llm.embedded import cpu
    from lightrag.llm.embedded.chat import EmbeddedChatModel
    from lightrag.llm.embedded.embedding import EmbeddedEmbeddingModel
    from lightrag.vocabulary.priority import PrioritySlots

    class Recording(PrioritySlots):
        """The real pool, recording the priority of each run it lets start."""

        def __init__(self) -> None:
            super().__init__(1)
            self.granted: list[int] = []

        async def acquire(self, priority: int | None = None) -> None:
            await super().acquire(priority)
            self.granted.append(current_priority() if priority is None else priority)

    pool = Recording()
    cpu._POOLS[asyncio.get_running_loop()] = pool  # one core, so runs start one at a time
    chat = EmbeddedChatModel(
        {"rank_with_embeddings": False, "max_async": 1, "parse_processes": False}
    )
    engine = EmbeddedEmbeddingModel({"batch_size": 1, "cache_size": 0, "max_concurrent_runs": 3})
    await chat.load()
    await engine.load()
    texts = [f"ingestion text number {i} about packages" for i in range(3)]
    await pool.acquire(Priority.INGEST)  # a run in progress holds the only core
    ingest = asyncio.gather(*(engine.embed([text]) for text in texts))  # three batches
    await _until(lambda: pool.waiting == 3)
    with running_at(Priority.QUERY):
        query = asyncio.create_task(chat.extract_keywords("How does Debian ship packages?"))
    await _until(lambda: pool.waiting == 4)
    pool.release()
    batches, (high, low) = await asyncio.gather(ingest, query)
    vectors = np.vstack(batches)
    assert pool.granted == [Priority.INGEST, Priority.QUERY] + [Priority.INGEST] * 3
    assert pool.in_use == 0 and pool.waiting == 0
    reference = await EmbeddedEmbeddingModel({"cache_size": 0}).embed(texts)
    np.testing.assert_array_equal(vectors, reference)  # the shared pool changes no vector
    assert high or low
