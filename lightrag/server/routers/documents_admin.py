"""Document state and maintenance: statuses, tracking, pipeline control, deletion, cache."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, status

from lightrag.core.engine import LightRAG
from lightrag.server.deps import JobsDep, PoolDep, RagDep, ScannerDep, WorkspaceDep
from lightrag.server.schemas import (
    ClearCacheRequest,
    DeleteDocumentsRequest,
    DocStatusResponse,
    DocumentsResponse,
    PaginatedDocsRequest,
    PaginatedDocsResponse,
    PaginationInfo,
    StatusMessage,
    TrackStatusResponse,
    error_response,
)

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/documents", tags=["documents"])

# Keys upstream's pipeline_status always carries; the engine's own fields override them.
_PIPELINE_DEFAULTS: dict[str, Any] = {
    "autoscanned": False,
    "busy": False,
    "job_name": "",
    "job_start": None,
    "docs": 0,
    "batchs": 0,
    "cur_batch": 0,
    "request_pending": False,
    "latest_message": "",
    "history_messages": [],
}


async def _status_counts(rag: LightRAG) -> dict[str, int]:
    counts = await rag.document_counts()
    return {**counts, "all": sum(counts.values())}


@router.get("")
async def list_documents(rag: RagDep) -> DocumentsResponse:
    """Every document, grouped by status (prefer ``/documents/paginated`` for many)."""
    records = await rag.all_documents()
    grouped: dict[str, list[DocStatusResponse]] = {}
    for doc_id, record in records.items():
        item = DocStatusResponse.from_record(doc_id, record)
        grouped.setdefault(item.status, []).append(item)
    return DocumentsResponse(statuses=grouped)


@router.get("/status_counts")
async def status_counts(rag: RagDep) -> dict[str, dict[str, int]]:
    """Number of documents per status, and ``all``."""
    return {"status_counts": await _status_counts(rag)}


@router.post("/paginated")
async def paginated(body: PaginatedDocsRequest, rag: RagDep) -> PaginatedDocsResponse:
    """One page of documents, filtered by status and sorted."""
    rows, total = await rag.documents_page(
        statuses=body.statuses(),
        page=body.page,
        page_size=body.page_size,
        sort_field=body.sort_field,
        sort_desc=body.sort_direction == "desc",
    )
    pages = (total + body.page_size - 1) // body.page_size
    return PaginatedDocsResponse(
        documents=[DocStatusResponse.from_record(doc_id, record) for doc_id, record in rows],
        pagination=PaginationInfo(
            page=body.page,
            page_size=body.page_size,
            total_count=total,
            total_pages=pages,
            has_next=body.page < pages,
            has_prev=body.page > 1,
        ),
        status_counts=await _status_counts(rag),
    )


@router.get("/track_status/{track_id}", responses={400: error_response("The track id is blank")})
async def track_status(track_id: str, rag: RagDep) -> TrackStatusResponse:
    """Documents enqueued under ``track_id`` and a count per status.

    An id that matches no document answers 200 with an empty list, as upstream does:
    a valid id can have none (a scan or batch whose files were all duplicates or
    unreadable), and track ids are not stored apart from their documents. 400 for a
    blank id."""
    if not track_id.strip():
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail="track_id is empty")
    records = await rag.documents_by_track_id(track_id.strip())
    documents = [
        DocStatusResponse.from_record(doc_id, record) for doc_id, record in records.items()
    ]
    return TrackStatusResponse(
        track_id=track_id,
        documents=documents,
        total_count=len(documents),
        status_summary=dict(Counter(doc.status for doc in documents)),
    )


@router.get("/pipeline_status")
async def pipeline_status(rag: RagDep) -> dict[str, Any]:
    """Whether indexing runs, which job, its progress and recent messages."""
    status = await rag.deployment_status()
    return {**_PIPELINE_DEFAULTS, **status.model_dump(mode="json")}


@router.delete("")
async def clear_documents(rag: RagDep, scanner: ScannerDep) -> StatusMessage:
    """Drop every storage: documents, chunks, graph, vectors, statuses and the LLM cache.

    A running scan is stopped first. Files in the input directory are kept (a
    later scan indexes them again)."""
    await scanner.aclose()
    await rag.clear()
    return StatusMessage(
        status="success", message="All documents cleared successfully", document_count=0
    )


def _input_file(input_dir: Path, file_path: str) -> Path | None:
    """``input_dir / file_path`` when it stays inside ``input_dir``; ``None`` otherwise."""
    if not file_path:
        return None
    root = input_dir.resolve()
    candidate = (root / file_path).resolve()
    return candidate if candidate.is_relative_to(root) and candidate != root else None


async def _delete_documents(
    rag: LightRAG,
    doc_ids: list[str],
    files: dict[str, str],
    input_dir: Path,
    clear_cache: bool,
) -> None:
    """Delete each document, then its input file (``files`` maps ids to recorded paths;
    only a document that went loses its file, and only inside ``input_dir``). Every
    outcome is a pipeline status message, so ``/documents/pipeline_status`` reports it.
    One failure does not stop the other deletions."""
    status = rag.pipeline_status
    for doc_id in doc_ids:
        try:
            result = await rag.delete_document(doc_id)
        except Exception as exc:
            logger.exception("deleting document %s failed", doc_id)
            status.log(f"delete {doc_id}: failed: {type(exc).__name__}: {exc}")
            continue
        status.log(f"delete {doc_id}: {result.status} ({result.message})")
        if result.status != "success" or doc_id not in files:
            continue
        path = await asyncio.to_thread(_input_file, input_dir, files[doc_id])
        if path is None:
            status.log(f"delete {doc_id}: kept {files[doc_id]!r}, not a file in the input dir")
            continue
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as exc:
            logger.error("could not delete input file %s: %s", path, exc)
            status.log(f"delete {doc_id}: could not delete its input file: {exc}")
        else:
            status.log(f"delete {doc_id}: removed input file {path.name}")
    if clear_cache:
        removed = await rag.clear_cache()
        status.log(f"delete: removed {removed} LLM cache entries")


@router.delete(
    "/delete_document",
    responses={404: error_response("An id matches no document (nothing is deleted)")},
)
async def delete_document(
    body: DeleteDocumentsRequest, space: WorkspaceDep, pool: PoolDep, jobs: JobsDep
) -> StatusMessage:
    """Delete documents by id in the background; entities and relations they alone
    sourced go, shared ones are rebuilt from their remaining sources.

    ``delete_file`` also removes the document's file from the input directory;
    ``delete_llm_cache`` empties the LLM cache (answers may have used the document).
    404 when an id is unknown (nothing is deleted then). Each document's outcome
    (a document being indexed is refused) appears in ``/documents/pipeline_status``
    messages."""
    rag = space.engine
    records = await rag.documents(body.doc_ids)
    unknown = [doc_id for doc_id, record in zip(body.doc_ids, records, strict=True) if not record]
    if unknown:
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND,
            detail=f"Unknown document id(s): {', '.join(unknown)}",
        )
    files: dict[str, str] = {}
    if body.delete_file:
        for doc_id, record in zip(body.doc_ids, records, strict=True):
            if record and record.get("file_path"):
                files[doc_id] = str(record["file_path"])
    pool.spawn(
        jobs,
        space,
        _delete_documents(rag, body.doc_ids, files, space.input_dir, body.delete_llm_cache),
        name="delete-documents",
    )
    return StatusMessage(
        status="deletion_started",
        message=f"Deleting {len(body.doc_ids)} document(s) in the background",
        doc_id=", ".join(body.doc_ids),
    )


@router.post("/clear_cache")
async def clear_cache(rag: RagDep, body: ClearCacheRequest | None = None) -> StatusMessage:
    """Empty the LLM cache, or only the given modes' entries (``default`` = extraction);
    no body, ``{}`` or an empty ``modes`` list empties all of it, as upstream does."""
    modes = (body.modes or None) if body is not None else None
    removed = await rag.clear_cache(modes)
    scope = f"for modes {', '.join(modes)}" if modes else "for all modes"
    return StatusMessage(status="success", message=f"Removed {removed} LLM cache entries {scope}")


@router.post("/reprocess_failed")
async def reprocess_failed(rag: RagDep) -> StatusMessage:
    """Move failed documents back to pending and index them again."""
    count = await rag.reprocess_failed()
    return StatusMessage(
        status="reprocessing_started",
        message=f"{count} failed document(s) queued for reprocessing",
        document_count=count,
    )


@router.post("/cancel_pipeline")
async def cancel_pipeline(rag: RagDep) -> StatusMessage:
    """Stop the running indexing; unfinished documents go back to pending."""
    if await rag.cancel_pipeline():
        return StatusMessage(
            status="cancellation_requested", message="The pipeline is being cancelled"
        )
    return StatusMessage(status="not_busy", message="The pipeline is not running")
