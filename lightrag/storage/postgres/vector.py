"""Vector storage in PostgreSQL with pgvector: one table (``vector_table``) for every namespace.

Rows are keyed (workspace, namespace, id) with a ``vector(embedding_dim)`` column
under an HNSW index (cosine ops) and the ``ctx.meta_fields`` of each record as
JSONB. Similarity, the threshold and metadata filters are all applied in SQL.
The vector column keeps the dimension the table was created with: a storage
opened with another ``embedding_dim`` is refused at ``initialize`` with a
``StorageSchemaError`` naming both. Vectors travel as pgvector's text form
(``'[0.1,0.2]'``) cast in SQL, so no client-side codec is needed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

import asyncpg
import numpy as np

from lightrag.storage._vectors import checked_filters, checked_matrix, checked_query, kept_meta
from lightrag.storage.postgres._base import PostgresStorageBase
from lightrag.storage.postgres.client import PostgresClient
from lightrag.vocabulary.errors import StorageSchemaError
from lightrag.vocabulary.storage import StorageContext

__all__ = ["PostgresVectorStorage", "vector_migrations"]


def vector_migrations(table: str, dim: int) -> tuple[str, ...]:
    """The schema steps of one vector table (``table`` is a validated identifier)."""
    return (
        "CREATE EXTENSION IF NOT EXISTS vector",
        f"""CREATE TABLE IF NOT EXISTS {table} (
            workspace text NOT NULL,
            namespace text NOT NULL,
            id text COLLATE "C" NOT NULL,
            embedding vector({int(dim)}) NOT NULL,
            meta jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (workspace, namespace, id)
        );
        CREATE INDEX IF NOT EXISTS {table}_hnsw ON {table}
            USING hnsw (embedding vector_cosine_ops)""",
    )


def _vector_text(row: np.ndarray) -> str:
    return "[" + ",".join(repr(float(x)) for x in row) + "]"


class PostgresVectorStorage(PostgresStorageBase):
    """Id -> (vector, metadata) with cosine search in pgvector."""

    backend_name: ClassVar[str] = "postgres vector storage"

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
        self._iterative_scan = False

    async def _create_schema(self, client: PostgresClient) -> None:
        await client.migrate(f"vector:{self.table}", vector_migrations(self.table, self.dim))
        existing = await client.fetchval(
            "SELECT atttypmod FROM pg_attribute"
            " WHERE attrelid = to_regclass($1) AND attname = 'embedding'",
            self.table,
        )
        if existing is not None and int(existing) != self.dim:
            raise StorageSchemaError(
                f"{self.backend_name}: table {self.table!r} on {self.config.where()} holds "
                f"vectors of dimension {existing}, but the embedding model gives {self.dim}. "
                "Set another vector_table (POSTGRES_VECTOR_TABLE) for this model, or drop "
                f"table {self.table} (it holds every namespace's vectors) to re-embed."
            )
        version = await client.fetchval(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        )
        # pgvector >= 0.8 can keep scanning the HNSW index until enough rows pass the
        # WHERE clause (otherwise a filtered query may return fewer than top_k).
        self._iterative_scan = tuple(int(p) for p in str(version).split(".")[:2]) >= (0, 8)

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        if not records:
            return
        array = checked_matrix(vectors, len(records), self.dim, self.namespace)
        metas = kept_meta(records, self._meta_fields, self.backend_name)
        await self.client.execute(
            f"INSERT INTO {self.table} (workspace, namespace, id, embedding, meta)"
            " SELECT $1, $2, i, e::vector, m"
            " FROM unnest($3::text[], $4::text[], $5::jsonb[]) AS r(i, e, m)"
            " ON CONFLICT (workspace, namespace, id) DO UPDATE SET"
            " embedding = EXCLUDED.embedding, meta = EXCLUDED.meta, updated_at = now()",
            self.workspace,
            self.namespace,
            list(records.keys()),
            [_vector_text(row) for row in array],
            metas,
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
        query = checked_query(vector, top_k, self.dim, self.namespace)[0]
        wanted = checked_filters(filters, self._meta_fields, self.backend_name)
        limit = self.ctx.cosine_threshold if threshold is None else threshold
        args: list[Any] = [self.workspace, self.namespace, _vector_text(query), limit, top_k]
        clauses = []
        for field, values in wanted.items():
            args += [field, sorted(values)]
            clauses.append(f" AND meta->>${len(args) - 1} = ANY(${len(args)}::text[])")
        if top_k == 0:
            return []
        sql = (
            f"SELECT id, meta, 1 - (embedding <=> $3::text::vector) AS score FROM {self.table}"
            " WHERE workspace = $1 AND namespace = $2"
            " AND 1 - (embedding <=> $3::text::vector) >= $4" + "".join(clauses) + ""
            " ORDER BY embedding <=> $3::text::vector LIMIT $5"
        )

        async def search(conn: asyncpg.Connection) -> list[asyncpg.Record]:
            async with conn.transaction():
                if self._iterative_scan:
                    await conn.execute("SET LOCAL hnsw.iterative_scan = strict_order")
                return list(await conn.fetch(sql, *args))

        rows = await self.client.run(search)
        return [{**row["meta"], "id": row["id"], "score": float(row["score"])} for row in rows]

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        if not ids:
            return []
        rows = await self.client.fetch(
            f"SELECT id, meta FROM {self.table}"
            " WHERE workspace = $1 AND namespace = $2 AND id = ANY($3::text[])",
            self.workspace,
            self.namespace,
            list(set(ids)),
        )
        found = {row["id"]: row["meta"] for row in rows}
        return [{**found[key], "id": key} if key in found else None for key in ids]

    async def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        await self.client.execute(
            f"DELETE FROM {self.table}"
            " WHERE workspace = $1 AND namespace = $2 AND id = ANY($3::text[])",
            self.workspace,
            self.namespace,
            list(ids),
        )

    async def count(self) -> int:
        value = await self.client.fetchval(
            f"SELECT count(*) FROM {self.table} WHERE workspace = $1 AND namespace = $2",
            self.workspace,
            self.namespace,
        )
        return int(value)

    async def drop(self) -> None:
        await self.client.execute(
            f"DELETE FROM {self.table} WHERE workspace = $1 AND namespace = $2",
            self.workspace,
            self.namespace,
        )
