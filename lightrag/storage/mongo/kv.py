"""Key-value storage in MongoDB: one collection per namespace (and workspace).

Each record is one document ``{"_id": key, "v": record}``: the record sits under
``v`` so that any field name it holds (``_id``, ``$x``, ``a.b``) stays data. Batch
writes are one unordered ``bulkWrite`` of replacements by ``_id``; ``delete_prefix``
is one range delete on the ``_id`` index (strings compare by code point, as in Python).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage.mongo._base import MongoStorageBase
from lightrag.storage.mongo._writes import bulk_write, delete_each, prefix_filter

__all__ = ["MongoKVStorage"]


class MongoKVStorage(MongoStorageBase):
    """Key -> JSON object store; every write is on the server when it returns."""

    backend_name: ClassVar[str] = "mongo kv storage"

    def _document(self, key: str, record: Mapping[str, Any]) -> dict[str, Any]:
        return {"_id": key, "v": dict(record)}

    async def get(self, key: str) -> dict[str, Any] | None:
        found = await self._run("get", lambda: self.collection.find_one({"_id": key}, {"v": 1}))
        return None if found is None else dict(found["v"])

    async def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        if not keys:
            return []
        found = await self._find_values(list(dict.fromkeys(keys)))
        return [dict(found[key]) if key in found else None for key in keys]

    async def _find_values(self, keys: list[str]) -> dict[str, Any]:
        async def op() -> dict[str, Any]:
            cursor = self.collection.find({"_id": {"$in": keys}}, {"v": 1})
            return {doc["_id"]: doc["v"] async for doc in cursor}

        return await self._run("get_many", op)

    async def missing_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        wanted = list(set(keys))

        async def op() -> set[str]:
            cursor = self.collection.find({"_id": {"$in": wanted}}, {"_id": 1})
            return {doc["_id"] async for doc in cursor}

        return set(wanted) - await self._run("missing_keys", op)

    async def keys(self) -> list[str]:
        async def op() -> list[str]:
            cursor = self.collection.find({}, {"_id": 1}).sort("_id", 1)
            return [doc["_id"] async for doc in cursor]

        return await self._run("keys", op)

    async def is_empty(self) -> bool:
        found = await self._run("is_empty", lambda: self.collection.find_one({}, {"_id": 1}))
        return found is None

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        if not data:
            return
        from pymongo import ReplaceOne

        requests = [
            ReplaceOne({"_id": key}, self._document(key, record), upsert=True)
            for key, record in data.items()
        ]
        await bulk_write(self, "upsert", requests)

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        await delete_each(self, "delete", "_id", list(set(keys)), many=False)

    async def delete_prefix(self, prefix: str) -> int:
        query = prefix_filter("_id", prefix)
        result = await self._run("delete_prefix", lambda: self.collection.delete_many(query))
        return int(result.deleted_count)

    async def drop(self) -> None:
        # delete, not drop the collection: its indexes stay for the next writes
        await self._run("drop", lambda: self.collection.delete_many({}))
