"""Vector storage in one nano-vectordb file per namespace, with an id -> row index.

Layout (upstream-compatible): ``<working_dir>[/<workspace>]/vdb_<namespace>.json`` in
the nano-vectordb 0.0.4.3 format: ``{"embedding_dim": D, "data": [{"__id__": id,
**meta}, ...], "matrix": base64(float32 rows, L2-normalised)}``. Files written here
load in ``nano_vectordb.NanoVectorDB`` and the other way round.

The rows live in memory in one contiguous numpy matrix (grown by doubling); a dict
maps each id to its row, so ``get``/``upsert``/``delete`` cost O(batch) instead of
nano-vectordb's linear scan per id, and a query is one matrix-vector product. The
file format is encoded here rather than through the package's ``NanoVectorDB``
class, whose import configures the root logger as a side effect.

Persistence: ``index_done`` appends the rows changed since the last call to
``vdb_<namespace>.journal.jsonl``, one line ``{"u": [{"__id__": id, **meta}, ...],
"m": base64(float32 rows of u), "d": [deleted ids]}``; replay applies ``d`` then
``u``. The main file is rewritten (compaction) when the journal outgrows
``compact_ratio`` of it and on ``finalize``, so after a clean shutdown it alone
holds everything and nano-vectordb reads it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

import numpy as np

from lightrag.storage._file_store import JournalConfig, JournaledFileStore
from lightrag.storage._files import (
    ChangeTracker,
    CorruptStorageFileError,
    atomic_write_parts,
    read_json,
    storage_dir,
)
from lightrag.storage._journal import AppendDeltas, JournalFile, encode_line
from lightrag.storage._params import parse_params
from lightrag.storage._vectors import (
    checked_filters,
    checked_query,
    checked_vectors,
    kept_meta,
    normalised,
)
from lightrag.vocabulary.errors import StorageSchemaError
from lightrag.vocabulary.storage import StorageContext

__all__ = ["EmbeddingDimensionMismatchError", "NanoVectorConfig", "NanoVectorStorage"]

_ID = "__id__"
_THREAD_FLOATS = 1 << 20
"""Queries over more matrix entries than this run in a worker thread."""
_B64_BLOCK_ROWS = 3 * 4096
"""Rows base64-encoded at a time when writing (a multiple of 3, so blocks join cleanly)."""


class NanoVectorConfig(JournalConfig):
    """Parameters of the nano-vectordb file storage: its journal and compaction."""


class EmbeddingDimensionMismatchError(StorageSchemaError, ValueError):
    """A stored vector file holds embeddings of another dimension than the model's."""


class NanoVectorStorage(JournaledFileStore):
    """Id -> (vector, metadata) store with exact cosine search, persisted as nano-vectordb JSON.

    Vectors are L2-normalised on upsert, so a query score is the cosine similarity.
    A zero vector is stored as is and scores 0 against every query.
    """

    backend_name: ClassVar[str] = "nano vector storage"
    config_model: ClassVar[type[NanoVectorConfig]] = NanoVectorConfig
    shared: ClassVar[bool] = False

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(NanoVectorConfig, params, self.backend_name)
        if ctx.embedding_dim <= 0:
            raise ValueError(
                f"{self.backend_name} {ctx.namespace!r} needs embedding_dim > 0 "
                f"(the embedding model's dimension), got {ctx.embedding_dim}"
            )
        self.dim = ctx.embedding_dim
        self.directory = storage_dir(ctx)
        self.path = self.directory / f"vdb_{ctx.namespace}.json"
        self._journal = JournalFile(
            self.directory / f"vdb_{ctx.namespace}.journal.jsonl", fsync=self.config.fsync
        )
        self._meta_fields = frozenset(ctx.meta_fields)
        self._ids: list[str] = []
        self._meta: list[dict[str, Any]] = []
        self._rows: dict[str, int] = {}
        self._matrix = np.zeros((0, self.dim), dtype=np.float32)  # spare rows past len(_ids)
        self._upserted: set[str] = set()  # changed since the last journal line
        self._deleted: set[str] = set()
        self._deltas = AppendDeltas()  # long metadata values journaled as appended tails
        self._init_file_state()

    # lifecycle

    async def initialize(self) -> None:
        """Create the directory and load the file. Idempotent.

        Raises ``EmbeddingDimensionMismatchError`` when the file holds vectors of
        another dimension, ``CorruptStorageFileError`` when it cannot be read.
        """
        if self._open:
            return
        async with self._write_lock:
            ids, meta, matrix = await asyncio.to_thread(self._load)
            self._ids, self._meta, self._matrix = ids, meta, matrix
            self._rows = {key: row for row, key in enumerate(ids)}
            self._upserted, self._deleted = set(), set()
            self._deltas = AppendDeltas()
            replayed = await asyncio.to_thread(self._journal.replay_entries, self._replay)
            if self._deltas.gaps:
                record, name = next(iter(self._deltas.gaps))
                raise CorruptStorageFileError(
                    self._journal.path,
                    f"{len(self._deltas.gaps)} appended values do not fit the value they "
                    f"extend (e.g. {name!r} of {record!r})",
                )
            self._changes = ChangeTracker()
            if replayed and not self.config.journal:
                self._changes.touch()  # the main file lags behind the journal
            self._open = True

    def _replay(self, entry: Any) -> None:
        """Apply one journal entry (checked whole first; ``ValueError`` when malformed)."""
        if not isinstance(entry, dict):
            raise ValueError("entry is not an object")
        deleted, upserted = entry.get("d", []), entry.get("u", [])
        if not isinstance(deleted, list) or not all(isinstance(key, str) for key in deleted):
            raise ValueError("'d' is not a list of ids")
        if not isinstance(upserted, list) or not all(
            isinstance(item, dict) and isinstance(item.get(_ID), str) for item in upserted
        ):
            raise ValueError("'u' is not a list of records with a string __id__")
        try:
            flat = np.frombuffer(base64.b64decode(entry.get("m", ""), validate=True), np.float32)
        except (binascii.Error, TypeError) as exc:
            raise ValueError(f"'m' is not base64 float32 ({exc})") from exc
        if flat.size != len(upserted) * self.dim:
            raise ValueError(f"'m' holds {flat.size} floats, expected {len(upserted)} x {self.dim}")
        grown = entry.get("x", {})
        if not isinstance(grown, dict):
            raise ValueError("'x' is not an object")
        deltas = self._deltas
        for key in deleted:
            deltas.reset(key)
        self._delete_rows(deleted)
        keys = [item[_ID] for item in upserted]
        metas = []
        for key, item in zip(keys, upserted, strict=True):
            meta = {k: v for k, v in item.items() if k != _ID}
            deltas.reset(key)
            if key in grown:
                row = self._rows.get(key)
                current = None if row is None else self._meta[row]
                meta.update(deltas.apply(key, current, grown[key]))
            metas.append({k: v for k, v in meta.items() if k in self._meta_fields})
        self._upsert_rows(keys, metas, flat.reshape(len(upserted), self.dim))

    def _pending_line(self) -> bytes | None:
        keys = list(self._upserted)
        rows = [self._rows[key] for key in keys]
        deltas = self._deltas
        deltas.begin()
        records: list[dict[str, Any]] = []
        grown: dict[str, dict[str, list[Any]]] = {}
        for key, row in zip(keys, rows, strict=True):
            whole, appended = deltas.split(key, self._meta[row])
            records.append({**whole, _ID: key})
            if appended:
                grown[key] = appended
        entry: dict[str, Any] = {
            "u": records,
            "m": base64.b64encode(self._matrix[rows].tobytes()).decode("ascii"),
            "d": sorted(self._deleted),
        }
        if grown:
            entry["x"] = grown
        return encode_line(entry)

    def _pending_written(self) -> None:
        self._upserted, self._deleted = set(), set()
        self._deltas.commit()

    def _load(self) -> tuple[list[str], list[dict[str, Any]], np.ndarray]:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._loaded_main_file()
        content = read_json(self.path)
        if content is None:
            return [], [], np.zeros((0, self.dim), dtype=np.float32)
        if not isinstance(content, dict) or not {"embedding_dim", "data", "matrix"} <= set(content):
            raise CorruptStorageFileError(
                self.path, "not a nano-vectordb file (needs embedding_dim, data and matrix)"
            )
        stored_dim = content["embedding_dim"]
        if stored_dim != self.dim:
            raise EmbeddingDimensionMismatchError(
                f"vector file {str(self.path)!r} holds {stored_dim}-dimensional embeddings but "
                f"the embedding model gives {self.dim}. Either configure the model that built "
                "this data, or use a new working directory or workspace, or drop the existing "
                "data (DELETE /documents) and re-index."
            )
        data = content["data"]
        try:
            flat = np.frombuffer(base64.b64decode(content["matrix"], validate=True), np.float32)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise CorruptStorageFileError(
                self.path, f"matrix is not base64 float32 ({exc})"
            ) from exc
        if not isinstance(data, list) or flat.size != len(data) * self.dim:
            raise CorruptStorageFileError(
                self.path, f"matrix holds {flat.size} floats, expected {len(data)} x {self.dim}"
            )
        matrix = normalised(flat.reshape(len(data), self.dim))
        ids: list[str] = []
        meta: list[dict[str, Any]] = []
        rows: dict[str, int] = {}
        for position, entry in enumerate(data):
            if not isinstance(entry, dict) or not isinstance(entry.get(_ID), str):
                raise CorruptStorageFileError(self.path, f"data[{position}] has no string __id__")
            kept = {k: v for k, v in entry.items() if k in self._meta_fields}
            if entry[_ID] in rows:  # a duplicate id: the later row wins
                row = rows[entry[_ID]]
                meta[row] = kept
                matrix[row] = matrix[position]
                continue
            rows[entry[_ID]] = len(ids)
            matrix[len(ids)] = matrix[position]
            ids.append(entry[_ID])
            meta.append(kept)
        return ids, meta, matrix[: len(ids)].copy()

    async def _snapshot(self) -> Callable[[], None]:
        count = len(self._ids)
        return partial(self._write, list(self._ids), list(self._meta), self._matrix[:count].copy())

    def _write(self, ids: list[str], meta: list[dict[str, Any]], matrix: np.ndarray) -> None:
        head = {
            "embedding_dim": self.dim,
            "data": [{**fields, _ID: key} for key, fields in zip(ids, meta, strict=True)],
        }
        encoded_head = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode()
        # The base64 matrix needs no JSON escaping: splice it in instead of letting
        # json.dumps scan (and copy) hundreds of megabytes for large stores, and
        # encode it in blocks of whole base64 quanta instead of all at once.
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        blocks = (
            base64.b64encode(matrix[start : start + _B64_BLOCK_ROWS].data)
            for start in range(0, len(matrix), _B64_BLOCK_ROWS)
        )
        atomic_write_parts(self.path, (encoded_head[:-1], b',"matrix":"', *blocks, b'"}'))

    async def drop(self) -> None:
        """Remove every vector and persist the empty namespace."""
        self._require_open()
        async with self._persist_lock, self._write_lock:
            self._ids, self._meta, self._rows = [], [], {}
            self._matrix = np.zeros((0, self.dim), dtype=np.float32)
            self._upserted, self._deleted = set(), set()
            self._deltas.clear()
            self._changes.touch()
            version = self._changes.version
            empty = partial(self._write, [], [], self._matrix)
            await asyncio.to_thread(self._reset_files, empty)
            self._changes.saved(version)

    # writes

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        """Insert or replace records; ``vectors[i]`` belongs to the i-th key of ``records``.

        Keeps the fields of ``ctx.meta_fields`` of each record. Raises ``ValueError``
        when the vectors' shape does not match (count and ``ctx.embedding_dim``), a
        vector holds NaN/inf, or metadata cannot be JSON-encoded.
        """
        self._require_open()
        if not records:
            return
        matrix = checked_vectors(vectors, len(records), self.dim, self.ctx.namespace)
        metas = kept_meta(records, self._meta_fields, self.backend_name)
        async with self._write_lock:
            keys = list(records)
            self._upsert_rows(keys, metas, matrix)
            self._upserted.update(keys)
            self._deleted.difference_update(keys)
            self._changes.touch()

    def _upsert_rows(
        self, keys: list[str], metas: list[dict[str, Any]], matrix: np.ndarray
    ) -> None:
        self._reserve(len(self._ids) + len(keys))
        for key, meta, vector in zip(keys, metas, matrix, strict=True):
            row = self._rows.get(key)
            if row is None:
                row = len(self._ids)
                self._rows[key] = row
                self._ids.append(key)
                self._meta.append(meta)
            else:
                self._meta[row] = meta
            self._matrix[row] = vector

    def _reserve(self, rows: int) -> None:
        capacity = self._matrix.shape[0]
        if rows <= capacity:
            return
        grown = np.zeros((max(rows, capacity * 2, 64), self.dim), dtype=np.float32)
        grown[: len(self._ids)] = self._matrix[: len(self._ids)]
        self._matrix = grown

    async def delete(self, ids: Sequence[str]) -> None:
        """Remove records; unknown ids are ignored."""
        self._require_open()
        async with self._write_lock:
            removed = self._delete_rows(ids)
            if removed:
                self._upserted.difference_update(removed)
                self._deleted.update(removed)
                for key in removed:
                    self._deltas.forget(key)
                self._changes.touch()

    def _delete_rows(self, ids: Sequence[str]) -> list[str]:
        """Remove the rows of ``ids``; returns the ids that were present."""
        removed = []
        for key in dict.fromkeys(ids):
            row = self._rows.pop(key, None)
            if row is None:
                continue
            last = len(self._ids) - 1
            if row != last:  # move the last row into the hole
                moved = self._ids[last]
                self._ids[row] = moved
                self._meta[row] = self._meta[last]
                self._matrix[row] = self._matrix[last]
                self._rows[moved] = row
            self._ids.pop()
            self._meta.pop()
            removed.append(key)
        return removed

    # reads

    async def query(
        self,
        vector: np.ndarray,
        top_k: int,
        *,
        threshold: float | None = None,
        filters: Mapping[str, Collection[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Up to ``top_k`` matches by cosine similarity, best first, ``{"id", "score", **meta}``.

        Matches scoring below ``threshold`` (default ``ctx.cosine_threshold``) are
        left out. ``filters`` keeps only records whose metadata field equals one of
        the given values for every field named; ``top_k`` is taken among those.
        Raises ``ValueError`` for a query of the wrong dimension, a negative
        ``top_k``, or a filter on a field outside ``ctx.meta_fields`` (or whose
        values are a bare string instead of a collection of strings).
        """
        self._require_open()
        query = checked_query(vector, top_k, self.dim, self.ctx.namespace)[0]
        wanted = checked_filters(filters, self._meta_fields, self.backend_name)
        limit = self.ctx.cosine_threshold if threshold is None else threshold
        if top_k == 0 or not self._ids:
            return []
        if len(self._ids) * self.dim <= _THREAD_FLOATS:
            return self._search(query, top_k, limit, wanted)
        async with self._write_lock:  # rows must not move while a thread reads them
            return await asyncio.to_thread(self._search, query, top_k, limit, wanted)

    def _passing_rows(self, wanted: dict[str, frozenset[str]]) -> np.ndarray:
        """Row numbers whose metadata passes every filter (one pass over the metadata)."""
        fields = list(wanted.items())
        rows = [
            row
            for row, meta in enumerate(self._meta)
            if all(_is_one_of(meta.get(name), values) for name, values in fields)
        ]
        return np.asarray(rows, dtype=np.intp)

    def _search(
        self,
        query: np.ndarray,
        top_k: int,
        threshold: float,
        wanted: dict[str, frozenset[str]] | None = None,
    ) -> list[dict[str, Any]]:
        if not wanted:
            rows = np.arange(len(self._ids), dtype=np.intp)
            scores = self._matrix[: len(self._ids)] @ query
        else:
            rows = self._passing_rows(wanted)
            if rows.size == 0:
                return []
            scores = self._matrix[rows] @ query
        candidates = np.flatnonzero(scores >= threshold)
        if candidates.size > top_k:
            best = np.argpartition(-scores[candidates], top_k - 1)[:top_k]
            candidates = candidates[best]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [
            {**self._meta[row], "id": self._ids[row], "score": float(scores[position])}
            for position, row in zip(order, rows[order], strict=True)
        ]

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Metadata records with ``"id"``, in the order of ``ids``; ``None`` when unknown."""
        self._require_open()
        results: list[dict[str, Any] | None] = []
        for key in ids:
            row = self._rows.get(key)
            results.append(None if row is None else {**self._meta[row], "id": key})
        return results

    async def count(self) -> int:
        self._require_open()
        return len(self._ids)


def _is_one_of(value: Any, values: frozenset[Any]) -> bool:
    try:
        return value in values
    except TypeError:  # an unhashable metadata value (a list) equals no filter value
        return False
