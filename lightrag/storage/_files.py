"""File plumbing shared by the file backends: where files live, atomic writes, safe reads.

Contracts:

- ``storage_dir(ctx)`` is ``ctx.working_dir / ctx.workspace`` (or ``working_dir``
  when the workspace is empty); workspace and namespace must be plain names.
- ``atomic_write_bytes`` never leaves a half-written file behind: it writes a temp
  file in the same directory, fsyncs it, ``os.replace``-s it over the target and
  fsyncs the directory. Readers see the old content or the new one, nothing else.
- ``read_json`` returns ``None`` for a missing file and raises
  ``CorruptStorageFileError`` (naming the file) for one it cannot parse, so a
  backend never silently starts empty over user data.
- ``ChangeTracker`` counts changes so that ``index_done`` writes only when
  something changed since the last successful write.

All functions here block: call them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lightrag.vocabulary.errors import StorageError
from lightrag.vocabulary.storage import StorageContext

__all__ = [
    "ChangeTracker",
    "CorruptStorageFileError",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_parts",
    "check_name",
    "fsync_dir",
    "read_json",
    "storage_dir",
]


class CorruptStorageFileError(StorageError):
    """A storage file exists but cannot be read; the message names the file and the fix."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"cannot read storage file {str(path)!r}: {reason}. The file was left untouched; "
            "restore it from a backup, or move it away to start this namespace empty."
        )
        self.path = path


def check_name(value: str, what: str, *, allow_empty: bool) -> str:
    """Return ``value`` if it is usable as a file-name part, else raise ``ValueError``."""
    if not value:
        if allow_empty:
            return value
        raise ValueError(f"{what} must not be empty")
    bad = {"/", "\\", "\x00"} & set(value)
    if bad or value in {".", ".."} or value != value.strip():
        raise ValueError(
            f"{what} {value!r} is not a plain name: no path separators, NUL, "
            "surrounding spaces, '.' or '..'"
        )
    return value


def storage_dir(ctx: StorageContext) -> Path:
    """The directory holding this context's files (not created here)."""
    check_name(ctx.namespace, "namespace", allow_empty=False)
    check_name(ctx.workspace, "workspace", allow_empty=True)
    root = Path(ctx.working_dir)
    return root / ctx.workspace if ctx.workspace else root


def fsync_dir(directory: Path) -> None:
    """Make a rename or file creation in ``directory`` durable (no-op where unsupported)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temp file + fsync + ``os.replace``)."""
    atomic_write_parts(path, (data,))


def atomic_write_parts(path: Path, parts: Iterable[bytes]) -> None:
    """Replace ``path`` with the concatenation of ``parts`` atomically, without joining them."""
    directory = path.parent
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    fsync_dir(directory)


def atomic_write_json(path: Path, value: Any) -> None:
    """Serialise ``value`` as UTF-8 JSON and write it atomically."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    atomic_write_bytes(path, data)


def read_json(path: Path) -> Any | None:
    """The parsed JSON content of ``path``; ``None`` when the file does not exist.

    Raises ``CorruptStorageFileError`` when the file cannot be read or parsed.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CorruptStorageFileError(path, f"{type(exc).__name__}: {exc}") from exc
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptStorageFileError(path, f"not valid UTF-8 JSON ({exc})") from exc


class ChangeTracker:
    """Counts in-memory changes; ``dirty`` until a snapshot taken at the latest change is saved."""

    __slots__ = ("_saved", "_version")

    def __init__(self) -> None:
        self._version = 0
        self._saved = 0

    @property
    def version(self) -> int:
        return self._version

    @property
    def dirty(self) -> bool:
        return self._version != self._saved

    def touch(self) -> None:
        """Record one change."""
        self._version += 1

    def saved(self, version: int) -> None:
        """Record that the state as of ``version`` is on disk."""
        self._saved = max(self._saved, version)
