"""Document status storage in Oracle: table ``lightrag_doc_status``.

Status, track id, file path and the created/updated times (ISO 8601 text, as the
records carry them) are columns, indexed for the status queries; the whole record
is JSON text. Empty text is NULL in Oracle, so the empty track id is asked with
``IS NULL`` and empty sort values sort as the smallest (see ``sql.doc_status_page``).
File paths longer than 1000 characters are cut in the sort column only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage.docstatus_json import check_page
from lightrag.storage.oracle import sql
from lightrag.storage.oracle._base import write_rows
from lightrag.storage.oracle.codec import checked_id, from_json, json_text, optional_text
from lightrag.storage.oracle.kv import OracleKVStorage
from lightrag.vocabulary.types import DocStatus

__all__ = ["OracleDocStatusStorage", "doc_status_row"]


def doc_status_row(binds: dict[str, Any], doc_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The MERGE binds of one status record (``binds`` holds ``ws``/``ns``)."""
    status = record.get("status")
    if status is None or str(status) == "":
        raise ValueError(f"oracle: document {doc_id!r} has no status")
    return {
        **binds,
        "id": checked_id(doc_id, "doc id"),
        "status": str(getattr(status, "value", status)),
        "track_id": optional_text(record.get("track_id"), sql.ID_CHARS),
        "file_path": optional_text(record.get("file_path"), 1000),
        "created_at": optional_text(record.get("created_at"), 64),
        "updated_at": optional_text(record.get("updated_at"), 64),
        "data": json_text(record, f"document {doc_id!r}"),
    }


class OracleDocStatusStorage(OracleKVStorage):
    """Per-document pipeline state; the KV operations plus status queries in SQL."""

    backend_name: ClassVar[str] = "oracle doc status storage"
    table: ClassVar[str] = "lightrag_doc_status"
    schema_component: ClassVar[str] = "doc_status"
    schema_steps: ClassVar[tuple[str, ...]] = sql.DOC_STATUS_SCHEMA

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        if not data:
            return
        scope = self.binds()
        rows = [doc_status_row(scope, doc_id, record) for doc_id, record in sorted(data.items())]
        statement = sql.doc_status_upsert()

        async def op(conn: Any) -> None:
            await write_rows(conn, statement, rows, "data")

        await self.client.run(op, write=True)

    async def status_counts(self) -> dict[str, int]:
        """Documents per status; every ``DocStatus`` value is present (0 allowed)."""
        rows = await self.client.fetchall(sql.DOC_STATUS_COUNTS, self.binds())
        counts = {status.value: 0 for status in DocStatus}
        counts.update({row[0]: int(row[1]) for row in rows})
        return counts

    async def by_status(
        self,
        statuses: Sequence[str],
        *,
        limit: int | None = None,
        after_id: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0 or None, got {limit}")
        wanted = sorted({str(getattr(s, "value", s)) for s in statuses})
        if not wanted or limit == 0:
            return {}
        if after_id == "":
            after_id = None  # every id is after "" (and Oracle reads '' as NULL)
        binds = self.binds(**sql.in_binds("s", wanted))
        if after_id is not None:
            binds["after"] = after_id
        if limit is not None:
            binds["lim"] = limit
        statement = sql.doc_status_by_status(
            len(wanted), after_id=after_id is not None, limit=limit is not None
        )
        rows = await self.client.fetchall(statement, binds)
        return {row[0]: from_json(row[1]) for row in rows}

    async def by_track_id(self, track_id: str) -> dict[str, dict[str, Any]]:
        empty = not track_id
        binds = self.binds() if empty else self.binds(track=track_id)
        rows = await self.client.fetchall(sql.doc_status_by_track(empty=empty), binds)
        return {row[0]: from_json(row[1]) for row in rows}

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
        wanted = None if statuses is None else sorted({str(s) for s in statuses})
        count = None if wanted is None else len(wanted)
        binds = self.binds(**(sql.in_binds("s", wanted) if wanted else {}))
        total_row = await self.client.fetchone(sql.doc_status_count(count), binds)
        total = int(total_row[0]) if total_row else 0
        if total == 0:
            return [], 0
        rows = await self.client.fetchall(
            sql.doc_status_page(count, sort_field, sort_desc),
            {**binds, "off": (page - 1) * page_size, "lim": page_size},
        )
        return [(row[0], from_json(row[1])) for row in rows], total
