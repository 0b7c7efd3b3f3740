"""File-backend specifics of the JSON doc status storage."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from lightrag.storage.docstatus_json import JsonDocStatusStorage
from lightrag.vocabulary.storage import StorageContext


async def open_docs(root: Path, **params) -> JsonDocStatusStorage:
    docs = JsonDocStatusStorage(StorageContext(working_dir=root, namespace="doc_status"), params)
    await docs.initialize()
    return docs


def record(status: str) -> dict:
    return {
        "status": status,
        "content_summary": "s",
        "content_length": 1,
        "file_path": "f.txt",
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "track_id": "t",
    }


async def test_file_is_named_like_upstream(tmp_path: Path) -> None:
    docs = await open_docs(tmp_path)
    await docs.upsert({"doc-1": record("pending")})
    await docs.finalize()
    content = json.loads((tmp_path / "kv_store_doc_status.json").read_text())
    assert content["doc-1"]["status"] == "pending"


async def test_crash_between_status_writes_keeps_every_document(tmp_path: Path) -> None:
    docs = await open_docs(tmp_path)
    await docs.upsert({"doc-1": record("pending"), "doc-2": record("pending")})
    await docs.index_done()
    await docs.upsert({"doc-1": record("processing")})
    await docs.upsert({"doc-3": record("pending")})
    # Simulated crash: no index_done, no finalize.
    restarted = await open_docs(tmp_path)
    assert await restarted.status_counts() == {
        "pending": 2,
        "processing": 1,
        "processed": 0,
        "failed": 0,
    }
    resumable = await restarted.by_status(["pending", "processing", "failed"])
    assert set(resumable) == {"doc-1", "doc-2", "doc-3"}


async def test_unknown_status_values_are_counted_under_their_own_name(tmp_path: Path) -> None:
    docs = await open_docs(tmp_path)
    await docs.upsert({"doc-1": record("parsing")})
    counts = await docs.status_counts()
    assert counts["parsing"] == 1
    assert counts["pending"] == 0


def test_unknown_parameter_is_an_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown parameter 'workers'"):
        JsonDocStatusStorage(
            StorageContext(working_dir=tmp_path, namespace="doc_status"), {"workers": 2}
        )


async def test_by_status_rejects_a_negative_limit_and_allows_zero(tmp_path: Path) -> None:
    docs = await open_docs(tmp_path)
    await docs.upsert({"doc-1": record("pending")})
    with pytest.raises(ValueError, match="limit must be >= 0"):
        await docs.by_status(["pending"], limit=-1)
    assert await docs.by_status(["pending"], limit=0) == {}


async def test_by_status_returns_copies(tmp_path: Path) -> None:
    docs = await open_docs(tmp_path)
    await docs.upsert({"doc-1": record("pending")})
    page = await docs.by_status(["pending"], limit=1)
    page["doc-1"]["status"] = "failed"
    assert (await docs.status_counts())["pending"] == 1


async def test_by_status_pages_journaled_writes_after_a_crash(tmp_path: Path) -> None:
    docs = await open_docs(tmp_path)
    await docs.upsert({f"doc-{i}": record("pending") for i in range(5)})
    # Simulated crash: no index_done, no finalize.
    restarted = await open_docs(tmp_path)
    first = await restarted.by_status(["pending"], limit=3)
    rest = await restarted.by_status(["pending"], after_id=list(first)[-1])
    assert list(first) + list(rest) == [f"doc-{i}" for i in range(5)]


async def test_status_counts_follow_every_write_and_survive_a_restart(tmp_path: Path) -> None:
    rng = random.Random(2)
    docs = await open_docs(tmp_path)
    statuses = ["pending", "processing", "processed", "failed"]
    for step in range(300):
        key = f"doc-{rng.randrange(40)}"
        roll = rng.random()
        if roll < 0.7:
            await docs.upsert({key: record(rng.choice(statuses))})
        elif roll < 0.9:
            await docs.delete([key, "doc-never"])
        else:
            await docs.delete_prefix(f"doc-{rng.randrange(4)}")
        if step == 150:
            await docs.index_done()
        scanned = {s: 0 for s in statuses}
        for stored in await docs.get_many(await docs.keys()):
            assert stored is not None
            scanned[stored["status"]] += 1
        counts = await docs.status_counts()
        assert {s: counts[s] for s in statuses} == scanned
    before = await docs.status_counts()
    assert await (await open_docs(tmp_path)).status_counts() == before
    await docs.drop()
    assert set((await docs.status_counts()).values()) == {0}
