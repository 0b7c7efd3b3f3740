"""Document status storage in a JSON file (``kv_store_doc_status.json``), journaled.

Every status write is appended to the journal before ``upsert`` returns, so a
crash between status writes never loses a ``pending`` document.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
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
    shared: ClassVar[bool] = False
    _tracks_replacements: ClassVar[bool] = True
    _counts: Counter[str]

    async def status_counts(self) -> dict[str, int]:
        """Documents per status; every ``DocStatus`` value is present (0 allowed).

        Kept up to date by every write (no scan: the status endpoints poll it).
        """
        self._require_open()
        counts = {status.value: 0 for status in DocStatus}
        counts.update((status, n) for status, n in self._counts.items() if n)
        return counts

    async def initialize(self) -> None:
        """Load the file and journal (see ``JsonKVStorage.initialize``) and count statuses."""
        if self._open:
            return
        self._counts = Counter()
        await super().initialize()
        self._counts = Counter(str(record.get("status", "")) for record in self._data.values())

    def _replaced(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        counts = self._counts
        if old is not None:
            counts[str(old.get("status", ""))] -= 1
        if new is not None:
            counts[str(new.get("status", ""))] += 1

    async def by_status(
        self,
        statuses: Sequence[str],
        *,
        limit: int | None = None,
        after_id: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Records whose status is one of ``statuses``, keyed by doc id, in doc-id order.

        At most ``limit`` records (all when ``None``) whose id is greater than
        ``after_id``. One scan of the ids (no copy of the store); only the records
        returned are copied, and with a ``limit`` only ``limit`` ids are kept sorted.
        Raises ``ValueError`` for a negative ``limit``.
        """
        self._require_open()
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0 (or None for all), got {limit}")
        wanted = {str(status) for status in statuses}
        if not wanted or limit == 0:
            return {}
        matching: Iterable[str] = (
            doc_id for doc_id, record in self._data.items() if record.get("status") in wanted
        )
        if after_id is not None:
            matching = (doc_id for doc_id in matching if doc_id > after_id)
        chosen = sorted(matching) if limit is None else heapq.nsmallest(limit, matching)
        data = self._data
        return {doc_id: dict(data[doc_id]) for doc_id in chosen}

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
