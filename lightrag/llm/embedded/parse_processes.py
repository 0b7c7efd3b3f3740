"""spaCy parses in worker processes of their own, off the server's interpreter lock.

A spaCy parse is mostly Python and Cython that holds the interpreter lock: in threads of
the server process, chunk parses and the event loop serving queries take turns on one
lock, whatever the cores and the priority queues say (``py-spy record --gil`` under
``benchmarks/query_under_load.py``: a 3 ms question parse held a core for 35 ms).
Here each parse runs in a worker process, with a lock of its own:

- chunk parses (graph extraction, ingestion) in ``chunk_processes`` processes, run at
  the OS niceness ``chunk_nice`` above the server's, so under a query load the kernel
  gives the cores to the server process first and the parses the rest, by time, not by
  turns; on an idle machine niceness costs nothing;
- question parses (keywords, queries) in one process of their own, so a question never
  queues behind a chunk.

spaCy's string store keeps every new word it meets (51 MB more after 1500 chunks of
Debian's documentation): a chunk worker is replaced by a fresh one after ``chunk_tasks``
parses, which bounds it. The question worker is not (questions are short, and a
replacement would make the questions behind it wait for spaCy to load).

Workers start on first use (or ``start()``) with the ``spawn`` method (the server
process has threads: onnxruntime's, the executors'), load spaCy as they start, ignore the
terminal's Ctrl-C (the server shuts them down), and exit within a second of the server
process if it is killed (no orphans holding a model's memory). A worker that dies (killed,
out of memory) fails the parses running or queued in its lane, with a ``ModelError`` that
says so; the next parse starts a new worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from lightrag.llm.embedded.entity_types import EntityTypeMapper
from lightrag.llm.embedded.keywords import keywords_from_doc
from lightrag.llm.embedded.ner import GraphExtractionSettings, extract_graph_from_doc
from lightrag.llm.embedded.nlp import SpacyPipeline
from lightrag.vocabulary.models import ModelError
from lightrag.vocabulary.types import Extraction

__all__ = ["ParseProcesses", "ParseSpec"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ParseSpec:
    """What a worker needs to parse like the model that started it (sent when it starts)."""

    spacy_model: str
    entity_types: tuple[str, ...]
    label_types: tuple[tuple[str, str], ...]
    settings: GraphExtractionSettings


@dataclass(slots=True)
class _Worker:
    spec: ParseSpec
    pipeline: SpacyPipeline
    mapper: EntityTypeMapper


_worker: _Worker | None = None  # set in a worker process only, by _start_worker


def _exit_with(parent: int) -> None:
    """End this worker once ``parent`` is gone (killed: it could not shut us down)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _start_worker(spec: ParseSpec, nice: int) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    if nice:
        os.nice(nice)
    mapper = EntityTypeMapper(list(spec.entity_types), dict(spec.label_types))
    _worker = _Worker(spec, SpacyPipeline(spec.spacy_model), mapper)
    # Load now, so a replacement worker is ready before its first parse; a failure (the
    # package missing) is raised again, as a ModelError, by that parse.
    with contextlib.suppress(Exception):
        _worker.pipeline.get()


def _current() -> _Worker:
    if _worker is None:
        raise RuntimeError("not in a parse worker process (started by ParseProcesses)")
    return _worker


def _warm() -> int:
    """Load spaCy in this worker; its process id."""
    _current().pipeline.get()
    return os.getpid()


def _extract(text: str, chunk_id: str, file_path: str) -> Extraction:
    worker = _current()
    return extract_graph_from_doc(
        worker.pipeline.parse(text),
        chunk_id=chunk_id,
        file_path=file_path,
        mapper=worker.mapper,
        settings=worker.spec.settings,
    )


def _keywords(text: str) -> tuple[list[str], list[str]]:
    return keywords_from_doc(_current().pipeline.parse(text))


class _Lane:
    """One pool of worker processes, started on first use, replaced when one dies."""

    def __init__(
        self, name: str, spec: ParseSpec, processes: int, nice: int, tasks: int | None
    ) -> None:
        self.name = name
        self._spec = spec
        self._processes = processes
        self._nice = nice
        self._tasks = tasks
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self._spec, self._nice),
                max_tasks_per_child=self._tasks,
            )
        return self._pool

    async def run(self, work: Callable[..., _T], *args: Any) -> _T:
        pool = self._executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, work, *args)
        except BrokenProcessPool as exc:
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise ModelError(
                f"embedded model: a spaCy {self.name} worker process stopped unexpectedly "
                f"({exc or 'killed'}); the next parse starts a new one"
            ) from exc

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class ParseProcesses:
    """The embedded chat model's spaCy work in worker processes: ``extract_graph`` in the
    chunk lane, ``keywords`` in the question lane (see the module docstring)."""

    def __init__(
        self, spec: ParseSpec, *, chunk_processes: int, chunk_nice: int, chunk_tasks: int = 0
    ) -> None:
        self._chunks = _Lane("chunk", spec, chunk_processes, chunk_nice, chunk_tasks or None)
        self._questions = _Lane("question", spec, 1, 0, None)

    async def start(self) -> None:
        """Start a worker in each lane and load spaCy there (idempotent)."""
        await asyncio.gather(self._chunks.run(_warm), self._questions.run(_warm))

    async def extract_graph(self, text: str, chunk_id: str, file_path: str) -> Extraction:
        return await self._chunks.run(_extract, text, chunk_id, file_path)

    async def keywords(self, text: str) -> tuple[list[str], list[str]]:
        return await self._questions.run(_keywords, text)

    async def worker_pids(self) -> tuple[int, int]:
        """(a chunk worker's process id, the question worker's), for tests and tools."""
        return await self._chunks.run(_warm), await self._questions.run(_warm)

    async def aclose(self) -> None:
        """Stop the workers (waits for the parses running; drops the queued ones)."""
        await asyncio.to_thread(self._chunks.close)
        await asyncio.to_thread(self._questions.close)
