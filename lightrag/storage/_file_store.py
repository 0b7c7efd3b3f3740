"""The lifecycle shared by the in-memory file storages (JSON KV, nano vectors, GraphML).

Each keeps its data in memory and one main file on disk, written atomically (temp
file, fsync, rename) off the event loop. ``FileStore`` rewrites the main file on
``index_done`` when something changed. ``JournaledFileStore`` instead appends what
changed to a journal beside the main file (one fsynced line per ``index_done``, or
per write for the KV storage) and rewrites the main file only when the journal has
grown past a fraction of it (compaction) and on ``finalize``. Persisting then costs
O(changes) per ``index_done`` and O(1) amortised per change, instead of O(store).

A subclass builds the blocking main-file write from a snapshot taken under its
write lock (``_snapshot``); a journaled one also says what changed since the last
journal line (``_pending_line``/``_pending_written``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from lightrag.storage._files import ChangeTracker
from lightrag.storage._journal import JournalFile
from lightrag.vocabulary.storage import StorageContext

__all__ = ["FileStore", "JournalConfig", "JournaledFileStore"]


class FileStore:
    """Open flag, locks, change tracking and snapshot persistence for a file storage."""

    backend_name: ClassVar[str]
    single_process: ClassVar[bool] = True  # in-memory state, whole-file writes
    shared: ClassVar[bool] = False  # another instance keeps its own copy in memory
    ctx: StorageContext

    def _init_file_state(self) -> None:
        self._changes = ChangeTracker()
        self._write_lock = asyncio.Lock()
        self._persist_lock = asyncio.Lock()
        self._open = False

    async def _snapshot(self) -> Callable[[], None]:
        """Called under the write lock: copy what must be written and return the
        blocking write of that copy (run in a thread)."""
        raise NotImplementedError

    async def _after_persist(self) -> None:
        """Called after a successful write (outside the write lock)."""

    async def _close(self) -> None:
        """Called by ``finalize`` after the last write."""

    async def index_done(self) -> None:
        """Write the file atomically (off the event loop) if anything changed."""
        self._require_open()
        await self._persist()

    async def _persist(self) -> None:
        async with self._persist_lock:
            async with self._write_lock:
                if not self._changes.dirty:
                    return
                version = self._changes.version
                write = await self._snapshot()
            await asyncio.to_thread(write)
            self._changes.saved(version)
            await self._after_persist()

    async def finalize(self) -> None:
        """Persist pending changes and close. Idempotent."""
        if not self._open:
            return
        await self._persist()
        await self._close()
        self._open = False

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError(
                f"{self.backend_name} {self.ctx.namespace!r} is not open: await initialize() first"
            )


class JournalConfig(BaseModel):
    """Journal and compaction parameters shared by the file storages."""

    model_config = ConfigDict(extra="forbid")

    journal: bool = True
    """Persist changes as journal lines beside the main file (off: rewrite the main
    file on every ``index_done``, which costs O(store) each time)."""
    fsync: bool = True
    """fsync each journal append (off: faster, but a power loss may drop the last writes)."""
    compact_ratio: float = Field(1.0, gt=0)
    """Rewrite the main file once the journal is larger than this fraction of it."""
    compact_min_bytes: int = Field(4 * 1024 * 1024, ge=0)
    """...and larger than this many bytes, so small stores do not rewrite per change.
    Compaction rewrites the main file, so the bytes written stay O(bytes journaled)."""


class JournaledFileStore(FileStore):
    """A ``FileStore`` whose ``index_done`` appends to a journal; the main file is compacted.

    Subclasses set ``config``, ``path`` and ``_journal`` before ``_init_file_state``,
    replay the journal on load (``_loaded_main_file`` records the main file's size),
    and ``touch`` the change tracker for every change not yet in the journal.
    """

    config: JournalConfig
    path: Path
    _journal: JournalFile

    def _init_file_state(self) -> None:
        super()._init_file_state()
        self._journal_mark = 0
        self._main_bytes = 0

    def _loaded_main_file(self) -> None:
        """Record the main file's size (blocking; call from the load thread)."""
        try:
            self._main_bytes = os.path.getsize(self.path)
        except FileNotFoundError:
            self._main_bytes = 0

    def _pending_line(self) -> bytes | None:
        """Under the write lock: one journal line setting the state of everything changed
        since the last line was written, or ``None`` when the writes journal themselves."""
        return None

    def _pending_written(self) -> None:
        """Under the write lock, once the ``_pending_line`` is durable: forget those changes."""

    def _compaction_due(self) -> bool:
        limit = max(self.config.compact_min_bytes, self.config.compact_ratio * self._main_bytes)
        return self._journal.size > limit

    async def index_done(self) -> None:
        """Make every change durable (a journal line, or a compaction when one is due)."""
        self._require_open()
        await self._persist()

    async def _persist(self, *, final: bool = False) -> None:
        async with self._persist_lock:
            async with self._write_lock:
                version = self._changes.version
                dirty = self._changes.dirty
                if dirty and self.config.journal:
                    line = self._pending_line()
                    if line is not None:
                        await asyncio.to_thread(self._journal.append, line)
                    self._pending_written()
                    self._changes.saved(version)
                    dirty = False
                lagging = self._journal.size > 0 and (final or self._compaction_due())
                if not (dirty or lagging):
                    return
                self._journal_mark = self._journal.size
                write = await self._snapshot()
            await asyncio.to_thread(self._write_main_file, write)
            self._changes.saved(version)
            await self._after_persist()

    def _write_main_file(self, write: Callable[[], None]) -> None:
        write()
        self._loaded_main_file()

    async def _after_persist(self) -> None:
        """Trim the journal of what the main file now holds."""
        if self._journal_mark:
            async with self._write_lock:
                await asyncio.to_thread(self._journal.discard_prefix, self._journal_mark)
            self._journal_mark = 0

    async def finalize(self) -> None:
        """Persist pending changes, compact the journal into the main file, close. Idempotent.

        After ``finalize`` the main file alone holds everything (readable by upstream tools).
        """
        if not self._open:
            return
        await self._persist(final=True)
        await self._close()
        self._open = False

    async def _close(self) -> None:
        async with self._write_lock:
            await asyncio.to_thread(self._journal.close)

    def _reset_files(self, write_empty: Callable[[], None]) -> None:
        """Blocking: replace the main file with an empty store and remove the journal."""
        write_empty()
        self._journal.reset()
        self._loaded_main_file()
