"""One server process per working directory while it uses file storages.

The file storages keep their data in memory and write whole files: two processes
on the same directory would overwrite each other's work (upstream users lose
data this way with several workers). A server whose engine reports
``single_process`` (a storage declares ``single_process = True``) therefore holds an exclusive ``flock`` on
``<working_dir>/<workspace>/.lightrag-server.lock`` while it runs; a second
server on the same directory refuses to start and says why. Database backends
do not declare it, so replicas over a shared database are not affected.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from lightrag.vocabulary.errors import StorageError

__all__ = ["WorkingDirInUseError", "WorkingDirLock"]

LOCK_NAME = ".lightrag-server.lock"


class WorkingDirInUseError(StorageError):
    """Another process holds the working directory's lock."""


class WorkingDirLock:
    """An exclusive, non-blocking ``flock`` released by ``release()`` or process exit."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise ``WorkingDirInUseError`` naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise WorkingDirInUseError(
                f"another process (pid {holder}) is serving {self.path.parent} with file "
                "storages, which are single-process: stop it, or give this server another "
                "--working-dir or --workspace, or use database storages"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
