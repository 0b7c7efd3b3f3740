"""Key-value storage in PostgreSQL: one table ``lightrag_kv`` keyed (workspace, namespace, id).

Values are JSONB; batch writes are one ``INSERT ... SELECT FROM unnest(...)`` upsert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage.postgres._base import PostgresStorageBase, like_prefix
from lightrag.storage.postgres.client import PostgresClient

__all__ = ["KV_MIGRATIONS", "PostgresKVStorage"]

KV_MIGRATIONS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS lightrag_kv (
        workspace text NOT NULL,
        namespace text NOT NULL,
        id text COLLATE "C" NOT NULL,
        data jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace, namespace, id)
    )""",
)


class PostgresKVStorage(PostgresStorageBase):
    """Key -> JSON object store; every write is committed when it returns."""

    backend_name: ClassVar[str] = "postgres kv storage"
    table: ClassVar[str] = "lightrag_kv"  # a constant, never user input

    async def _create_schema(self, client: PostgresClient) -> None:
        await client.migrate("kv", KV_MIGRATIONS)

    async def get(self, key: str) -> dict[str, Any] | None:
        data = await self.client.fetchval(
            f"SELECT data FROM {self.table} WHERE workspace = $1 AND namespace = $2 AND id = $3",
            self.workspace,
            self.namespace,
            key,
        )
        return None if data is None else dict(data)

    async def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        if not keys:
            return []
        rows = await self.client.fetch(
            f"SELECT id, data FROM {self.table}"
            " WHERE workspace = $1 AND namespace = $2 AND id = ANY($3::text[])",
            self.workspace,
            self.namespace,
            list(dict.fromkeys(keys)),
        )
        found = {row["id"]: row["data"] for row in rows}
        return [dict(found[key]) if key in found else None for key in keys]

    async def missing_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        rows = await self.client.fetch(
            f"SELECT id FROM {self.table}"
            " WHERE workspace = $1 AND namespace = $2 AND id = ANY($3::text[])",
            self.workspace,
            self.namespace,
            list(set(keys)),
        )
        return set(keys) - {row["id"] for row in rows}

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        if not data:
            return
        await self.client.execute(
            f"INSERT INTO {self.table} (workspace, namespace, id, data)"
            " SELECT $1, $2, k, v FROM unnest($3::text[], $4::jsonb[]) AS t(k, v)"
            " ON CONFLICT (workspace, namespace, id)"
            " DO UPDATE SET data = EXCLUDED.data, updated_at = now()",
            self.workspace,
            self.namespace,
            list(data.keys()),
            list(data.values()),
        )

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        await self.client.execute(
            f"DELETE FROM {self.table}"
            " WHERE workspace = $1 AND namespace = $2 AND id = ANY($3::text[])",
            self.workspace,
            self.namespace,
            list(keys),
        )

    async def keys(self) -> list[str]:
        rows = await self.client.fetch(
            f"SELECT id FROM {self.table} WHERE workspace = $1 AND namespace = $2 ORDER BY id",
            self.workspace,
            self.namespace,
        )
        return [row["id"] for row in rows]

    async def delete_prefix(self, prefix: str) -> int:
        status = await self.client.execute(
            f"DELETE FROM {self.table}"
            " WHERE workspace = $1 AND namespace = $2 AND id LIKE $3 ESCAPE '\\'",
            self.workspace,
            self.namespace,
            like_prefix(prefix),
        )
        return int(status.split()[-1])

    async def is_empty(self) -> bool:
        found = await self.client.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM {self.table} WHERE workspace = $1 AND namespace = $2)",
            self.workspace,
            self.namespace,
        )
        return not found

    async def drop(self) -> None:
        await self.client.execute(
            f"DELETE FROM {self.table} WHERE workspace = $1 AND namespace = $2",
            self.workspace,
            self.namespace,
        )
