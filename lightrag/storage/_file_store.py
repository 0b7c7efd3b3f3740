"""The lifecycle shared by the in-memory file storages (JSON KV, nano vectors, GraphML).

Each keeps its data in memory and writes one file atomically, off the event loop,
when ``index_done``/``finalize`` find something changed. A subclass builds the
blocking write from a snapshot taken under its write lock (``_snapshot``) and may
act after a successful write (``_after_persist``) or on close (``_close``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from lightrag.storage._files import ChangeTracker
from lightrag.vocabulary.storage import StorageContext

__all__ = ["FileStore"]


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
