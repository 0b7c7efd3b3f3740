"""Document status storage in TiDB (or MySQL/MariaDB): table ``lightrag_doc_status``.

Status, track id, file path and the created/updated times (ISO 8601 text, as the
records carry them) are columns, indexed for the status queries; the whole record
is JSON text. Counting, keyset paging and sorted pages all run in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage.docstatus_json import check_page
from lightrag.storage.tidb import sql
from lightrag.storage.tidb._base import check_id, decode, dumps, text
from lightrag.storage.tidb.client import TiDBClient
from lightrag.storage.tidb.kv import TiDBKVStorage
from lightrag.vocabulary.types import DocStatus

__all__ = ["TiDBDocStatusStorage"]


def _column(value: Any) -> str:
    return "" if value is None else str(value)


class TiDBDocStatusStorage(TiDBKVStorage):
    """Per-document pipeline state; the KV operations plus status queries in SQL."""

    backend_name: ClassVar[str] = "tidb doc status storage"
    table: ClassVar[str] = "lightrag_doc_status"

    async def _create_schema(self, client: TiDBClient) -> None:
        await client.migrate("doc_status", sql.DOC_STATUS_SCHEMA)

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        if not data:
            return
        rows = [
            (
                *self._scope,
                check_id(doc_id, "document id"),
                _column(record.get("status")),
                _column(record.get("track_id")),
                _column(record.get("file_path")),
                _column(record.get("created_at")),
                _column(record.get("updated_at")),
                dumps(record, f"{self.backend_name} record {doc_id!r}"),
            )
            for doc_id, record in sorted(data.items())
        ]
        await self.client.executemany(sql.DOC_UPSERT, rows)

    async def status_counts(self) -> dict[str, int]:
        """Documents per status; every ``DocStatus`` value is present (0 allowed)."""
        rows = await self.client.fetch(sql.DOC_COUNTS, self._scope)
        counts = {status.value: 0 for status in DocStatus}
        counts.update({text(status): int(n) for status, n in rows})
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
        wanted = sorted({str(status) for status in statuses})
        if not wanted or limit == 0:
            return {}
        args: list[Any] = [*self._scope, *wanted]
        after = ""
        if after_id is not None:
            after = " AND id > %s"
            args.append(after_id)
        limit_sql = ""
        if limit is not None:
            limit_sql = " LIMIT %s"
            args.append(limit)
        statement = sql.DOC_BY_STATUS.format(
            statuses=sql.in_list(len(wanted)), after=after, limit=limit_sql
        )
        rows = await self.client.fetch(statement, args)
        return {text(doc_id): decode(data) for doc_id, data in rows}

    async def by_track_id(self, track_id: str) -> dict[str, dict[str, Any]]:
        rows = await self.client.fetch(sql.DOC_BY_TRACK, [*self._scope, track_id])
        return {text(doc_id): decode(data) for doc_id, data in rows}

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
        column = sql.DOC_SORT_COLUMNS[sort_field]
        direction = "DESC" if sort_desc else "ASC"
        args: list[Any] = [*self._scope]
        where = ""
        if statuses is not None:
            wanted = sorted({str(status) for status in statuses})
            if not wanted:
                return [], 0
            where = " AND status IN " + sql.in_list(len(wanted))
            args += wanted
        total = await self.client.fetchval(sql.DOC_PAGE_COUNT.format(statuses=where), args)
        rows = await self.client.fetch(
            sql.DOC_PAGE.format(statuses=where, column=column, direction=direction),
            [*args, page_size, (page - 1) * page_size],
        )
        return [(text(doc_id), decode(data)) for doc_id, data in rows], int(total)
