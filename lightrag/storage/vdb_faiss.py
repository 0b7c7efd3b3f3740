"""Vector storage on a Faiss inner-product index, persisted in the working directory.

Vectors are L2-normalised before they enter an ``IndexIDMap2(IndexFlatIP)``, so an
inner product is the cosine similarity and a search is exact. Each record gets an
int64 Faiss id; the table ``int id -> (string id, metadata)`` lives beside the index.

Files in ``<working_dir>[/<workspace>]/`` (one generation ``g`` at a time)::

    faiss_<namespace>.manifest.json   {"format", "generation": g, "dim", "index", "meta"}
    faiss_<namespace>.g<g>.index      faiss.write_index of the index
    faiss_<namespace>.g<g>.meta.json  {"generation": g, "dim", "next_id", "records": [...]}

A persist writes the index and the metadata of generation ``g + 1`` to new files
(each temp + fsync + rename), then replaces the manifest (the commit point), then
removes the files of older generations. A crash before the manifest is replaced
leaves the previous manifest naming the previous, complete pair; a crash after it
leaves the new pair. An index is never read with metadata of another generation.
Files of generations no manifest names (a crash mid-persist) are removed at load.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict

from lightrag.storage._file_store import FileStore
from lightrag.storage._files import (
    ChangeTracker,
    CorruptStorageFileError,
    atomic_write_bytes,
    atomic_write_json,
    read_json,
    storage_dir,
)
from lightrag.storage._params import parse_params
from lightrag.storage._vectors import checked_filters, checked_query, checked_vectors, kept_meta
from lightrag.vocabulary.errors import StorageSchemaError
from lightrag.vocabulary.storage import StorageContext

__all__ = ["FaissVectorConfig", "FaissVectorStorage"]

_FORMAT = 1


class FaissVectorConfig(BaseModel):
    """Parameters of the Faiss storage (none yet: the index is exact, flat inner product)."""

    model_config = ConfigDict(extra="forbid")


class FaissVectorStorage(FileStore):
    """Id -> (vector, metadata) store with exact cosine search on a Faiss flat index.

    Single-process (``shared = False``): the index lives in this process's memory
    and is written on ``index_done``/``finalize``. Index work (add, remove, search,
    serialise) runs in a worker thread, under the write lock.
    """

    shared: ClassVar[bool] = False
    backend_name: ClassVar[str] = "faiss vector storage"
    config_model: ClassVar[type[FaissVectorConfig]] = FaissVectorConfig

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(FaissVectorConfig, params, self.backend_name)
        if ctx.embedding_dim <= 0:
            raise ValueError(
                f"{self.backend_name} {ctx.namespace!r} needs embedding_dim > 0 "
                f"(the embedding model's dimension), got {ctx.embedding_dim}"
            )
        self.dim = ctx.embedding_dim
        self.directory = storage_dir(ctx)
        self.stem = f"faiss_{ctx.namespace}"
        self.manifest_path = self.directory / f"{self.stem}.manifest.json"
        self._meta_fields = frozenset(ctx.meta_fields)
        self._index = self._new_index()
        self._int_ids: dict[str, int] = {}
        self._records: dict[int, tuple[str, dict[str, Any]]] = {}
        self._next_id = 0
        self._generation = 0
        self._init_file_state()

    def _new_index(self) -> Any:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _file(self, generation: int, kind: str) -> Path:
        return self.directory / f"{self.stem}.g{generation}.{kind}"

    # lifecycle

    async def initialize(self) -> None:
        """Create the directory and load the committed generation. Idempotent.

        Raises ``StorageSchemaError`` when the stored index has another dimension,
        ``CorruptStorageFileError`` when the files cannot be read or do not match.
        """
        if self._open:
            return
        async with self._write_lock:
            await asyncio.to_thread(self._load)
            self._changes = ChangeTracker()
            self._open = True

    def _load(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = read_json(self.manifest_path)
        if manifest is None:
            self._remove_generations(keep=None)
            return
        generation, index_path, meta_path = self._read_manifest(manifest)
        if manifest["dim"] != self.dim:
            raise self._dimension_error(manifest["dim"], index_path)
        try:
            index = faiss.read_index(str(index_path))
        except RuntimeError as exc:
            raise CorruptStorageFileError(index_path, f"not a Faiss index ({exc})") from exc
        if index.d != self.dim:
            raise self._dimension_error(index.d, index_path)
        meta = read_json(meta_path)
        if not isinstance(meta, dict) or meta.get("generation") != generation:
            raise CorruptStorageFileError(
                meta_path, f"missing or not the metadata of generation {generation}"
            )
        records = meta.get("records")
        if not isinstance(records, list) or len(records) != index.ntotal:
            count = len(records) if isinstance(records, list) else "no"
            raise CorruptStorageFileError(
                meta_path, f"{count} records for an index of {index.ntotal} vectors"
            )
        int_ids: dict[str, int] = {}
        table: dict[int, tuple[str, dict[str, Any]]] = {}
        for position, entry in enumerate(records):
            if not (
                isinstance(entry, list)
                and len(entry) == 3
                and isinstance(entry[0], int)
                and isinstance(entry[1], str)
                and isinstance(entry[2], dict)
            ):
                raise CorruptStorageFileError(meta_path, f"records[{position}] is malformed")
            number, key, fields = entry
            int_ids[key] = number
            table[number] = (key, {k: v for k, v in fields.items() if k in self._meta_fields})
        self._index = index
        self._int_ids, self._records = int_ids, table
        self._next_id = int(meta.get("next_id", max(table, default=-1) + 1))
        self._generation = generation
        self._remove_generations(keep=generation)

    def _read_manifest(self, manifest: Any) -> tuple[int, Path, Path]:
        if not (
            isinstance(manifest, dict)
            and manifest.get("format") == _FORMAT
            and isinstance(manifest.get("generation"), int)
            and isinstance(manifest.get("dim"), int)
        ):
            raise CorruptStorageFileError(
                self.manifest_path, f"not a format-{_FORMAT} Faiss storage manifest"
            )
        generation = manifest["generation"]
        return generation, self._file(generation, "index"), self._file(generation, "meta.json")

    def _dimension_error(self, stored: int, path: Path) -> StorageSchemaError:
        return StorageSchemaError(
            f"{self.backend_name}: index {str(path)!r} holds {stored}-dimensional vectors but "
            f"the embedding model gives {self.dim}. Configure the model that built this data, "
            "use a new working directory or workspace, or drop the data "
            "(DELETE /documents) and re-index."
        )

    def _remove_generations(self, keep: int | None) -> None:
        """Delete files of every generation but ``keep`` (left over by a crash or superseded)."""
        pattern = re.compile(rf"^{re.escape(self.stem)}\.g(\d+)\.(index|meta\.json)$")
        for path in self.directory.iterdir():
            match = pattern.match(path.name)
            if match and int(match.group(1)) != keep:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    async def _snapshot(self) -> Callable[[], None]:
        serialized = await asyncio.to_thread(faiss.serialize_index, self._index)
        records = [[number, key, fields] for number, (key, fields) in self._records.items()]
        self._generation += 1
        return partial(self._write, self._generation, serialized, records, self._next_id)

    def _write(
        self, generation: int, serialized: np.ndarray, records: list[Any], next_id: int
    ) -> None:
        index_path = self._file(generation, "index")
        meta_path = self._file(generation, "meta.json")
        atomic_write_bytes(index_path, np.ascontiguousarray(serialized).tobytes())
        atomic_write_json(
            meta_path,
            {"generation": generation, "dim": self.dim, "next_id": next_id, "records": records},
        )
        manifest = {
            "format": _FORMAT,
            "generation": generation,
            "dim": self.dim,
            "index": index_path.name,
            "meta": meta_path.name,
        }
        atomic_write_json(self.manifest_path, manifest)  # the commit point
        self._remove_generations(keep=generation)

    async def drop(self) -> None:
        """Remove every vector and persist the empty namespace."""
        self._require_open()
        async with self._persist_lock:
            async with self._write_lock:
                self._index = self._new_index()
                self._int_ids, self._records, self._next_id = {}, {}, 0
                self._changes.touch()
                version = self._changes.version
                write = await self._snapshot()
            await asyncio.to_thread(write)
            self._changes.saved(version)

    # writes

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        """Insert or replace records; ``vectors[i]`` belongs to the i-th key of ``records``.

        A known id's vector is removed from the index and the new one added under
        the same Faiss id. Raises ``ValueError`` for a wrong count or dimension,
        NaN/inf, or metadata that cannot be JSON-encoded.
        """
        self._require_open()
        if not records:
            return
        matrix = checked_vectors(vectors, len(records), self.dim, self.ctx.namespace)
        metas = kept_meta(records, self._meta_fields, self.backend_name)
        async with self._write_lock:
            numbers: list[int] = []
            replaced: list[int] = []
            for key, meta in zip(records, metas, strict=True):
                number = self._int_ids.get(key)
                if number is None:
                    number = self._next_id
                    self._next_id += 1
                    self._int_ids[key] = number
                else:
                    replaced.append(number)
                numbers.append(number)
                self._records[number] = (key, meta)
            ids = np.asarray(numbers, dtype=np.int64)
            await asyncio.to_thread(
                self._replace, np.asarray(replaced, dtype=np.int64), ids, matrix
            )
            self._changes.touch()

    def _replace(self, removed: np.ndarray, ids: np.ndarray, matrix: np.ndarray) -> None:
        if removed.size:
            self._index.remove_ids(removed)
        self._index.add_with_ids(np.ascontiguousarray(matrix), ids)

    async def delete(self, ids: Sequence[str]) -> None:
        """Remove records; unknown ids are ignored."""
        self._require_open()
        async with self._write_lock:
            numbers = [self._int_ids.pop(key) for key in dict.fromkeys(ids) if key in self._int_ids]
            if not numbers:
                return
            for number in numbers:
                del self._records[number]
            await asyncio.to_thread(self._index.remove_ids, np.asarray(numbers, dtype=np.int64))
            self._changes.touch()

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

        ``filters`` restricts the search itself (a Faiss id selector over the
        records that pass), so the ``top_k`` are the best of the passing records.
        """
        self._require_open()
        query = checked_query(vector, top_k, self.dim, self.ctx.namespace)
        wanted = checked_filters(filters, self._meta_fields, self.backend_name)
        limit = self.ctx.cosine_threshold if threshold is None else threshold
        async with self._write_lock:
            if top_k == 0 or not self._records:
                return []
            allowed = self._passing(wanted) if wanted else None
            if allowed is not None and allowed.size == 0:
                return []
            k = min(top_k, self._index.ntotal if allowed is None else allowed.size)
            scores, numbers = await asyncio.to_thread(self._search, query, k, allowed)
            results = []
            for score, number in zip(scores[0].tolist(), numbers[0].tolist(), strict=True):
                if number < 0 or score < limit:
                    continue
                key, meta = self._records[number]
                results.append({**meta, "id": key, "score": float(score)})
            return results

    def _passing(self, wanted: Mapping[str, frozenset[str]]) -> np.ndarray:
        numbers = [
            number
            for number, (_key, meta) in self._records.items()
            if all(_hashable(meta.get(name)) in values for name, values in wanted.items())
        ]
        return np.asarray(numbers, dtype=np.int64)

    def _search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if allowed is None:
            return self._index.search(query, k)
        selector = faiss.IDSelectorBatch(allowed)  # a local: alive until the search returns
        params = faiss.SearchParameters()
        params.sel = selector
        return self._index.search(query, k, params=params)

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Metadata records with ``"id"``, in the order of ``ids``; ``None`` when unknown."""
        self._require_open()
        results: list[dict[str, Any] | None] = []
        for key in ids:
            number = self._int_ids.get(key)
            results.append(None if number is None else {**self._records[number][1], "id": key})
        return results

    async def count(self) -> int:
        self._require_open()
        return len(self._records)


def _hashable(value: Any) -> Any:
    """``value`` if it can be looked up in a set, else a marker that matches nothing."""
    try:
        hash(value)
    except TypeError:
        return _UNMATCHABLE
    return value


_UNMATCHABLE = object()
