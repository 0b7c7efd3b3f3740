"""Document status storage in PostgreSQL: table ``lightrag_doc_status``.

Status, track id, file path and the created/updated times (ISO 8601 text, as the
records carry them) are columns, indexed for the status queries; the whole record
is JSONB. Counting, keyset paging and sorted pages all run in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage.docstatus_json import SORT_FIELDS, check_page
from lightrag.storage.postgres.client import PostgresClient
from lightrag.storage.postgres.kv import PostgresKVStorage
from lightrag.vocabulary.types import DocStatus

__all__ = ["DOC_STATUS_MIGRATIONS", "PostgresDocStatusStorage"]

DOC_STATUS_MIGRATIONS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS lightrag_doc_status (
        workspace text NOT NULL,
        namespace text NOT NULL,
        id text COLLATE "C" NOT NULL,
        status text NOT NULL,
        track_id text NOT NULL DEFAULT '',
        file_path text COLLATE "C" NOT NULL DEFAULT '',
        created_at text COLLATE "C" NOT NULL DEFAULT '',
        updated_at text COLLATE "C" NOT NULL DEFAULT '',
        data jsonb NOT NULL,
        PRIMARY KEY (workspace, namespace, id)
    );
    CREATE INDEX IF NOT EXISTS lightrag_doc_status_status
        ON lightrag_doc_status (workspace, namespace, status, id);
    CREATE INDEX IF NOT EXISTS lightrag_doc_status_track
        ON lightrag_doc_status (workspace, namespace, track_id);
    CREATE INDEX IF NOT EXISTS lightrag_doc_status_updated
        ON lightrag_doc_status (workspace, namespace, updated_at, id)""",
)

# sort field -> column (a fixed whitelist: the only names ever put into ORDER BY)
_SORT_COLUMNS = {field: field for field in SORT_FIELDS}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class PostgresDocStatusStorage(PostgresKVStorage):
    """Per-document pipeline state; the KV operations plus status queries in SQL."""

    backend_name: ClassVar[str] = "postgres doc status storage"
    table: ClassVar[str] = "lightrag_doc_status"

    async def _create_schema(self, client: PostgresClient) -> None:
        await client.migrate("doc_status", DOC_STATUS_MIGRATIONS)

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        if not data:
            return
        records = list(data.values())
        await self.client.execute(
            "INSERT INTO lightrag_doc_status"
            " (workspace, namespace, id, status, track_id, file_path, created_at, updated_at,"
            " data)"
            " SELECT $1, $2, i, s, t, f, c, u, d FROM unnest("
            " $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],"
            " $9::jsonb[]) AS r(i, s, t, f, c, u, d)"
            " ON CONFLICT (workspace, namespace, id) DO UPDATE SET"
            " status = EXCLUDED.status, track_id = EXCLUDED.track_id,"
            " file_path = EXCLUDED.file_path, created_at = EXCLUDED.created_at,"
            " updated_at = EXCLUDED.updated_at, data = EXCLUDED.data",
            self.workspace,
            self.namespace,
            list(data.keys()),
            [_text(r.get("status")) for r in records],
            [_text(r.get("track_id")) for r in records],
            [_text(r.get("file_path")) for r in records],
            [_text(r.get("created_at")) for r in records],
            [_text(r.get("updated_at")) for r in records],
            records,
        )

    async def status_counts(self) -> dict[str, int]:
        """Documents per status; every ``DocStatus`` value is present (0 allowed)."""
        rows = await self.client.fetch(
            "SELECT status, count(*) AS n FROM lightrag_doc_status"
            " WHERE workspace = $1 AND namespace = $2 GROUP BY status",
            self.workspace,
            self.namespace,
        )
        counts = {status.value: 0 for status in DocStatus}
        counts.update({row["status"]: int(row["n"]) for row in rows})
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
        rows = await self.client.fetch(
            "SELECT id, data FROM lightrag_doc_status"
            " WHERE workspace = $1 AND namespace = $2 AND status = ANY($3::text[])"
            " AND ($4::text IS NULL OR id > $4::text)"
            " ORDER BY id LIMIT $5",
            self.workspace,
            self.namespace,
            [str(status) for status in statuses],
            after_id,
            limit,
        )
        return {row["id"]: dict(row["data"]) for row in rows}

    async def by_track_id(self, track_id: str) -> dict[str, dict[str, Any]]:
        rows = await self.client.fetch(
            "SELECT id, data FROM lightrag_doc_status"
            " WHERE workspace = $1 AND namespace = $2 AND track_id = $3 ORDER BY id",
            self.workspace,
            self.namespace,
            track_id,
        )
        return {row["id"]: dict(row["data"]) for row in rows}

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
        column = _SORT_COLUMNS[sort_field]
        direction = "DESC" if sort_desc else "ASC"
        wanted = None if statuses is None else [str(status) for status in statuses]
        where = (
            "WHERE workspace = $1 AND namespace = $2"
            " AND ($3::text[] IS NULL OR status = ANY($3::text[]))"
        )
        total = await self.client.fetchval(
            f"SELECT count(*) FROM lightrag_doc_status {where}",
            self.workspace,
            self.namespace,
            wanted,
        )
        rows = await self.client.fetch(
            f"SELECT id, data FROM lightrag_doc_status {where}"
            f" ORDER BY {column} {direction}, id {direction} LIMIT $4 OFFSET $5",
            self.workspace,
            self.namespace,
            wanted,
            page_size,
            (page - 1) * page_size,
        )
        return [(row["id"], dict(row["data"])) for row in rows], int(total)
