"""Key-value storage in TiDB (or MySQL/MariaDB): one table ``lightrag_kv`` keyed
(workspace, namespace, id), the record as JSON text.

Batch writes are multi-row ``INSERT ... ON DUPLICATE KEY UPDATE`` statements (rows in
key order, so concurrent batches lock rows in the same order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage.tidb import sql
from lightrag.storage.tidb._base import TiDBStorageBase, check_id, chunks, decode, dumps, text
from lightrag.storage.tidb.client import TiDBClient

__all__ = ["TiDBKVStorage"]


class TiDBKVStorage(TiDBStorageBase):
    """Key -> JSON object store; every write is committed when it returns."""

    backend_name: ClassVar[str] = "tidb kv storage"
    table: ClassVar[str] = "lightrag_kv"  # a constant, never user input

    async def _create_schema(self, client: TiDBClient) -> None:
        await client.migrate("kv", sql.KV_SCHEMA)

    def _sql(self, statement: str, count: int = 0) -> str:
        return statement.format(table=self.table, ids=sql.in_list(count) if count else "")

    async def _rows_by_id(self, statement: str, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for part in chunks(list(dict.fromkeys(keys))):
            rows += await self.client.fetch(self._sql(statement, len(part)), [*self._scope, *part])
        return rows

    async def get(self, key: str) -> dict[str, Any] | None:
        return (await self.get_many([key]))[0]

    async def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        if not keys:
            return []
        found = {text(key): data for key, data in await self._rows_by_id(sql.KV_GET, keys)}
        return [decode(found[key]) if key in found else None for key in keys]

    async def missing_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        rows = await self._rows_by_id(sql.KV_IDS_IN, keys)
        return set(keys) - {text(row[0]) for row in rows}

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        if not data:
            return
        rows = sorted(
            (check_id(key), dumps(value, f"{self.backend_name} record {key!r}"))
            for key, value in data.items()
        )
        await self.client.executemany(sql.KV_UPSERT, [(*self._scope, k, v) for k, v in rows])

    async def delete(self, keys: Sequence[str]) -> None:
        for part in chunks(sorted(set(keys))):
            await self.client.execute(self._sql(sql.KV_DELETE, len(part)), [*self._scope, *part])

    async def keys(self) -> list[str]:
        rows = await self.client.fetch(self._sql(sql.KV_KEYS), self._scope)
        return [text(row[0]) for row in rows]

    async def delete_prefix(self, prefix: str) -> int:
        return await self.client.execute(
            self._sql(sql.KV_DELETE_PREFIX), [*self._scope, sql.like_prefix(prefix)]
        )

    async def is_empty(self) -> bool:
        return not await self.client.fetch(self._sql(sql.KV_ANY), self._scope)

    async def drop(self) -> None:
        await self.client.execute(self._sql(sql.KV_DROP), self._scope)
