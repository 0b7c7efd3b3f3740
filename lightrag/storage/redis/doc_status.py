"""Document status storage in Redis, with secondary indexes so counts and pages never scan.

Layout, with ``B = lightrag:{<workspace>:<namespace>}``: the KV keys ``B:data`` and
``B:keys`` (see ``lightrag.storage.redis.kv``) plus

- ``B:status:<status>``: sorted set of doc ids at score 0 (ordered by id);
- ``B:track:<track_id>``: set of doc ids;
- ``B:by:<field>`` and ``B:by:<field>:<status>`` for ``created_at``, ``updated_at``,
  ``file_path``: sorted sets of ``"<value>\\0<doc id>"`` at score 0, so a
  lexicographic range is the order "by value, then id";
- ``B:idx``: hash, doc id -> what the record is indexed under;
- ``B:statuses``: set of statuses in use; ``B:registry``: every index key made.

Every write runs as one Lua script per batch chunk (see ``_scripts``), so a status
change moves the doc between indexes atomically, whatever other writers do.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage.docstatus_json import check_page
from lightrag.storage.redis import _scripts
from lightrag.storage.redis.kv import PREFIX_CHUNK, RedisKVStorage, decode, encode, prefix_range
from lightrag.vocabulary.storage import StorageContext
from lightrag.vocabulary.types import DocStatus

__all__ = ["RedisDocStatusStorage"]

WRITE_CHUNK = 500
"""Records per script call (each call is atomic; a batch's calls share one round trip)."""

_INDEXED_FIELDS = ("created_at", "updated_at", "file_path")


def index_entry(record: Mapping[str, Any]) -> str:
    """What a record is indexed under: ``[status, track_id or false, created, updated, path]``."""
    track = record.get("track_id")
    values = [_text(record.get(field)) for field in _INDEXED_FIELDS]
    entry = [_text(record.get("status")), track if isinstance(track, str) else False, *values]
    return json.dumps(entry, ensure_ascii=False)


def _text(value: Any) -> str:
    # the order of the JSON backend (``str(value or "")``); NUL separates value from id
    return str(value or "").replace("\0", "")


class RedisDocStatusStorage(RedisKVStorage):
    """Per-document pipeline state in Redis; the KV storage plus indexed status queries."""

    backend_name: ClassVar[str] = "redis doc status storage"

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        super().__init__(ctx, params)
        self.idx_key = f"{self.base}:idx"
        self.registry_key = f"{self.base}:registry"
        self.statuses_key = f"{self.base}:statuses"

    def status_key(self, status: str) -> str:
        return f"{self.base}:status:{status}"

    def track_key(self, track_id: str) -> str:
        return f"{self.base}:track:{track_id}"

    def sort_key(self, field: str, status: str | None = None) -> str:
        return f"{self.base}:by:{field}" if status is None else f"{self.base}:by:{field}:{status}"

    # writes ------------------------------------------------------------------

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        if not data:
            return
        items = list(data.items())
        script = self._script(_scripts.UPSERT)
        calls: list[list[str]] = []
        for start in range(0, len(items), WRITE_CHUNK):
            args: list[str] = [self.base]
            for doc_id, record in items[start : start + WRITE_CHUNK]:
                args += [doc_id, encode(record), index_entry(record)]
            calls.append(args)
        async with self._guard("upsert"):
            await self._run(script, calls)

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        ids = list(dict.fromkeys(keys))
        script = self._script(_scripts.DELETE)
        calls = [
            [self.base, *ids[start : start + WRITE_CHUNK]]
            for start in range(0, len(ids), WRITE_CHUNK)
        ]
        async with self._guard("delete"):
            await self._run(script, calls)

    async def delete_prefix(self, prefix: str) -> int:
        """Remove ids starting with ``prefix`` in atomic chunks of ``PREFIX_CHUNK``."""
        low, high = prefix_range(prefix)
        script = self._script(_scripts.DELETE_RANGE)
        removed = 0
        async with self._guard("delete_prefix"):
            while True:
                args = [self.base.encode(), low, high, str(PREFIX_CHUNK).encode()]
                count = int(await script(keys=self._script_keys, args=args))
                removed += count
                if count < PREFIX_CHUNK:
                    return removed

    async def drop(self) -> None:
        async with self._guard("drop"):
            await self._script(_scripts.DROP)(keys=self._script_keys, args=[self.base])

    # status queries ----------------------------------------------------------

    async def status_counts(self) -> dict[str, int]:
        """Documents per status from the index cardinalities (every ``DocStatus`` present)."""
        known = [status.value for status in DocStatus]
        async with self._guard("status_counts"):
            in_use = await self._redis.smembers(self.statuses_key)
            statuses = known + sorted(set(in_use) - set(known))
            async with self._redis.pipeline(transaction=False) as pipe:
                for status in statuses:
                    pipe.zcard(self.status_key(status))
                cards = await pipe.execute()
        counts = dict(zip(statuses, (int(card) for card in cards), strict=True))
        return {status: n for status, n in counts.items() if n or status in known}

    async def by_status(
        self,
        statuses: Sequence[str],
        *,
        limit: int | None = None,
        after_id: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Records of the ``statuses`` in doc-id order, keyset-paged by id.

        Reads up to ``limit`` ids from each status's index (``ZRANGEBYLEX``) and
        merges them, so a page of k statuses reads at most k pages of ids.
        """
        wanted = list(dict.fromkeys(str(status) for status in statuses))
        if not wanted or (limit is not None and limit <= 0):
            return {}
        low = "(" + after_id if after_id is not None else "-"
        async with self._guard("by_status"):
            async with self._redis.pipeline(transaction=False) as pipe:
                for status in wanted:
                    if limit is None:
                        pipe.zrangebylex(self.status_key(status), low, "+")
                    else:
                        pipe.zrangebylex(self.status_key(status), low, "+", 0, limit)
                lists = await pipe.execute()
            ids = list(heapq.merge(*lists))[:limit]
            records = await self._records(ids)
        return {doc_id: record for doc_id, record in records if record.get("status") in set(wanted)}

    async def by_track_id(self, track_id: str) -> dict[str, dict[str, Any]]:
        async with self._guard("by_track_id"):
            ids = sorted(await self._redis.smembers(self.track_key(track_id)))
            records = await self._records(ids)
        return {doc_id: record for doc_id, record in records if record.get("track_id") == track_id}

    async def paginated(
        self,
        *,
        statuses: Sequence[str] | None,
        page: int,
        page_size: int,
        sort_field: str = "updated_at",
        sort_desc: bool = True,
    ) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        """One page (1-based) and the total, read from a sorted index, ties broken by id.

        With no status filter or one status, the page is one lexicographic range of
        one index (``ZRANGEBYLEX ... LIMIT offset size``). With several statuses, the
        first ``page * page_size`` entries of each status's index are read and merged,
        so deep pages over many statuses read more than one page.
        """
        check_page(page, page_size, sort_field)
        if statuses is None:
            indexes = [self.keys_key if sort_field == "id" else self.sort_key(sort_field)]
            count_keys = [self.keys_key]
        else:
            wanted = list(dict.fromkeys(str(status) for status in statuses))
            if sort_field == "id":
                indexes = [self.status_key(status) for status in wanted]
            else:
                indexes = [self.sort_key(sort_field, status) for status in wanted]
            count_keys = [self.status_key(status) for status in wanted]
        start = (page - 1) * page_size
        async with self._guard("paginated"):
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in count_keys:
                    pipe.zcard(key)
                for key in indexes:
                    offset, count = (
                        (start, page_size) if len(indexes) == 1 else (0, start + page_size)
                    )
                    if sort_desc:
                        pipe.zrevrangebylex(key, "+", "-", offset, count)
                    else:
                        pipe.zrangebylex(key, "-", "+", offset, count)
                results = await pipe.execute()
            total = sum(int(card) for card in results[: len(count_keys)])
            lists = results[len(count_keys) :]
            if len(lists) == 1:
                members = lists[0]
            else:
                members = list(heapq.merge(*lists, reverse=sort_desc))[start : start + page_size]
            ids = [m if sort_field == "id" else m.partition("\0")[2] for m in members]
            records = await self._records(ids)
        return records, total

    # helpers -----------------------------------------------------------------

    @property
    def _script_keys(self) -> list[str]:
        return [self.data_key, self.keys_key, self.idx_key, self.registry_key]

    def _script(self, source: str) -> Any:
        return self._redis.register_script(source)

    async def _run(self, script: Any, calls: list[list[str]]) -> None:
        """One script call per chunk: alone when one chunk, else pipelined (one round trip)."""
        if len(calls) == 1:
            await script(keys=self._script_keys, args=calls[0])
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for args in calls:
                await script(keys=self._script_keys, args=args, client=pipe)
            await pipe.execute()

    async def _records(self, ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
        """``(id, record)`` for the ids still stored, in the order given."""
        if not ids:
            return []
        raw = await self._redis.hmget(self.data_key, ids)
        pairs = [(doc_id, decode(item)) for doc_id, item in zip(ids, raw, strict=True)]
        return [(doc_id, record) for doc_id, record in pairs if record is not None]
