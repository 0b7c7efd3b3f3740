"""Document status storage in MongoDB: one collection per namespace (and workspace).

Each document is the KV document ``{"_id": doc id, "v": record}`` plus the indexed
fields ``status``, ``track_id``, ``file_path``, ``created_at`` and ``updated_at``
(text, as the records carry them; ``""`` when absent). Counts are one ``$group``,
``by_status`` is a keyset page on the ``(status, _id)`` index, sorted pages use
``(field, _id)`` indexes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage.docstatus_json import check_page
from lightrag.storage.mongo.client import MongoClient
from lightrag.storage.mongo.kv import MongoKVStorage
from lightrag.vocabulary.types import DocStatus

__all__ = ["MongoDocStatusStorage"]

_INDEXED = ("status", "track_id", "file_path", "created_at", "updated_at")
# sort field -> document field (a fixed whitelist: the only names ever sorted on)
_SORT_KEYS = {
    "updated_at": "updated_at",
    "created_at": "created_at",
    "id": "_id",
    "file_path": "file_path",
}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class MongoDocStatusStorage(MongoKVStorage):
    """Per-document pipeline state; the KV operations plus indexed status queries."""

    backend_name: ClassVar[str] = "mongo doc status storage"

    async def _create_indexes(self, client: MongoClient) -> None:
        from pymongo import ASCENDING, IndexModel

        def index(*fields: str) -> Any:
            return IndexModel(
                [(field, ASCENDING) for field in fields], name="lightrag_" + "_".join(fields)
            )

        await client.ensure_indexes(
            self.collection_name,
            [
                index("status", "_id"),
                index("track_id", "_id"),
                index("updated_at", "_id"),
                index("created_at", "_id"),
                index("file_path", "_id"),
                index("status", "updated_at", "_id"),
            ],
        )

    def _document(self, key: str, record: Mapping[str, Any]) -> dict[str, Any]:
        document = {"_id": key, "v": dict(record)}
        document.update({field: _text(record.get(field)) for field in _INDEXED})
        return document

    async def status_counts(self) -> dict[str, int]:
        """Documents per status; every ``DocStatus`` value is present (0 allowed)."""

        async def op() -> list[dict[str, Any]]:
            pipeline = [{"$group": {"_id": "$status", "n": {"$sum": 1}}}]
            return await (await self.collection.aggregate(pipeline)).to_list()

        counts = {status.value: 0 for status in DocStatus}
        counts.update({row["_id"]: int(row["n"]) for row in await self._run("status_counts", op)})
        return counts

    async def by_status(
        self,
        statuses: Sequence[str],
        *,
        limit: int | None = None,
        after_id: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Records of ``statuses`` in doc-id order, keyset-paged; ``ValueError`` for limit < 0."""
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0 or None, got {limit}")
        wanted = [str(status) for status in statuses]
        if not wanted or limit == 0:
            return {}
        query: dict[str, Any] = {"status": {"$in": wanted}}
        if after_id is not None:
            query["_id"] = {"$gt": after_id}

        async def op() -> dict[str, dict[str, Any]]:
            cursor = self.collection.find(query, {"v": 1}).sort("_id", 1)
            if limit is not None:
                cursor = cursor.limit(limit)
            return {doc["_id"]: dict(doc["v"]) async for doc in cursor}

        return await self._run("by_status", op)

    async def by_track_id(self, track_id: str) -> dict[str, dict[str, Any]]:
        async def op() -> dict[str, dict[str, Any]]:
            cursor = self.collection.find({"track_id": track_id}, {"v": 1}).sort("_id", 1)
            return {doc["_id"]: dict(doc["v"]) async for doc in cursor}

        return await self._run("by_track_id", op)

    async def paginated(
        self,
        *,
        statuses: Sequence[str] | None,
        page: int,
        page_size: int,
        sort_field: str = "updated_at",
        sort_desc: bool = True,
    ) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        """One page; ties on ``sort_field`` are broken by doc id in the same direction.
        Raises ``ValueError`` for an unknown sort field or a page < 1."""
        check_page(page, page_size, sort_field)
        query: dict[str, Any] = {}
        if statuses is not None:
            query["status"] = {"$in": [str(status) for status in statuses]}
        direction = -1 if sort_desc else 1
        order = [(_SORT_KEYS[sort_field], direction), ("_id", direction)]
        if sort_field == "id":
            order = order[:1]

        async def op() -> tuple[list[tuple[str, dict[str, Any]]], int]:
            total = await self.collection.count_documents(query)
            cursor = (
                self.collection.find(query, {"v": 1})
                .sort(order)
                .skip((page - 1) * page_size)
                .limit(page_size)
            )
            return [(doc["_id"], dict(doc["v"])) async for doc in cursor], int(total)

        return await self._run("paginated", op)
