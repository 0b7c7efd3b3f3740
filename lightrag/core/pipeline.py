"""The document pipeline: enqueue, index (chunk, extract, merge, embed), resume, cancel, delete.

Flow of one document: ``pending`` -> ``processing`` -> chunk -> extract every
chunk -> merge into the graph and vectors -> write chunks -> persist ->
``processed`` (or ``failed`` with the error; a failure never stops the others).

All documents and chunks share one pool of ``max_async`` LLM slots: a window
of open documents keeps more chunks ready than there are slots, and each LLM
call (not each document) holds a slot, so slots stay busy across document
boundaries. Persistence is coalesced: a document is marked ``processed`` only
after a persist that covers its writes, and concurrent documents share persists.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from lightrag.core.chunking import ChunkingOptions, chunk_document
from lightrag.core.context import EngineContext
from lightrag.core.deletion import DocumentDeleter
from lightrag.core.enqueue import checked_ids, checked_paths, checked_texts, content_summary
from lightrag.core.extraction import GraphExtractor, extraction_to_record
from lightrag.core.llm_calls import CancelledByRequest, InsertLLM, PrioritySlots
from lightrag.core.merge import GraphMerger, MergeOutcome
from lightrag.core.persist import CoalescingPersister
from lightrag.core.pipeline_status import MAX_HISTORY_MESSAGES, PipelineStatus
from lightrag.core.vector_records import write_vectors
from lightrag.vocabulary.coordination import Claim, ClaimLostError, Coordinator
from lightrag.vocabulary.priority import Priority, running_at
from lightrag.vocabulary.types import (
    ChunkRecord,
    DeletionResult,
    DocStatus,
    DocStatusRecord,
    EnqueueResult,
    Extraction,
)

__all__ = ["MAX_HISTORY_MESSAGES", "Pipeline", "PipelineStatus"]

logger = logging.getLogger(__name__)

_THREAD_CHUNKING_CHARS = 200_000  # chunk bigger documents off the event loop
PERSIST_INTERVAL_S = 1.0  # file stores rewrite whole files: share persists between documents


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Seat:
    """One document's place in the window of open documents; released once."""

    def __init__(self, window: asyncio.Semaphore) -> None:
        self._window: asyncio.Semaphore | None = window

    def release(self) -> None:
        if self._window is not None:
            self._window.release()
            self._window = None


class Pipeline:
    """Indexes documents into the graph, the vector stores and the KV stores."""

    def __init__(self, ctx: EngineContext, coordinator: Coordinator) -> None:
        self.ctx = ctx
        self.coordinator = coordinator
        self.status = PipelineStatus()
        self.llm = InsertLLM(
            ctx,
            slots=PrioritySlots(ctx.config.max_async),
            cancelled=lambda: self.status.cancellation_requested,
        )
        self.extractor = GraphExtractor(ctx, self.llm)
        self.merger = GraphMerger(ctx, self.llm, coordinator)
        self.deleter = DocumentDeleter(ctx, self.merger)
        self.chunking = ChunkingOptions.from_config(ctx.config)
        self.open_documents = max(ctx.config.max_parallel_insert, 2 * ctx.config.max_async)
        self._persister = CoalescingPersister(self._persist, min_interval=PERSIST_INTERVAL_S)
        self._running = False
        self._task: asyncio.Task[None] | None = None
        self._doc_tasks: dict[str, asyncio.Task[None]] = {}
        self._writing: set[str] = set()
        self._persisting = 0  # documents waiting for the persist that covers their writes
        self._admitting = False  # the feeder still has documents to start

    # enqueue ---------------------------------------------------------------------

    async def enqueue(
        self,
        texts: Sequence[str],
        *,
        ids: Sequence[str] | None = None,
        file_paths: Sequence[str] | None = None,
        track_id: str | None = None,
    ) -> EnqueueResult:
        """Store new documents as ``pending``; skip those already known (by id).

        Ids default to ``doc-`` + md5 of the stripped text. Raises ``ValueError``
        for an empty text, or ``ids``/``file_paths`` whose length differs from
        ``texts``, or an id given twice.
        """
        contents = checked_texts(texts)
        doc_ids = checked_ids(ids, contents)
        paths = checked_paths(file_paths, len(contents))
        track = track_id or f"insert_{datetime.now(UTC):%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:8]}"
        missing = await self.ctx.storages.doc_status.missing_keys(doc_ids)
        result = EnqueueResult(track_id=track)
        new_docs: dict[str, dict[str, Any]] = {}
        statuses: dict[str, dict[str, Any]] = {}
        now = _now()
        for doc_id, content, path in zip(doc_ids, contents, paths, strict=True):
            if doc_id not in missing or doc_id in new_docs:
                result.duplicates.append(doc_id)
                continue
            new_docs[doc_id] = {"content": content, "file_path": path}
            statuses[doc_id] = dict(
                DocStatusRecord(
                    status=DocStatus.PENDING.value,
                    content_summary=content_summary(content),
                    content_length=len(content),
                    file_path=path,
                    created_at=now,
                    updated_at=now,
                    track_id=track,
                    chunks_count=None,
                    error_msg=None,
                    metadata={},
                )
            )
            result.doc_ids.append(doc_id)
        if new_docs:
            await self.ctx.storages.full_docs.upsert(new_docs)
            await self.ctx.storages.doc_status.upsert(statuses)
            await self.ctx.storages.full_docs.index_done()
            await self.ctx.storages.doc_status.index_done()
        return result

    # running -----------------------------------------------------------------------

    def start(self) -> bool:
        """Process the queue in the background; ``False`` when a run is going already
        (that run then picks up documents enqueued since it began)."""
        if self._running:
            self.status.request_pending = True
            return False
        self._running = True
        self._task = asyncio.create_task(self._run(), name="lightrag-pipeline")
        return True

    async def process(self) -> None:
        """Process pending, processing (crashed) and failed documents; return when done."""
        self.start()
        task = self._task
        if task is not None:
            await asyncio.shield(task)

    async def cancel(self) -> bool:
        """Stop the running pipeline; unfinished documents go back to ``pending``.

        Documents already writing their results finish. Returns whether a run was going.
        """
        if not self._running:
            return False
        self.status.cancellation_requested = True
        self.status.log("cancellation requested")
        for doc_id, task in list(self._doc_tasks.items()):
            if doc_id not in self._writing:
                task.cancel()
        return True

    async def reprocess_failed(self) -> int:
        """Move failed documents back to ``pending`` and start processing; returns how many."""
        failed = await self.ctx.storages.doc_status.by_status([DocStatus.FAILED.value])
        now = _now()
        await self.ctx.storages.doc_status.upsert(
            {
                doc_id: {**record, "status": DocStatus.PENDING.value, "updated_at": now}
                for doc_id, record in failed.items()
            }
        )
        if failed:
            self.start()
        return len(failed)

    async def shutdown(self) -> None:
        """Cancel a running pipeline and wait until it has stopped and persisted."""
        task = self._task
        if task is None or task.done():
            return
        await self.cancel()
        await asyncio.gather(task, return_exceptions=True)

    @property
    def running(self) -> bool:
        return self._running

    async def delete_document(self, doc_id: str) -> DeletionResult:
        """Delete a document and what only it sourced; rebuild what it shared.

        The deletion claims the document like a run does, so no replica indexes it meanwhile.
        """
        claims = await self.coordinator.claim([doc_id], 1)
        if not claims:
            return DeletionResult(
                status="fail",
                doc_id=doc_id,
                message="the document is being processed; cancel the pipeline or wait",
            )
        try:
            result = await self.deleter.delete(doc_id)
        finally:
            await self.coordinator.release(claims)
        await self._persist()
        return result

    # internals ----------------------------------------------------------------------

    async def _run(self) -> None:
        # Ingestion priority whoever started the run (its tasks inherit this context).
        with running_at(Priority.INGEST):
            await self._run_at_ingest_priority()

    async def _run_at_ingest_priority(self) -> None:
        status = self.status
        status.busy, status.job_start = True, _now()
        status.cancellation_requested = False
        wanted = [DocStatus.PROCESSING.value, DocStatus.FAILED.value, DocStatus.PENDING.value]
        try:
            while True:
                status.request_pending = False
                docs = await self.ctx.storages.doc_status.by_status(wanted)
                if docs:
                    await self._process_documents(docs)
                await self._persist()  # e.g. failed documents' status; cheap when nothing changed
                # no await between this check and the end of the run (see ``start``)
                if status.cancellation_requested or not status.request_pending:
                    break
                wanted = [DocStatus.PENDING.value]
        finally:
            status.busy = False
            status.cancellation_requested = False
            self._running = False

    async def _process_documents(self, docs: dict[str, dict[str, Any]]) -> None:
        """Claim and index ``docs`` (oldest first). A shared coordinator hands them out in
        batches of ``open_documents``, so replicas listing the same documents share them;
        documents another replica holds are skipped."""
        remaining = sorted(docs, key=lambda d: (str(docs[d].get("created_at", "")), d))
        batch_size = self.open_documents if self.coordinator.shared else len(remaining)
        status = self.status
        window = asyncio.Semaphore(self.open_documents)
        tasks: list[asyncio.Task[None]] = []
        claimed: deque[Claim] = deque()
        started = False
        self._admitting = True
        try:
            while True:
                await window.acquire()
                if status.cancellation_requested:
                    window.release()
                    break
                if not claimed:
                    batch = await self.coordinator.claim(remaining, batch_size) if remaining else []
                    if not batch:
                        window.release()
                        break
                    # candidates before the last one claimed are held by another replica
                    last = max(remaining.index(claim.doc_id) for claim in batch)
                    remaining = remaining[last + 1 :] if len(batch) == batch_size else []
                    claimed.extend(batch)
                    if not started:
                        started = True
                        status.job_name = "indexing documents"
                        status.docs = status.batchs = status.cur_batch = 0
                    status.docs += len(batch)
                    status.batchs = status.docs
                    status.log(f"claimed {len(batch)} documents")
                claim = claimed.popleft()
                self._admitting = bool(claimed or remaining)
                seat = _Seat(window)
                task = asyncio.create_task(self._process_document(claim, seat))
                task.add_done_callback(lambda _, seat=seat: seat.release())  # type: ignore[misc]
                self._doc_tasks[claim.doc_id] = task
                tasks.append(task)
        finally:
            self._admitting = False
            if claimed:  # cancelled before they started: free them for others
                await self.coordinator.release(list(claimed))
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [o for o in outcomes if isinstance(o, Exception)]
        if errors:  # _process_document records document errors; anything else is a bug
            raise errors[0]

    async def _process_document(self, claim: Claim, seat: _Seat) -> None:
        doc_id = claim.doc_id
        started = _now()
        try:
            record = await self.ctx.storages.doc_status.get(doc_id)
            if record is None or record.get("status") == DocStatus.PROCESSED.value:
                return  # deleted, or indexed by another replica, after this run listed it
            await self._index(claim, record, seat, started)
        except ClaimLostError as exc:  # another replica has it now: write nothing more
            logger.warning("%s", exc)
            self.status.log(f"gave up {doc_id}: {exc}")
        finally:
            self._writing.discard(doc_id)
            self._doc_tasks.pop(doc_id, None)
            self.status.cur_batch += 1
            await self.coordinator.release([claim])

    async def _index(self, claim: Claim, record: dict[str, Any], seat: _Seat, started: str) -> None:
        doc_id = claim.doc_id
        fence = functools.partial(self.coordinator.confirm, claim)
        try:
            await self._set_status(doc_id, record, DocStatus.PROCESSING, started=started)
            chunks = await self._chunks_of(doc_id, record)
            extractions = await self._extract(chunks)
            seat.release()  # extraction done: let the next document start while this one merges
            self._writing.add(doc_id)
            outcome = await self.merger.merge(list(extractions.values()), fence=fence)
            await fence()
            await self._write_chunks(doc_id, chunks, extractions, outcome)
            self._persisting += 1
            try:
                last = self._persisting >= len(self._doc_tasks) and not self._admitting
                await self._persister.flush(hurry=last)
            finally:
                self._persisting -= 1
            await fence()
            await self._set_status(
                doc_id, record, DocStatus.PROCESSED, started=started, chunks=list(chunks)
            )
            self.status.log(f"processed {doc_id} ({len(chunks)} chunks)")
        except CancelledByRequest:
            await self._set_status(doc_id, record, DocStatus.PENDING)
            self.status.log(f"cancelled {doc_id}; it is pending again")
        except asyncio.CancelledError:
            await self._set_status(doc_id, record, DocStatus.PENDING)
            self.status.log(f"cancelled {doc_id}; it is pending again")
            raise
        except ClaimLostError:
            raise
        except Exception as exc:  # one document's failure must not stop the others
            logger.warning("document %s failed", doc_id, exc_info=True)
            error = f"{type(exc).__name__}: {exc}"
            await fence()
            await self._set_status(doc_id, record, DocStatus.FAILED, started=started, error=error)
            self.status.log(f"failed {doc_id}: {error}")

    async def _chunks_of(self, doc_id: str, record: dict[str, Any]) -> dict[str, ChunkRecord]:
        stored = await self.ctx.storages.full_docs.get(doc_id)
        if stored is None or not isinstance(stored.get("content"), str):
            raise LookupError(f"document {doc_id} has no stored content in full_docs")
        content: str = stored["content"]
        path = str(stored.get("file_path") or record.get("file_path") or "unknown_source")

        def cut() -> dict[str, ChunkRecord]:
            return chunk_document(
                self.ctx.tokenizer,
                content,
                document_id=doc_id,
                file_path=path,
                options=self.chunking,
            )

        if len(content) > _THREAD_CHUNKING_CHARS:
            return await asyncio.to_thread(cut)
        return cut()

    async def _extract(self, chunks: dict[str, ChunkRecord]) -> dict[str, Extraction]:
        """Extract every chunk concurrently; the first failure cancels the rest and is raised."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = {
                    key: group.create_task(self.extractor.extract(key, chunk))
                    for key, chunk in chunks.items()
                }
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return {key: task.result() for key, task in tasks.items()}

    async def _write_chunks(
        self,
        doc_id: str,
        chunks: dict[str, ChunkRecord],
        extractions: dict[str, Extraction],
        outcome: MergeOutcome,
    ) -> None:
        storages = self.ctx.storages
        records = {
            key: {**chunk, "extraction": extraction_to_record(extractions[key])}
            for key, chunk in chunks.items()
        }
        vectors = {key: {**chunk} for key, chunk in chunks.items()}
        await write_vectors(self.ctx, chunks_vdb=vectors)
        await storages.text_chunks.upsert(records)
        await storages.full_entities.upsert(
            {doc_id: {"entity_names": outcome.entity_names, "count": len(outcome.entity_names)}}
        )
        await storages.full_relations.upsert(
            {
                doc_id: {
                    "relation_pairs": [list(p) for p in outcome.relation_pairs],
                    "count": len(outcome.relation_pairs),
                }
            }
        )

    async def _set_status(
        self,
        doc_id: str,
        record: dict[str, Any],
        status: DocStatus,
        *,
        started: str | None = None,
        chunks: list[str] | None = None,
        error: str | None = None,
    ) -> None:
        now = _now()
        update: dict[str, Any] = {**record, "status": status.value, "updated_at": now}
        update["error_msg"] = error
        metadata = dict(record.get("metadata") or {})
        if started is not None:
            metadata["processing_start_time"] = started
        if status in (DocStatus.PROCESSED, DocStatus.FAILED):
            metadata["processing_end_time"] = now
        update["metadata"] = metadata
        if chunks is not None:
            update["chunks_count"] = len(chunks)
            update["chunks_list"] = chunks
        record.update(update)
        await self.ctx.storages.doc_status.upsert({doc_id: update})

    async def _persist(self) -> None:
        """Persist data stores first and doc status last, so a status never runs ahead.

        One store at a time: file stores write in worker threads, and a persist
        of every store at once would take all of them from the journal appends
        and cache writes that running documents wait for.
        """
        storages = self.ctx.storages
        for storage in storages.all():
            if storage is not storages.doc_status:
                await storage.index_done()
        await storages.doc_status.index_done()
