"""Vector storage in TiDB: one table (``vector_table``) with a ``VECTOR(dim)`` column.

Rows are keyed (workspace, namespace, id); the ``ctx.meta_fields`` of each record
are a ``JSON`` column. Similarity (``1 - VEC_COSINE_DISTANCE``), the threshold and
metadata filters all run in SQL. There is no vector index: TiDB keeps HNSW indexes
in TiFlash replicas, and a TiDB without TiFlash (unistore, a single tidb-server)
refuses them, so a query is an exact scan of the namespace's rows, ordered by
cosine distance (fine to about 10^5 vectors per namespace; past that, a cluster
with TiFlash and a vector index is the way). The column keeps the dimension the
table was created with: a storage opened with another ``embedding_dim`` is refused
at ``initialize`` with a ``StorageSchemaError`` naming both. Vectors travel as
TiDB's text form (``'[0.1,0.2]'``), written by the ``tidb-vector`` package's encoder,
which also gives TiDB's dimension limits and distance function names. MySQL and MariaDB before 11.7 have no vector
type: this storage needs TiDB.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pymysql
from tidb_vector import MAX_DIM, MIN_DIM
from tidb_vector.utils import encode_vector

from lightrag.storage._vectors import checked_filters, checked_matrix, checked_query, kept_meta
from lightrag.storage.tidb import sql
from lightrag.storage.tidb._base import TiDBStorageBase, check_id, chunks, decode, dumps, text
from lightrag.storage.tidb.client import TiDBClient
from lightrag.vocabulary.errors import StorageSchemaError
from lightrag.vocabulary.storage import StorageContext

__all__ = ["TiDBVectorStorage"]

_NO_VECTOR_TYPE = frozenset({1064, 4161})  # syntax error, unknown data type (MySQL, MariaDB)
_VECTOR_TYPE = re.compile(r"vector\((\d+)\)", re.IGNORECASE)


def _vector_text(row: np.ndarray) -> str:
    return str(encode_vector(row))


def _vectors_text(array: np.ndarray) -> list[str]:
    return [_vector_text(row) for row in array]


_TEXT_IN_THREAD = 64
"""Batches of more vectors than this are turned into text in a worker thread: ~2 ms per
1024-dim vector, which would hold the event loop for seconds at ingest batch sizes."""


def _json_path(field: str) -> str:
    """The JSON path of a top-level metadata field (quoted: any name is safe)."""
    return "$." + json.dumps(field)


class TiDBVectorStorage(TiDBStorageBase):
    """Id -> (vector, metadata) with exact cosine search in TiDB."""

    backend_name: ClassVar[str] = "tidb vector storage"

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        super().__init__(ctx, params)
        if not MIN_DIM <= ctx.embedding_dim <= MAX_DIM:
            raise ValueError(
                f"{self.backend_name} {ctx.namespace!r} needs an embedding_dim from {MIN_DIM} "
                f"to {MAX_DIM} (TiDB's VECTOR limits; the embedding model's dimension), "
                f"got {ctx.embedding_dim}"
            )
        self.dim = ctx.embedding_dim
        self.table = self.config.vector_table
        self._meta_fields = frozenset(ctx.meta_fields)

    def _sql(self, statement: str, **parts: str) -> str:
        return statement.format(table=self.table, **parts)

    async def _create_schema(self, client: TiDBClient) -> None:
        try:
            await client.migrate(f"vector:{self.table}", sql.vector_schema(self.table, self.dim))
        except pymysql.err.MySQLError as exc:
            if exc.args and exc.args[0] not in _NO_VECTOR_TYPE:
                raise
            raise StorageSchemaError(
                f"{self.backend_name}: cannot create table {self.table!r} on "
                f"{self.config.where()} ({exc}); the vector storage needs TiDB (MySQL and "
                "MariaDB < 11.7 have no VECTOR type)"
            ) from exc
        existing = await client.fetchval(sql.VECTOR_COLUMN_TYPE, [self.table])
        match = _VECTOR_TYPE.fullmatch(text(existing or "").strip())
        if match is None:
            raise StorageSchemaError(
                f"{self.backend_name}: table {self.table!r} on {self.config.where()} has no "
                f"VECTOR column 'embedding' (found {text(existing or 'none')!r}); the vector "
                "storage needs TiDB (MySQL and MariaDB < 11.7 have no VECTOR type)"
            )
        if int(match.group(1)) != self.dim:
            raise StorageSchemaError(
                f"{self.backend_name}: table {self.table!r} on {self.config.where()} holds "
                f"vectors of dimension {match.group(1)}, but the embedding model gives "
                f"{self.dim}. Set another vector_table (TIDB_VECTOR_TABLE) for this model, "
                f"or drop table {self.table} (it holds every namespace's vectors) to re-embed."
            )

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        if not records:
            return
        array = checked_matrix(vectors, len(records), self.dim, self.namespace)
        metas = kept_meta(records, self._meta_fields, self.backend_name)
        if len(array) > _TEXT_IN_THREAD:
            texts = await asyncio.to_thread(_vectors_text, array)
        else:
            texts = _vectors_text(array)
        rows = sorted(
            (
                check_id(record_id, "vector id"),
                vector_text,
                dumps(meta, f"{self.backend_name} metadata of {record_id!r}"),
            )
            for record_id, vector_text, meta in zip(records, texts, metas, strict=True)
        )
        await self.client.executemany(
            self._sql(sql.VECTOR_UPSERT), [(*self._scope, *row) for row in rows]
        )

    async def query(
        self,
        vector: np.ndarray,
        top_k: int,
        *,
        threshold: float | None = None,
        filters: Mapping[str, Collection[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Best first, ``{"id", "score", **meta}``; raises ``ValueError`` for a query of the
        wrong dimension, a negative ``top_k`` or a filter that ``checked_filters`` refuses."""
        query = _vector_text(checked_query(vector, top_k, self.dim, self.namespace)[0])
        wanted = checked_filters(filters, self._meta_fields, self.backend_name)
        if top_k == 0:
            return []
        limit = self.ctx.cosine_threshold if threshold is None else threshold
        clauses = ""
        filter_args: list[Any] = []
        for field, values in sorted(wanted.items()):
            if not values:
                return []  # no value can match
            clauses += sql.VECTOR_META_FILTER.format(values=sql.in_list(len(values)))
            filter_args += [_json_path(field), *sorted(values)]
        rows = await self.client.fetch(
            self._sql(sql.VECTOR_QUERY, filters=clauses),
            [query, *self._scope, *filter_args, query, top_k, limit],
        )
        return [
            {**decode(meta), "id": text(record_id), "score": float(score)}
            for record_id, meta, score in rows
        ]

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        if not ids:
            return []
        found: dict[str, Any] = {}
        for part in chunks(list(dict.fromkeys(ids))):
            rows = await self.client.fetch(
                self._sql(sql.VECTOR_GET, ids=sql.in_list(len(part))), [*self._scope, *part]
            )
            found.update({text(record_id): meta for record_id, meta in rows})
        return [{**decode(found[key]), "id": key} if key in found else None for key in ids]

    async def delete(self, ids: Sequence[str]) -> None:
        for part in chunks(sorted(set(ids))):
            await self.client.execute(
                self._sql(sql.VECTOR_DELETE, ids=sql.in_list(len(part))), [*self._scope, *part]
            )

    async def count(self) -> int:
        return int(await self.client.fetchval(self._sql(sql.VECTOR_COUNT), self._scope))

    async def drop(self) -> None:
        await self.client.execute(self._sql(sql.VECTOR_DROP), self._scope)
