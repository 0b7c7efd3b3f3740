"""Key-value storage in one JSON file per namespace, with an append-only journal.

Layout (upstream-compatible): ``<working_dir>[/<workspace>]/kv_store_<namespace>.json``
holds ``{key: record}``. With ``journal`` on (the default), every ``upsert`` and
``delete`` is also appended to ``kv_store_<namespace>.journal.jsonl`` before it
returns, so small frequent writes (LLM cache, doc status) survive a crash without
rewriting the big file. The journal is compacted into the main file (atomically, off
the event loop) once it outgrows ``compact_ratio`` of it, and on ``finalize``; so
ingesting N documents writes O(N) bytes, not O(N^2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from lightrag.storage._file_store import JournalConfig, JournaledFileStore
from lightrag.storage._files import (
    ChangeTracker,
    CorruptStorageFileError,
    atomic_write_json,
    read_json,
    storage_dir,
)
from lightrag.storage._journal import KVJournal, encode_delete, encode_upsert
from lightrag.storage._params import parse_params
from lightrag.vocabulary.storage import StorageContext

__all__ = ["JsonKVConfig", "JsonKVStorage"]


class JsonKVConfig(JournalConfig):
    """Parameters of the JSON file KV storage.

    With ``journal`` on, every write is appended to the journal before it returns
    (durable before ``index_done``); the journal is compacted as soon as it outgrows
    its limit, also between ``index_done`` calls, so it stays bounded.
    """


class JsonKVStorage(JournaledFileStore):
    """Key -> JSON object store kept in memory and persisted to one JSON file.

    Records returned by ``get``/``get_many`` are shallow copies: mutating them
    does not change the store. Methods other than ``initialize`` raise
    ``RuntimeError`` before ``initialize`` (or after ``finalize``).
    """

    backend_name: ClassVar[str] = "json kv storage"
    config_model: ClassVar[type[JsonKVConfig]] = JsonKVConfig
    shared: ClassVar[bool] = False
    _journal: KVJournal

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(self.config_model, params, self.backend_name)
        self.directory = storage_dir(ctx)
        self.path = self.directory / f"kv_store_{ctx.namespace}.json"
        self._journal = KVJournal(
            self.directory / f"kv_store_{ctx.namespace}.journal.jsonl", fsync=self.config.fsync
        )
        self._data: dict[str, dict[str, Any]] = {}
        self._init_file_state()

    # lifecycle

    async def initialize(self) -> None:
        """Create the directory, load the file and replay the journal. Idempotent.

        Raises ``CorruptStorageFileError`` (naming the file) when a file cannot be read.
        """
        if self._open:
            return
        async with self._write_lock:
            data, replayed = await asyncio.to_thread(self._load)
            self._data = data
            self._changes = ChangeTracker()
            if replayed:
                self._changes.touch()  # the main file lags behind the journal
            self._open = True

    def _load(self) -> tuple[dict[str, dict[str, Any]], int]:
        self.directory.mkdir(parents=True, exist_ok=True)
        content = read_json(self.path)
        if content is None:
            content = {}
        if not isinstance(content, dict):
            raise CorruptStorageFileError(
                self.path, f"expected a JSON object of records, found {type(content).__name__}"
            )
        for key, record in content.items():
            if not isinstance(record, dict):
                raise CorruptStorageFileError(
                    self.path, f"record {key!r} is a {type(record).__name__}, not an object"
                )
        self._loaded_main_file()
        # Replayed even with the journal off: writes journaled before a config change count.
        replayed = self._journal.replay(content)
        return content, replayed

    async def _snapshot(self) -> Callable[[], None]:
        return partial(atomic_write_json, self.path, dict(self._data))

    async def drop(self) -> None:
        """Remove every record and persist the empty namespace."""
        self._require_open()
        async with self._persist_lock, self._write_lock:
            for record in self._data.values():
                self._replaced(record, None)
            self._data = {}
            self._changes.touch()
            version = self._changes.version
            await asyncio.to_thread(self._reset_files, partial(atomic_write_json, self.path, {}))
            self._changes.saved(version)

    # reads

    async def get(self, key: str) -> dict[str, Any] | None:
        self._require_open()
        record = self._data.get(key)
        return None if record is None else dict(record)

    async def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        self._require_open()
        data = self._data
        return [None if (record := data.get(key)) is None else dict(record) for key in keys]

    async def missing_keys(self, keys: Sequence[str]) -> set[str]:
        self._require_open()
        return {key for key in keys if key not in self._data}

    async def keys(self) -> list[str]:
        self._require_open()
        return list(self._data)

    async def is_empty(self) -> bool:
        self._require_open()
        return not self._data

    # writes

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        """Insert or replace whole records. Idempotent.

        Raises ``ValueError`` when a key is not a string, a record is not a dict,
        or a record holds a value JSON cannot encode.
        """
        self._require_open()
        if not data:
            return
        records = self._validated(data)
        line = self._encode(records) if self.config.journal else None
        async with self._write_lock:
            if line is not None:
                await asyncio.to_thread(self._journal.append, line)
            if self._tracks_replacements:
                data = self._data
                for key, record in records.items():
                    self._replaced(data.get(key), record)
            self._data.update(records)
            self._changes.touch()
        await self._compact_if_journal_is_large()

    async def _compact_if_journal_is_large(self) -> None:
        if self._compaction_due():
            await self._persist()

    def _validated(self, data: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        for key, record in data.items():
            if not isinstance(key, str):
                raise ValueError(f"{self.backend_name}: key {key!r} is not a string")
            if not isinstance(record, dict):
                raise ValueError(
                    f"{self.backend_name}: record {key!r} is a {type(record).__name__}, "
                    "expected a dict"
                )
            records[key] = dict(record)
        return records

    def _encode(self, records: dict[str, dict[str, Any]]) -> bytes:
        try:
            return encode_upsert(records)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{self.backend_name} {self.ctx.namespace!r}: records must be JSON-encodable ({exc})"
            ) from exc

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove records; unknown keys are ignored."""
        self._require_open()
        async with self._write_lock:
            await self._delete_present([key for key in dict.fromkeys(keys) if key in self._data])
        await self._compact_if_journal_is_large()

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every record whose key starts with ``prefix`` (compared literally).

        Returns how many records went. One journal line for the whole removal.
        """
        self._require_open()
        if not isinstance(prefix, str):
            raise ValueError(f"{self.backend_name}: prefix {prefix!r} is not a string")
        async with self._write_lock:
            present = [key for key in self._data if key.startswith(prefix)]
            await self._delete_present(present)
        await self._compact_if_journal_is_large()
        return len(present)

    async def _delete_present(self, present: list[str]) -> None:
        """Journal and remove ``present`` (stored keys, no duplicates); under the write lock."""
        if not present:
            return
        if self.config.journal:
            await asyncio.to_thread(self._journal.append, encode_delete(present))
        for key in present:
            if self._tracks_replacements:
                self._replaced(self._data[key], None)
            del self._data[key]
        self._changes.touch()

    _tracks_replacements: ClassVar[bool] = False
    """Subclasses that keep derived state set this and override ``_replaced``."""

    def _replaced(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """Called under the write lock as a record changes (``None``: absent before/after)."""

    # helpers

    @property
    def journal_path(self) -> Path:
        return self._journal.path
