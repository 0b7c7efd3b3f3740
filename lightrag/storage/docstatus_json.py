"""Document status storage in a JSON file (``kv_store_doc_status.json``), journaled.

Every status write is appended to the journal before ``upsert`` returns, so a
crash between status writes never loses a ``pending`` document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from lightrag.storage.kv_json import JsonKVConfig, JsonKVStorage
from lightrag.vocabulary.types import DocStatus

__all__ = ["SORT_FIELDS", "JsonDocStatusConfig", "JsonDocStatusStorage"]

SORT_FIELDS = ("updated_at", "created_at", "id", "file_path")


class JsonDocStatusConfig(JsonKVConfig):
    """Parameters of the JSON doc status storage (same as the JSON KV storage)."""


def check_page(page: int, page_size: int, sort_field: str) -> None:
    """Raise ``ValueError`` for a page request no backend can answer."""
    if sort_field not in SORT_FIELDS:
        raise ValueError(
            f"invalid sort field {sort_field!r}; choose one of: {', '.join(SORT_FIELDS)}"
        )
    if page < 1:
        raise ValueError(f"page must be >= 1, got {page}")
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, got {page_size}")


class JsonDocStatusStorage(JsonKVStorage):
    """Per-document pipeline state; the KV storage plus status queries (all in memory)."""

    backend_name: ClassVar[str] = "json doc status storage"
    config_model: ClassVar[type[JsonKVConfig]] = JsonDocStatusConfig

    async def status_counts(self) -> dict[str, int]:
        """Documents per status; every ``DocStatus`` value is present (0 allowed)."""
        self._require_open()
        counts = {status.value: 0 for status in DocStatus}
        for record in self._data.values():
            status = str(record.get("status", ""))
            counts[status] = counts.get(status, 0) + 1
        return counts

    async def by_status(self, statuses: Sequence[str]) -> dict[str, dict[str, Any]]:
        self._require_open()
        wanted = {str(status) for status in statuses}
        return {
            doc_id: dict(record)
            for doc_id, record in self._data.items()
            if record.get("status") in wanted
        }

    async def by_track_id(self, track_id: str) -> dict[str, dict[str, Any]]:
        self._require_open()
        return {
            doc_id: dict(record)
            for doc_id, record in self._data.items()
            if record.get("track_id") == track_id
        }

    async def paginated(
        self,
        *,
        statuses: Sequence[str] | None,
        page: int,
        page_size: int,
        sort_field: str = "updated_at",
        sort_desc: bool = True,
    ) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        """One page (1-based) of ``(doc_id, record)`` and the total matching ``statuses``.

        Ties on ``sort_field`` are broken by doc id in the same direction, so pages
        are stable. Raises ``ValueError`` for an unknown sort field or a page < 1.
        """
        self._require_open()
        check_page(page, page_size, sort_field)
        wanted = None if statuses is None else {str(status) for status in statuses}
        matching = [
            (doc_id, record)
            for doc_id, record in self._data.items()
            if wanted is None or record.get("status") in wanted
        ]
        if sort_field == "id":
            matching.sort(key=lambda item: item[0], reverse=sort_desc)
        else:
            matching.sort(
                key=lambda item: (str(item[1].get(sort_field) or ""), item[0]), reverse=sort_desc
            )
        start = (page - 1) * page_size
        page_items = [
            (doc_id, dict(record)) for doc_id, record in matching[start : start + page_size]
        ]
        return page_items, len(matching)
