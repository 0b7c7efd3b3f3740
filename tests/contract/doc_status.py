"""Contract of ``DocStatusStorage`` (a KV storage plus status queries)."""

from __future__ import annotations

from typing import Any

import pytest

from lightrag.vocabulary.storage import DocStatusStorage
from lightrag.vocabulary.types import DocStatus

from .kv import BIG_BATCH, KVStorageContract
from .support import Backend, StorageFactory, assert_async_protocol, require_shared


def status_record(
    status: str,
    *,
    created: str = "2026-01-01T00:00:00+00:00",
    updated: str | None = None,
    file_path: str = "doc.txt",
    track_id: str = "track-1",
) -> dict[str, Any]:
    """A ``DocStatusRecord``-shaped dict."""
    return {
        "status": status,
        "content_summary": "summary",
        "content_length": 42,
        "file_path": file_path,
        "created_at": created,
        "updated_at": updated or created,
        "track_id": track_id,
        "chunks_count": None,
        "chunks_list": [],
        "error_msg": None,
        "metadata": {},
    }


def stamp(day: int) -> str:
    return f"2026-01-{day:02d}T00:00:00+00:00"


async def seed_five_docs(docs: Any) -> Any:
    """Five documents: ids doc-1..doc-5, created/updated on days 1..5 (doc-5 updated day 9)."""
    await docs.upsert(
        {
            "doc-1": status_record("pending", created=stamp(1), file_path="e.txt"),
            "doc-2": status_record("processed", created=stamp(2), file_path="d.txt"),
            "doc-3": status_record("failed", created=stamp(3), file_path="c.txt", track_id="t2"),
            "doc-4": status_record("processed", created=stamp(4), file_path="b.txt"),
            "doc-5": status_record(
                "processing", created=stamp(5), updated=stamp(9), file_path="a.txt"
            ),
        }
    )
    return docs


class DocStatusStorageContract(KVStorageContract):
    """Subclass with a ``backend`` fixture returning ``Backend(cls=<doc status class>)``."""

    namespace = "doc_status"

    @pytest.fixture
    async def docs(self, factory: StorageFactory) -> Any:
        return await factory.open(self.namespace)

    @pytest.fixture
    async def five_docs(self, docs: Any) -> Any:
        return await seed_five_docs(docs)

    async def test_satisfies_the_doc_status_protocol_with_coroutine_methods(
        self, docs: Any
    ) -> None:
        assert_async_protocol(docs, DocStatusStorage)

    async def test_counts_list_every_status_even_when_empty(self, docs: Any) -> None:
        assert await docs.status_counts() == {status.value: 0 for status in DocStatus}

    async def test_counts_follow_status_changes(self, five_docs: Any) -> None:
        counts = await five_docs.status_counts()
        assert counts == {"pending": 1, "processing": 1, "processed": 2, "failed": 1}
        await five_docs.upsert({"doc-1": status_record("processed", created=stamp(1))})
        counts = await five_docs.status_counts()
        assert counts["pending"] == 0
        assert counts["processed"] == 3

    async def test_by_status_returns_records_of_any_listed_status(self, five_docs: Any) -> None:
        found = await five_docs.by_status(["processed", "failed"])
        assert set(found) == {"doc-2", "doc-3", "doc-4"}
        assert found["doc-3"]["status"] == "failed"
        assert await five_docs.by_status([]) == {}
        assert await five_docs.by_status(["pending"]) == {
            "doc-1": status_record("pending", created=stamp(1), file_path="e.txt")
        }

    async def test_by_track_id_returns_the_documents_of_that_track(self, five_docs: Any) -> None:
        assert set(await five_docs.by_track_id("t2")) == {"doc-3"}
        assert len(await five_docs.by_track_id("track-1")) == 4
        assert await five_docs.by_track_id("no-such-track") == {}

    async def test_paginated_defaults_to_most_recently_updated_first(self, five_docs: Any) -> None:
        page, total = await five_docs.paginated(statuses=None, page=1, page_size=3)
        assert total == 5
        assert [doc_id for doc_id, _ in page] == ["doc-5", "doc-4", "doc-3"]
        assert page[0][1]["status"] == "processing"

    async def test_paginated_pages_cover_every_document_once(self, five_docs: Any) -> None:
        seen: list[str] = []
        for number in (1, 2, 3):
            page, total = await five_docs.paginated(statuses=None, page=number, page_size=2)
            assert total == 5
            seen.extend(doc_id for doc_id, _ in page)
        assert sorted(seen) == ["doc-1", "doc-2", "doc-3", "doc-4", "doc-5"]
        assert len(seen) == 5

    async def test_paginated_page_past_the_end_is_empty(self, five_docs: Any) -> None:
        page, total = await five_docs.paginated(statuses=None, page=4, page_size=2)
        assert page == []
        assert total == 5

    async def test_paginated_filters_by_status_and_counts_matches(self, five_docs: Any) -> None:
        page, total = await five_docs.paginated(
            statuses=["processed"], page=1, page_size=10, sort_field="id", sort_desc=False
        )
        assert total == 2
        assert [doc_id for doc_id, _ in page] == ["doc-2", "doc-4"]

    @pytest.mark.parametrize(
        ("sort_field", "sort_desc", "expected"),
        [
            ("created_at", False, ["doc-1", "doc-2", "doc-3", "doc-4", "doc-5"]),
            ("created_at", True, ["doc-5", "doc-4", "doc-3", "doc-2", "doc-1"]),
            ("updated_at", True, ["doc-5", "doc-4", "doc-3", "doc-2", "doc-1"]),
            ("id", True, ["doc-5", "doc-4", "doc-3", "doc-2", "doc-1"]),
            ("file_path", False, ["doc-5", "doc-4", "doc-3", "doc-2", "doc-1"]),
            ("file_path", True, ["doc-1", "doc-2", "doc-3", "doc-4", "doc-5"]),
        ],
    )
    async def test_paginated_sorts_by_the_requested_field(
        self, five_docs: Any, sort_field: str, sort_desc: bool, expected: list[str]
    ) -> None:
        page, _ = await five_docs.paginated(
            statuses=None, page=1, page_size=10, sort_field=sort_field, sort_desc=sort_desc
        )
        assert [doc_id for doc_id, _ in page] == expected

    async def test_paginated_rejects_an_unknown_sort_field(self, docs: Any) -> None:
        with pytest.raises(ValueError, match="content_length"):
            await docs.paginated(statuses=None, page=1, page_size=10, sort_field="content_length")

    @pytest.mark.parametrize(("page", "page_size"), [(0, 10), (1, 0), (-1, 5)])
    async def test_paginated_rejects_a_page_or_size_below_one(
        self, docs: Any, page: int, page_size: int
    ) -> None:
        with pytest.raises(ValueError):
            await docs.paginated(statuses=None, page=page, page_size=page_size)

    async def test_pending_document_survives_reopen(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        if not backend.persistent:
            pytest.skip("backend does not persist across instances")
        docs = await factory.open(self.namespace)
        await docs.upsert({"doc-1": status_record("pending")})
        reopened = await factory.reopen(docs)
        assert (await reopened.by_status(["pending"])).keys() == {"doc-1"}
        assert (await reopened.status_counts())["pending"] == 1

    async def test_by_status_returns_records_in_doc_id_order(self, docs: Any) -> None:
        ids = ["doc-07", "doc-03", "doc-10", "doc-01", "doc-05"]
        await docs.upsert({doc_id: status_record("pending") for doc_id in ids})
        found = await docs.by_status(["pending"])
        assert list(found) == sorted(ids)

    async def test_by_status_limit_and_after_id_page_by_doc_id(self, docs: Any) -> None:
        await docs.upsert(
            {
                f"doc-{i:02d}": status_record("failed" if i % 3 == 0 else "pending")
                for i in range(1, 21)
            }
        )
        first = await docs.by_status(["pending"], limit=4)
        assert list(first) == ["doc-01", "doc-02", "doc-04", "doc-05"]
        second = await docs.by_status(["pending"], limit=4, after_id="doc-05")
        assert list(second) == ["doc-07", "doc-08", "doc-10", "doc-11"]
        # after_id need not be a stored id, nor one of the statuses asked
        assert list(await docs.by_status(["pending"], limit=2, after_id="doc-05x")) == [
            "doc-07",
            "doc-08",
        ]
        assert list(await docs.by_status(["failed"], after_id="doc-12")) == ["doc-15", "doc-18"]
        assert await docs.by_status(["pending"], after_id="doc-20") == {}
        assert second["doc-07"]["status"] == "pending"

    async def test_by_status_pages_cover_every_match_once(self, docs: Any) -> None:
        await docs.upsert(
            {
                f"doc-{i:03d}": status_record(("pending", "failed", "processed")[i % 3])
                for i in range(90)
            }
        )
        seen: list[str] = []
        after: str | None = None
        while page := await docs.by_status(["pending", "failed"], limit=7, after_id=after):
            assert len(page) <= 7
            seen.extend(page)
            after = list(page)[-1]
        expected = sorted(f"doc-{i:03d}" for i in range(90) if i % 3 != 2)
        assert seen == expected

    async def test_ten_thousand_status_records_in_one_upsert_page_through(self, docs: Any) -> None:
        await docs.upsert(
            {
                f"doc-{i:05d}": status_record("processed" if i % 2 else "pending")
                for i in range(BIG_BATCH)
            }
        )
        counts = await docs.status_counts()
        assert counts["pending"] == counts["processed"] == BIG_BATCH // 2
        pages = 0
        total = 0
        after: str | None = None
        while page := await docs.by_status(["pending"], limit=1000, after_id=after):
            pages += 1
            total += len(page)
            after = list(page)[-1]
        assert (pages, total) == (5, BIG_BATCH // 2)
        _, matching = await docs.paginated(statuses=["processed"], page=3, page_size=100)
        assert matching == BIG_BATCH // 2

    async def test_status_queries_do_not_cross_workspaces(self, factory: StorageFactory) -> None:
        first = await factory.open(self.namespace, workspace=factory.workspace + "_a")
        await seed_five_docs(first)
        await first.index_done()
        second = await factory.open(self.namespace, workspace=factory.workspace + "_b")
        assert await second.status_counts() == {status.value: 0 for status in DocStatus}
        assert await second.by_status(["pending", "processed"]) == {}
        assert await second.by_track_id("track-1") == {}
        assert await second.paginated(statuses=None, page=1, page_size=10) == ([], 0)
        await second.upsert({"doc-9": status_record("failed")})
        await second.drop()
        assert (await first.status_counts())["processed"] == 2
        assert (await first.status_counts())["failed"] == 1

    # database-only: two instances on one namespace and workspace

    @pytest.mark.database_only
    async def test_second_instance_sees_status_changes_without_reopen(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        require_shared(backend)
        writer = await factory.open(self.namespace)
        reader = await factory.open(self.namespace)
        await writer.upsert({"doc-1": status_record("pending")})
        assert (await reader.status_counts())["pending"] == 1
        await writer.upsert({"doc-1": status_record("processed")})
        assert list(await reader.by_status(["processed"], limit=5)) == ["doc-1"]
