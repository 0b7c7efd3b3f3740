"""Files into documents: parse uploads, save them into the input dir, scan the input dir.

Parsing (``lightrag.parsing``) is CPU-bound and file I/O blocks, so both run in
worker threads, never in the event loop. Parse errors become 4xx answers that
name the file and what was wrong with it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from fastapi import HTTPException, status
from pydantic import BaseModel, Field

from lightrag import parsing
from lightrag.config.models import ServerConfig

if TYPE_CHECKING:
    from lightrag.core.engine import LightRAG

__all__ = [
    "FileFailure",
    "ScanProgress",
    "Scanner",
    "new_track_id",
    "parse_file",
    "parsing_limits",
    "remove_from_input_dir",
    "safe_filename",
    "save_into_input_dir",
    "supported_extensions",
]

logger = logging.getLogger(__name__)

_SCAN_BATCH = 50


def new_track_id(prefix: str) -> str:
    """A fresh track id, ``<prefix>_<utc timestamp>_<8 hex>`` like upstream's."""
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    return f"{prefix}_{stamp}_{uuid.uuid4().hex[:8]}"


def supported_extensions() -> list[str]:
    """Extensions (with the dot, lower case) that ``lightrag.parsing`` reads."""
    return sorted(parsing.SUPPORTED_EXTENSIONS)


def safe_filename(name: str | None) -> str:
    """The base name of an uploaded file; 400 when it is missing or not a file name."""
    base = PurePath((name or "").replace("\\", "/")).name.strip()
    if not base or base in {".", ".."} or "\x00" in base:
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST,
            detail=f"Upload has no usable file name: {name!r}",
        )
    return base


def parsing_limits(server: ServerConfig) -> parsing.ParsingLimits:
    """The per-file parsing limits configured in ``server`` (``server.max_archive_*``,
    ``server.max_pdf_pages``)."""
    return parsing.ParsingLimits(
        max_uncompressed_bytes=server.max_archive_uncompressed_bytes,
        max_compression_ratio=server.max_archive_compression_ratio,
        max_zip_entries=server.max_archive_entries,
        max_pdf_pages=server.max_pdf_pages,
    )


async def parse_file(filename: str, data: bytes, limits: parsing.ParsingLimits) -> str:
    """The (never empty) text of an uploaded file, parsed in a worker thread within
    ``limits``; 400 for an unsupported type, 422 when empty, corrupt or over a limit."""
    try:
        return await parsing.extract_text_async(filename, data, limits=limits)
    except parsing.UnsupportedFileType as exc:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    except parsing.ParseError as exc:
        raise HTTPException(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)
        ) from exc


def _link_new_file(directory: Path, filename: str, data: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / filename
    temp = directory / f".{filename}.{uuid.uuid4().hex}.part"
    temp.write_bytes(data)
    try:
        os.link(temp, target)  # atomic, and fails instead of overwriting
    finally:
        temp.unlink()
    return target


async def save_into_input_dir(input_dir: Path, filename: str, data: bytes) -> Path | None:
    """Write ``data`` as ``input_dir/filename``, never overwriting: ``None`` (and nothing
    written) when a file of that name exists."""
    try:
        return await asyncio.to_thread(_link_new_file, input_dir, filename, data)
    except FileExistsError:
        return None


async def remove_from_input_dir(path: Path) -> None:
    """Delete a file this server just saved (an upload that turned out to be a duplicate)."""
    await asyncio.to_thread(path.unlink, missing_ok=True)


# scanning ------------------------------------------------------------------------------


class FileFailure(BaseModel):
    file: str
    reason: str


class ScanProgress(BaseModel):
    """What the current (or last) scan of the input directory did."""

    is_scanning: bool = False
    track_id: str | None = None
    current_file: str = ""
    total_files: int = 0
    indexed_count: int = 0
    duplicate_count: int = 0
    failures: list[FileFailure] = Field(default_factory=list)
    error: str | None = None

    @property
    def progress(self) -> float:
        done = self.indexed_count + self.duplicate_count + len(self.failures)
        return 100.0 * done / self.total_files if self.total_files else 0.0


def _list_supported(input_dir: Path, skip_dirs: Collection[str] = ()) -> list[Path]:
    if not input_dir.is_dir():
        return []
    found = []
    for path in input_dir.rglob("*"):
        relative = path.relative_to(input_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if len(relative.parts) > 1 and relative.parts[0] in skip_dirs:
            continue
        if path.is_file() and path.suffix.lower() in parsing.SUPPORTED_EXTENSIONS:
            found.append(path)
    return sorted(found)


@dataclass
class Scanner:
    """Scans the input directory in the background, one scan at a time; each file is
    parsed within ``limits``."""

    input_dir: Path
    limits: parsing.ParsingLimits = field(default_factory=parsing.ParsingLimits)
    progress: ScanProgress = field(default_factory=ScanProgress)
    _task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, rag: LightRAG, *, skip_dirs: Collection[str] = ()) -> str | None:
        """Start a scan; its track id, or ``None`` when one is already running.

        Top-level directories named in ``skip_dirs`` are left out (the input
        directories of other workspaces)."""
        if self.busy:
            return None
        track_id = new_track_id("scan")
        self.progress = ScanProgress(is_scanning=True, track_id=track_id)
        self._task = asyncio.create_task(
            self._run(rag, track_id, frozenset(skip_dirs)), name="input-dir-scan"
        )
        return track_id

    async def wait(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    async def aclose(self) -> None:
        """Cancel a running scan (documents already enqueued stay enqueued)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                logger.info("input directory scan cancelled at shutdown")

    async def _run(self, rag: LightRAG, track_id: str, skip_dirs: frozenset[str]) -> None:
        try:
            files = await asyncio.to_thread(_list_supported, self.input_dir, skip_dirs)
            self.progress.total_files = len(files)
            texts: list[str] = []
            paths: list[str] = []
            for path in files:
                name = path.relative_to(self.input_dir).as_posix()
                self.progress.current_file = name
                try:
                    data = await asyncio.to_thread(path.read_bytes)
                    texts.append(await parse_file(name, data, self.limits))
                    paths.append(name)
                except HTTPException as exc:
                    self._fail(name, str(exc.detail))
                except OSError as exc:
                    self._fail(name, f"cannot read: {exc.strerror or exc}")
                if len(texts) >= _SCAN_BATCH:
                    await self._enqueue(rag, texts, paths, track_id)
                    texts, paths = [], []
            if texts:
                await self._enqueue(rag, texts, paths, track_id)
            rag.start_processing()
        except Exception as exc:
            # Nobody awaits this task: record the failure where /documents/scan-progress
            # shows it, and log it with its traceback.
            logger.exception("scan of %s failed", self.input_dir)
            self.progress.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.progress.is_scanning = False
            self.progress.current_file = ""

    def _fail(self, name: str, reason: str) -> None:
        logger.warning("scan: skipped %s: %s", name, reason)
        self.progress.failures.append(FileFailure(file=name, reason=reason))

    async def _enqueue(
        self, rag: LightRAG, texts: list[str], paths: list[str], track_id: str
    ) -> None:
        result = await rag.enqueue(texts, file_paths=paths, track_id=track_id)
        self.progress.indexed_count += len(result.doc_ids)
        self.progress.duplicate_count += len(result.duplicates)
