"""Document intake: texts, files, uploads into the input directory, directory scans.

Every route enqueues and answers at once with a ``track_id``; indexing runs in the
background (``rag.start_processing()``). Follow it with
``GET /documents/track_status/{track_id}`` or ``GET /documents/pipeline_status``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status

from lightrag.config.models import AppConfig
from lightrag.core.engine import LightRAG
from lightrag.server.deps import ConfigDep, PoolDep, RagDep, ScannerDep, WorkspaceDep
from lightrag.server.ingest import (
    new_track_id,
    parse_file,
    parsing_limits,
    remove_from_input_dir,
    safe_filename,
    save_into_input_dir,
    supported_extensions,
)
from lightrag.server.limits import check_texts_per_request
from lightrag.server.schemas import (
    InsertResponse,
    InsertTextRequest,
    InsertTextsRequest,
    Responses,
    StatusMessage,
    error_response,
)
from lightrag.vocabulary import ids
from lightrag.vocabulary.types import EnqueueResult

__all__ = ["router"]

router = APIRouter(prefix="/documents", tags=["documents"])

_UNSUPPORTED: Responses = {400: error_response("No usable file name, or a file type not supported")}
_FILES = File(description="Documents of supported types", json_schema_extra={"minItems": 1})
_NONE_READABLE: Responses = {
    400: error_response("None of the files could be read (each one named)")
}


async def _enqueue(
    rag: LightRAG,
    texts: Sequence[str],
    file_paths: Sequence[str] | None,
    *,
    prefix: str,
    failures: Sequence[str] = (),
) -> InsertResponse:
    """Enqueue, start background indexing, and describe what was accepted."""
    track_id = new_track_id(prefix)
    result = await rag.enqueue(list(texts), file_paths=file_paths, track_id=track_id)
    if result.doc_ids:
        rag.start_processing()
    return _describe(result, failures)


def _describe(result: EnqueueResult, failures: Sequence[str]) -> InsertResponse:
    new, dupes = len(result.doc_ids), len(result.duplicates)
    parts = [f"{new} document(s) accepted for indexing"]
    if dupes:
        parts.append(f"{dupes} already known (same content): {', '.join(result.duplicates)}")
    if failures:
        parts.append(f"{len(failures)} rejected: {'; '.join(failures)}")
    if new and not dupes and not failures:
        state = "success"
    elif new:
        state = "partial_success"
    elif dupes and not failures:
        state = "duplicated"
    else:
        state = "failure"
    return InsertResponse(
        status=state,
        message="; ".join(parts),
        track_id=result.track_id,
        document_count=new,
        doc_ids=result.doc_ids,
        duplicates=result.duplicates,
    )


@router.post("/text")
async def insert_text(body: InsertTextRequest, rag: RagDep) -> InsertResponse:
    """Index one text (``file_source`` names where it came from)."""
    sources = [body.file_source] if body.file_source else None
    return await _enqueue(rag, [body.text], sources, prefix="insert")


@router.post("/texts")
async def insert_texts(body: InsertTextsRequest, rag: RagDep, config: ConfigDep) -> InsertResponse:
    """Index several texts (``file_sources``, if given, one per text)."""
    check_texts_per_request(len(body.texts), config.server)
    return await _enqueue(rag, body.texts, body.file_sources, prefix="insert")


@router.post("/file", responses=_UNSUPPORTED)
async def insert_file(
    rag: RagDep,
    config: ConfigDep,
    file: Annotated[UploadFile, File(description="A document of a supported type")],
    description: Annotated[str | None, Form(description="seed 1.1.4; not stored")] = None,
) -> InsertResponse:
    """Parse one uploaded file and index its text (the file itself is not kept)."""
    name = safe_filename(file.filename)
    text = await parse_file(name, await file.read(), parsing_limits(config.server))
    return await _enqueue(rag, [text], [name], prefix="upload")


async def _insert_files(
    rag: LightRAG, config: AppConfig, files: list[UploadFile]
) -> InsertResponse:
    check_texts_per_request(len(files), config.server)
    limits = parsing_limits(config.server)
    texts: list[str] = []
    names: list[str] = []
    failures: list[str] = []
    for upload in files:
        try:
            name = safe_filename(upload.filename)
            texts.append(await parse_file(name, await upload.read(), limits))
            names.append(name)
        except HTTPException as exc:
            failures.append(str(exc.detail))
    if not texts:
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST,
            detail=f"No file could be indexed: {'; '.join(failures)}",
        )
    return await _enqueue(rag, texts, names, prefix="upload", failures=failures)


@router.post("/file_batch", responses=_NONE_READABLE)
async def insert_file_batch(
    rag: RagDep,
    config: ConfigDep,
    files: Annotated[list[UploadFile], _FILES],
) -> InsertResponse:
    """Parse several uploaded files and index them; unreadable ones are listed in
    ``message`` (400 when none could be read)."""
    return await _insert_files(rag, config, files)


@router.post("/batch", responses=_NONE_READABLE)
async def insert_batch(
    rag: RagDep,
    config: ConfigDep,
    files: Annotated[list[UploadFile], _FILES],
    description: Annotated[str | None, Form(description="seed 1.1.4; not stored")] = None,
) -> InsertResponse:
    """The seed's name of ``/documents/file_batch``."""
    return await _insert_files(rag, config, files)


def _duplicated(message: str, doc_id: str | None = None) -> InsertResponse:
    """Upstream's answer to an upload it already has: 200, ``duplicated``, no track id."""
    return InsertResponse(
        status="duplicated",
        message=message,
        track_id="",
        duplicates=[doc_id] if doc_id else [],
    )


@router.post("/upload", responses=_UNSUPPORTED)
async def upload_to_input_dir(
    space: WorkspaceDep,
    config: ConfigDep,
    file: Annotated[UploadFile, File(description="A document of a supported type")],
) -> InsertResponse:
    """Save a file into the workspace's input directory, then index it.

    A file the server already has is answered ``duplicated`` (200, as upstream does, so a
    client may retry an upload) and nothing is written: a file of that name in the input
    directory, or the same content already indexed under another name."""
    rag = space.engine
    name = safe_filename(file.filename)
    data = await file.read()
    text = await parse_file(name, data, parsing_limits(config.server))
    if await asyncio.to_thread((space.input_dir / name).exists):
        return _duplicated(f"File {name!r} already exists in the input directory")
    doc_id = ids.doc_id(text.strip())
    (known,) = await rag.documents([doc_id])
    if known:
        return _duplicated(_same_content(name, doc_id, known), doc_id)
    saved = await save_into_input_dir(space.input_dir, name, data)
    if saved is None:  # another request saved the name meanwhile
        return _duplicated(f"File {name!r} already exists in the input directory")
    track_id = new_track_id("upload")
    result = await rag.enqueue([text], file_paths=[name], track_id=track_id)
    if not result.doc_ids:  # the same content arrived meanwhile under another name
        await remove_from_input_dir(saved)
        return _duplicated(f"File {name!r} has the same content as a document being indexed")
    rag.start_processing()
    return _describe(result, ())


def _same_content(name: str, doc_id: str, record: dict[str, Any]) -> str:
    source = record.get("file_path") or "unknown_source"
    state = record.get("status", "unknown")
    return (
        f"File {name!r} has the same content as document {doc_id} "
        f"({source}, status {state}); nothing was saved"
    )


@router.post("/scan")
async def scan_input_dir(space: WorkspaceDep, pool: PoolDep) -> StatusMessage:
    """Index new supported files of the workspace's input directory, in the background
    (the default workspace's scan leaves out the other workspaces' directories)."""
    scanner = space.scanner
    others = (await pool.registry.names())[1:] if space.name == pool.default else ()
    track_id = scanner.start(space.engine, skip_dirs=others)
    if track_id is None:
        return StatusMessage(
            status="already_scanning",
            message="A scan is already running",
            track_id=scanner.progress.track_id,
        )
    return StatusMessage(
        status="scanning_started",
        message="Scanning the input directory in the background",
        track_id=track_id,
    )


@router.get("/scan-progress")
async def scan_progress(scanner: ScannerDep) -> dict[str, Any]:
    """Progress of the current or last scan (seed 1.1.5 shape, plus failures)."""
    progress = scanner.progress
    return {**progress.model_dump(), "progress": progress.progress}


@router.get(
    "/scan/status/{track_id}",
    responses={404: error_response("Not the latest scan's track id")},
)
async def scan_status(track_id: str, scanner: ScannerDep) -> dict[str, Any]:
    """State of the scan started under ``track_id`` (the latest scan only; 404 otherwise)."""
    progress = scanner.progress
    if progress.track_id != track_id:
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND,
            detail=f"No scan with track id {track_id!r} (only the latest scan is kept)",
        )
    state = "running" if progress.is_scanning else "failed" if progress.error else "completed"
    return {
        "track_id": track_id,
        "status": state,
        "counts": {
            "total_files": progress.total_files,
            "enqueued": progress.indexed_count,
            "duplicates": progress.duplicate_count,
            "failed": len(progress.failures),
        },
        "failures": [failure.model_dump() for failure in progress.failures],
        "message": progress.error or "",
    }


@router.get("/supported_file_types")
async def supported_file_types() -> dict[str, Any]:
    """File extensions the server can index."""
    extensions = supported_extensions()
    return {"supported_extensions": extensions, "engines": {"legacy": extensions}}
