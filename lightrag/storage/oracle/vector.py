"""Vector storage in Oracle 23ai: one table (``vector_table``) for every namespace.

Rows are keyed (workspace, namespace, id) with a ``VECTOR(embedding_dim, FLOAT32)``
column and the ``ctx.meta_fields`` of each record as JSON text. Search is exact:
``1 - VECTOR_DISTANCE(embedding, :q, COSINE)`` over the namespace's rows with the
threshold and metadata filters in SQL, best ``FETCH FIRST :k ROWS ONLY`` (no vector
index is created: an approximate index would return fewer than ``top_k`` rows
under a filter). The column keeps the dimension the table was created with: a
storage opened with another ``embedding_dim`` is refused at ``initialize`` with a
``StorageSchemaError`` naming both.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from lightrag.storage._vectors import checked_filters, checked_matrix, checked_query, kept_meta
from lightrag.storage.oracle import sql
from lightrag.storage.oracle._base import OracleStorageBase, write_rows
from lightrag.storage.oracle.client import OracleClient
from lightrag.storage.oracle.codec import checked_id, from_json, json_text, vector_bind
from lightrag.vocabulary.errors import StorageSchemaError
from lightrag.vocabulary.storage import StorageContext

__all__ = ["OracleVectorStorage", "dimension_problem"]


def dimension_problem(table: str, where: str, existing: int | None, wanted: int) -> str | None:
    """The message when ``table`` holds vectors of another dimension than ``wanted``
    (``existing`` ``None``: a flexible ``VECTOR`` column, which fits any)."""
    if existing is None or int(existing) == wanted:
        return None
    return (
        f"oracle vector storage: table {table!r} on {where} holds vectors of dimension "
        f"{existing}, but the embedding model gives {wanted}. Set another vector_table "
        f"(ORACLE_VECTOR_TABLE) for this model, or drop table {table} (it holds every "
        "namespace's vectors) to re-embed."
    )


class OracleVectorStorage(OracleStorageBase):
    """Id -> (vector, metadata) with exact cosine search in Oracle AI Vector Search."""

    backend_name: ClassVar[str] = "oracle vector storage"

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        super().__init__(ctx, params)
        if ctx.embedding_dim <= 0:
            raise ValueError(
                f"{self.backend_name} {ctx.namespace!r} needs embedding_dim > 0 "
                f"(the embedding model's dimension), got {ctx.embedding_dim}"
            )
        self.dim = ctx.embedding_dim
        self.table = self.config.vector_table
        self._meta_fields = frozenset(ctx.meta_fields)

    async def _create_schema(self, client: OracleClient) -> None:
        await client.migrate(f"vector:{self.table}", sql.vector_schema(self.table, self.dim))

        async def probe(conn: Any) -> int | None:
            with conn.cursor() as cursor:
                await cursor.execute(sql.vector_dimension_probe(self.table))
                return cursor.description[0].vector_dimensions

        problem = dimension_problem(
            self.table, self.config.where(), await client.run(probe), self.dim
        )
        if problem:
            raise StorageSchemaError(problem)

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        if not records:
            return
        array = checked_matrix(vectors, len(records), self.dim, self.namespace)
        metas = kept_meta(records, self._meta_fields, self.backend_name)
        rows = sorted(
            (
                self.binds(
                    id=checked_id(key, "vector id"),
                    emb=vector_bind(row),
                    meta=json_text(meta, f"metadata of {key!r}"),
                )
                for key, row, meta in zip(records, array, metas, strict=True)
            ),
            key=lambda row: row["id"],
        )
        statement = sql.vector_upsert(self.table)

        async def op(conn: Any) -> None:
            await write_rows(conn, statement, rows, "meta")

        await self.client.run(op, write=True)

    def query_statement(
        self, vector: np.ndarray, top_k: int, threshold: float | None, filters: Any
    ) -> tuple[str, dict[str, Any]] | None:
        """The search statement and its binds (``None`` when nothing can match).

        Raises ``ValueError`` for a query of the wrong dimension, a negative ``top_k``
        or a filter that ``checked_filters`` refuses."""
        query = checked_query(vector, top_k, self.dim, self.namespace)[0]
        wanted = checked_filters(filters, self._meta_fields, self.backend_name)
        ordered = [(field, sorted(values)) for field, values in sorted(wanted.items())]
        if top_k == 0 or any(not values for _, values in ordered):
            return None
        statement = sql.vector_query(self.table, [(f, len(v)) for f, v in ordered])
        limit = self.ctx.cosine_threshold if threshold is None else threshold
        binds = self.binds(
            q=vector_bind(query),
            threshold=float(limit),
            k=int(top_k),
            **sql.vector_filter_binds(ordered),
        )
        return statement, binds

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
        built = self.query_statement(vector, top_k, threshold, filters)
        if built is None:
            return []
        rows = await self.client.fetchall(*built)
        return [{**from_json(meta), "id": key, "score": float(score)} for key, meta, score in rows]

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        if not ids:
            return []
        rows = await self.fetch_by_ids(lambda n: sql.vector_get(self.table, n), ids)
        found = {row[0]: from_json(row[1]) for row in rows}
        return [{**found[key], "id": key} if key in found else None for key in ids]

    async def delete(self, ids: Sequence[str]) -> None:
        keys = sorted({key for key in ids if isinstance(key, str) and key})
        if not keys:
            return
        rows = [self.binds(id=key) for key in keys]
        statement = sql.delete_by_ids(self.table)

        async def op(conn: Any) -> None:
            with conn.cursor() as cursor:
                await cursor.executemany(statement, rows)

        await self.client.run(op, write=True)

    async def count(self) -> int:
        row = await self.client.fetchone(sql.vector_count(self.table), self.binds())
        return int(row[0]) if row else 0

    async def drop(self) -> None:
        await self.client.execute(sql.vector_drop(self.table), self.binds())
