"""Append-only journals beside a file storage's main file, replayed on load, compacted later.

Each line is one JSON object terminated by ``"\\n"``; what an object means is the
owning storage's business (``JournalFile.replay`` hands each one to a callback).
A line is committed once its newline is on disk; an unterminated or unparsable
*last* line is a write torn by a crash and is cut off on load (with a warning). An
unparsable line followed by others is corruption and raises ``CorruptStorageFileError``.

The KV journal (``KVJournal``) holds ``{"u": {key: record, ...}}`` for an upsert
and ``{"d": [key, ...]}`` for a delete. Every storage's lines set the whole state
of the keys they name, so replaying a prefix of the journal twice gives the same
state as replaying it once: a crash between writing the compacted main file and
trimming the journal loses nothing and breaks nothing.

All methods block; the owning storage calls them through ``asyncio.to_thread``
while holding its write lock, so appends are never interleaved.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from lightrag.storage._files import CorruptStorageFileError, atomic_write_bytes, fsync_dir

__all__ = [
    "AppendDeltas",
    "JournalFile",
    "KVJournal",
    "encode_delete",
    "encode_line",
    "encode_upsert",
]

logger = logging.getLogger(__name__)


def encode_line(entry: dict[str, Any]) -> bytes:
    """One journal line holding ``entry``. Raises ``TypeError`` for non-JSON values."""
    return (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def encode_upsert(records: dict[str, dict[str, Any]]) -> bytes:
    """One KV journal line for an upsert. Raises ``TypeError`` for non-JSON values."""
    return encode_line({"u": records})


def encode_delete(keys: list[str]) -> bytes:
    """One KV journal line for a delete."""
    return encode_line({"d": keys})


class JournalFile:
    """One journal file: replay, append, trim. Entries are applied by the caller's callback."""

    def __init__(self, path: Path, *, fsync: bool) -> None:
        self.path = path
        self._fsync = fsync
        self._handle: IO[bytes] | None = None
        self._broken = False
        self.size = 0
        """Bytes of committed lines in the file (everything after is not ours)."""

    def replay_entries(self, apply: Callable[[Any], None]) -> int:
        """Call ``apply`` on every committed entry in order; cut off a torn tail.

        ``apply`` raises ``ValueError`` for an entry it does not understand (treated
        like an unparsable line). Returns how many entries were applied.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self.size = 0
            return 0
        except OSError as exc:
            raise CorruptStorageFileError(self.path, f"{type(exc).__name__}: {exc}") from exc
        applied = 0
        position = 0
        lines = raw.split(b"\n")
        # The last element is what follows the final newline: empty, or a torn write.
        for number, line in enumerate(lines[:-1], start=1):
            try:
                entry = json.loads(line.decode("utf-8"))
                apply(entry)
            except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
                if number == len(lines) - 1 and not lines[-1]:
                    logger.warning(
                        "ignoring torn last line of journal %s (%d bytes after %d good lines: %s)",
                        self.path,
                        len(line) + 1,
                        applied,
                        exc,
                    )
                    break
                raise CorruptStorageFileError(
                    self.path, f"line {number} is not a valid journal entry ({exc})"
                ) from exc
            applied += 1
            position += len(line) + 1
        if lines[-1]:
            logger.warning(
                "ignoring unterminated last line of journal %s (%d bytes after %d good lines: "
                "a write torn by a crash)",
                self.path,
                len(lines[-1]),
                applied,
            )
        if position != len(raw):
            self._truncate(position)
        self.size = position
        return applied

    def _truncate(self, size: int) -> None:
        with open(self.path, "r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())

    def append(self, line: bytes) -> None:
        """Append one encoded line; durable on return when fsync is on.

        On a failed write the partial line is cut off again, so the journal stays
        replayable; if even that fails, every later append raises ``OSError``.
        """
        if self._broken:
            raise OSError(
                f"journal {str(self.path)!r} may end in a partial write after an earlier I/O "
                "error; restart the server so it is replayed and repaired"
            )
        if self._handle is None:
            created = not self.path.exists()
            self._handle = open(self.path, "ab")  # noqa: SIM115 - kept open across appends
            if created and self._fsync:
                fsync_dir(self.path.parent)
        handle = self._handle
        try:
            handle.write(line)
            handle.flush()
            if self._fsync:
                os.fsync(handle.fileno())
        except OSError:
            self._undo_partial_append(handle)
            raise
        self.size += len(line)

    def _undo_partial_append(self, handle: IO[bytes]) -> None:
        try:
            handle.truncate(self.size)
            handle.flush()
        except OSError:
            self._broken = True
            logger.exception("could not cut a failed append off journal %s", self.path)

    def discard_prefix(self, size: int) -> None:
        """Drop the first ``size`` bytes (already compacted into the main file)."""
        if size <= 0:
            return
        if size >= self.size:
            self.reset()
            return
        tail = self.path.read_bytes()[size : self.size]
        self.close()
        atomic_write_bytes(self.path, tail)
        self.size = len(tail)

    def reset(self) -> None:
        """Empty the journal (the main file holds everything)."""
        self.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        else:
            fsync_dir(self.path.parent)
        self.size = 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class KVJournal(JournalFile):
    """The journal of one KV namespace: whole-record upserts and deletes."""

    def replay(self, data: dict[str, dict[str, Any]]) -> int:
        """Apply every committed line to ``data``; cut off a torn tail. Returns lines applied."""
        return self.replay_entries(lambda entry: self._apply(entry, data))

    @staticmethod
    def _apply(entry: Any, data: dict[str, dict[str, Any]]) -> None:
        if isinstance(entry, dict) and isinstance(entry.get("u"), dict):
            records = entry["u"]
            if not all(isinstance(value, dict) for value in records.values()):
                raise ValueError("upsert entry holds a record that is not an object")
            data.update(records)
        elif isinstance(entry, dict) and isinstance(entry.get("d"), list):
            for key in entry["d"]:
                data.pop(key, None)
        else:
            raise ValueError("entry is neither an upsert nor a delete")


DELTA_MIN_CHARS = 4096
"""String properties at least this long are journaled as appended tails when they grew."""


class AppendDeltas:
    """Journals long string properties that grew by appending as ``[offset, tail]``.

    A popular entity's ``source_id`` gains a chunk id per document that names it; written
    whole on every ``index_done`` its journal lines would grow with the corpus, and the
    bytes journaled (and compacted) quadratically. ``split`` hands back the properties to
    write whole and the deltas ``{name: [len(previous value), appended text]}`` against
    the value journaled last for the same record; ``commit`` records the new values once
    their line is durable (a failed append leaves the previous ones in force).

    On replay, ``apply`` rebuilds a value from the current one: ``offset`` equal to its
    length appends the tail; a value that already holds the tail at ``offset`` (a main
    file written after the line) is kept. Anything else is an unexplained gap, recorded
    in ``gaps`` until a later whole value or delete of the record resets it.
    """

    def __init__(self) -> None:
        self._last: dict[Hashable, dict[str, str]] = {}
        self._staged: dict[Hashable, dict[str, str] | None] = {}
        self.gaps: set[tuple[Hashable, str]] = set()

    def split(
        self, record: Hashable, props: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        """``(whole properties, deltas)`` for journaling ``props`` of ``record``."""
        last = self._last.get(record)
        whole: dict[str, Any] = {}
        deltas: dict[str, list[Any]] = {}
        long_values: dict[str, str] = {}
        for name, value in props.items():
            if type(value) is str and len(value) >= DELTA_MIN_CHARS:
                long_values[name] = value
                old = last.get(name) if last else None
                if old is not None and len(value) > len(old) and value.startswith(old):
                    deltas[name] = [len(old), value[len(old) :]]
                    continue
            whole[name] = value
        self._staged[record] = long_values or None
        return whole, deltas

    def forget(self, record: Hashable) -> None:
        """The record was deleted: its next value is journaled whole (safe at once: a
        whole value never depends on what was journaled before)."""
        self._last.pop(record, None)
        self._staged.pop(record, None)

    def commit(self) -> None:
        """The staged line is durable: its values are the bases of the next deltas."""
        for record, values in self._staged.items():
            if values is None:
                self._last.pop(record, None)
            else:
                self._last[record] = values
        self._staged = {}

    def begin(self) -> None:
        """Start staging a new line (what a failed append staged is dropped)."""
        self._staged = {}

    def clear(self) -> None:
        self._last, self._staged = {}, {}

    def apply(
        self, record: Hashable, current: Mapping[str, Any] | None, deltas: Any
    ) -> dict[str, Any]:
        """Replay: the values ``deltas`` give from the ``current`` properties.

        Raises ``ValueError`` when ``deltas`` is not ``{name: [offset, tail]}``.
        """
        if not isinstance(deltas, dict):
            raise ValueError("deltas are not an object")
        values: dict[str, Any] = {}
        for name, delta in deltas.items():
            if not (
                isinstance(delta, list)
                and len(delta) == 2
                and type(delta[0]) is int
                and isinstance(delta[1], str)
            ):
                raise ValueError(f"delta of {name!r} is not [offset, tail]")
            offset, tail = delta
            value = None if current is None else current.get(name)
            if isinstance(value, str) and len(value) == offset:
                values[name] = value + tail
                self.gaps.discard((record, name))
            elif isinstance(value, str) and value.startswith(tail, offset):
                values[name] = value
            else:
                if value is not None:
                    values[name] = value
                self.gaps.add((record, name))
        return values

    def reset(self, record: Hashable, names: Iterable[str] | None = None) -> None:
        """Replay: whole values (``names``; all when ``None``) or a delete end any gap."""
        if names is None:
            self.gaps = {gap for gap in self.gaps if gap[0] != record}
        else:
            for name in names:
                self.gaps.discard((record, name))
