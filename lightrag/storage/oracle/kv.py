"""Key-value storage in Oracle: one table ``lightrag_kv`` keyed (workspace, namespace, id).

Values are JSON text in a ``CLOB`` (``CHECK (data IS JSON)``); a batch is one
``MERGE`` run with ``executemany`` in one transaction (rows in id order, so
concurrent batches lock keys in the same order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage.oracle import sql
from lightrag.storage.oracle._base import OracleStorageBase, write_rows
from lightrag.storage.oracle.codec import checked_id, from_json, json_text

__all__ = ["OracleKVStorage"]


class OracleKVStorage(OracleStorageBase):
    """Key -> JSON object store; every write is committed when it returns."""

    backend_name: ClassVar[str] = "oracle kv storage"
    table: ClassVar[str] = "lightrag_kv"  # a constant, never user input
    schema_component: ClassVar[str] = "kv"
    schema_steps: ClassVar[tuple[str, ...]] = sql.KV_SCHEMA

    @property
    def _sql(self) -> dict[str, str]:
        return sql.table_statements(self.table)

    async def get(self, key: str) -> dict[str, Any] | None:
        row = await self.client.fetchone(self._sql["get"], self.binds(id=key))
        return None if row is None else from_json(row[0])

    async def _found(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        rows = await self.fetch_by_ids(lambda n: sql.select_by_ids(self.table, "id, data", n), keys)
        return {row[0]: from_json(row[1]) for row in rows}

    async def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        if not keys:
            return []
        found = await self._found(keys)
        # a fresh dict per position: asking one key twice gives two independent records
        return [dict(found[key]) if key in found else None for key in keys]

    async def missing_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        rows = await self.fetch_by_ids(lambda n: sql.select_by_ids(self.table, "id", n), keys)
        return set(keys) - {row[0] for row in rows}

    def _rows(self, data: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            self.binds(id=checked_id(key, "key"), data=json_text(value, f"record {key!r}"))
            for key, value in sorted(data.items())
        ]

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        if not data:
            return
        rows = self._rows(data)
        statement = sql.kv_upsert(self.table)

        async def op(conn: Any) -> None:
            await write_rows(conn, statement, rows, "data")

        await self.client.run(op, write=True)

    async def delete(self, keys: Sequence[str]) -> None:
        ids = sorted({key for key in keys if isinstance(key, str) and key})
        if not ids:
            return
        rows = [self.binds(id=key) for key in ids]

        async def op(conn: Any) -> None:
            with conn.cursor() as cursor:
                await cursor.executemany(self._sql["delete"], rows)

        await self.client.run(op, write=True)

    async def keys(self) -> list[str]:
        rows = await self.client.fetchall(self._sql["keys"], self.binds())
        return [row[0] for row in rows]

    async def delete_prefix(self, prefix: str) -> int:
        return await self.client.execute(
            self._sql["delete_prefix"], self.binds(pattern=sql.like_prefix(prefix))
        )

    async def is_empty(self) -> bool:
        return await self.client.fetchone(self._sql["any"], self.binds()) is None

    async def drop(self) -> None:
        await self.client.execute(self._sql["drop"], self.binds())
