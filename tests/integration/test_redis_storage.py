"""Redis storages beyond the contract: shared pool, errors, index consistency, isolation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from integration.servers.base import RunningServer, free_port
from integration.servers.redis import RedisLauncher
from lightrag.storage.redis.client import RedisConfig
from lightrag.storage.redis.doc_status import RedisDocStatusStorage
from lightrag.storage.redis.kv import RedisKVStorage
from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.errors import StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

pytestmark = pytest.mark.redis


def record(status: str, track: str = "t1", day: int = 1, path: str = "a.txt") -> dict[str, Any]:
    stamp = f"2026-01-{day:02d}T00:00:00+00:00"
    return {
        "status": status,
        "track_id": track,
        "created_at": stamp,
        "updated_at": stamp,
        "file_path": path,
        "content_summary": "s",
        "content_length": 1,
    }


class Opener:
    """Opens storages on one hub in a fresh workspace; drops and closes them at the end."""

    def __init__(self, uri: str, tmp_path: Path, workspace: str) -> None:
        self.params = {"uri": uri, "retry_attempts": 0}
        self.hub = ClientHub()
        self.tmp_path = tmp_path
        self.workspace = workspace
        self.opened: list[Any] = []

    async def open(self, cls: type, namespace: str, workspace: str | None = None) -> Any:
        ctx = StorageContext(
            working_dir=self.tmp_path,
            namespace=namespace,
            workspace=self.workspace if workspace is None else workspace,
            clients=self.hub,
        )
        storage = cls(ctx, self.params)
        await storage.initialize()
        self.opened.append(storage)
        return storage

    async def close(self) -> None:
        for storage in self.opened:
            await storage.drop()
            await storage.finalize()
        await self.hub.close()


@pytest.fixture
def uri(redis_server: RunningServer | str) -> str:
    return redis_server if isinstance(redis_server, str) else redis_server.dsn


@pytest.fixture
async def opener(uri: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Opener]:
    opened = Opener(uri, tmp_path, "it_" + request.node.name[-40:])
    yield opened
    await opened.close()


async def indexes_of(docs: RedisDocStatusStorage) -> dict[str, Any]:
    """What the status, track and sort indexes hold, read straight from Redis."""
    redis = docs._redis
    statuses = sorted(await redis.smembers(docs.statuses_key))
    found: dict[str, Any] = {
        "status": {s: sorted(await redis.zrange(docs.status_key(s), 0, -1)) for s in statuses},
        "by": {},
    }
    for field in ("created_at", "updated_at", "file_path"):
        found["by"][field] = sorted(await redis.zrange(docs.sort_key(field), 0, -1))
        for s in statuses:
            found["by"][f"{field}:{s}"] = sorted(await redis.zrange(docs.sort_key(field, s), 0, -1))
    return found


def expected_indexes(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    statuses = sorted({r["status"] for r in records.values()})
    expected: dict[str, Any] = {
        "status": {s: sorted(i for i, r in records.items() if r["status"] == s) for s in statuses},
        "by": {},
    }
    for field in ("created_at", "updated_at", "file_path"):
        expected["by"][field] = sorted(f"{r[field]}\0{i}" for i, r in records.items())
        for s in statuses:
            expected["by"][f"{field}:{s}"] = sorted(
                f"{r[field]}\0{i}" for i, r in records.items() if r["status"] == s
            )
    return expected


async def test_namespaces_on_one_server_share_one_pool(opener: Opener) -> None:
    kv_one = await opener.open(RedisKVStorage, "full_docs")
    kv_two = await opener.open(RedisKVStorage, "text_chunks")
    docs = await opener.open(RedisDocStatusStorage, "doc_status")
    assert opener.hub.open_count() == 1
    assert kv_one._client is kv_two._client is docs._client
    await kv_one.finalize()
    opener.opened.remove(kv_one)
    assert opener.hub.open_count() == 1  # still used by the others


async def test_server_down_raises_unavailable_naming_host_and_port_not_password(
    tmp_path: Path,
) -> None:
    port = free_port()
    params = {"uri": f"redis://:s3cret-pw@127.0.0.1:{port}/0", "retry_attempts": 0}
    ctx = StorageContext(working_dir=tmp_path, namespace="kv")
    storage = RedisKVStorage(ctx, params)
    with pytest.raises(StorageUnavailableError) as caught:
        await storage.initialize()
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
    assert ctx.clients.open_count() == 0


def test_config_never_shows_the_password() -> None:
    config = RedisConfig.model_validate({"uri": "redis://user:s3cret-pw@db.internal:6380/2"})
    assert "s3cret-pw" not in repr(config)
    assert config.endpoint() == "db.internal:6380"


async def test_status_indexes_follow_status_changes_and_deletes(opener: Opener) -> None:
    docs = await opener.open(RedisDocStatusStorage, "doc_status")
    records = {f"doc-{i}": record("pending", day=i % 9 + 1, path=f"{i}.txt") for i in range(12)}
    await docs.upsert(records)
    assert await indexes_of(docs) == expected_indexes(records)
    changes = {f"doc-{i}": record("processed", track="t2", day=20) for i in range(0, 12, 2)}
    await docs.upsert(changes)
    records.update(changes)
    await docs.delete(["doc-1", "doc-2", "no-such-doc"])
    del records["doc-1"], records["doc-2"]
    assert await indexes_of(docs) == expected_indexes(records)
    assert await docs.status_counts() == {
        "pending": 5,
        "processing": 0,
        "processed": 5,
        "failed": 0,
    }
    assert set(await docs.by_track_id("t2")) == {f"doc-{i}" for i in (0, 4, 6, 8, 10)}
    assert await docs.delete_prefix("doc-1") == 2  # doc-10, doc-11
    del records["doc-10"], records["doc-11"]
    assert await indexes_of(docs) == expected_indexes(records)
    await docs.drop()
    assert (
        await docs._redis.exists(docs.registry_key, docs.idx_key, docs.status_key("pending")) == 0
    )


async def test_concurrent_status_changes_from_two_instances_keep_indexes_consistent(
    opener: Opener,
) -> None:
    first = await opener.open(RedisDocStatusStorage, "doc_status")
    second = await opener.open(RedisDocStatusStorage, "doc_status")
    steps = ["pending", "processing", "processed", "failed"]
    await asyncio.gather(
        *(
            storage.upsert({f"doc-{i % 5}": record(steps[i % 4], day=i % 28 + 1)})
            for i in range(40)
            for storage in (first, second)
        )
    )
    stored = dict(zip(await first.keys(), await first.get_many(await first.keys()), strict=True))
    assert len(stored) == 5
    assert await indexes_of(second) == expected_indexes(stored)
    assert sum((await second.status_counts()).values()) == 5


async def test_by_status_pages_by_id_across_statuses(opener: Opener) -> None:
    docs = await opener.open(RedisDocStatusStorage, "doc_status")
    await docs.upsert({f"d{i:02d}": record("pending" if i % 2 else "failed") for i in range(10)})
    await docs.upsert({"x": record("processed")})
    pages, after = [], None
    while page := await docs.by_status(["pending", "failed"], limit=3, after_id=after):
        pages.append(list(page))
        after = pages[-1][-1]
    assert pages == [["d00", "d01", "d02"], ["d03", "d04", "d05"], ["d06", "d07", "d08"], ["d09"]]


async def test_paginated_over_several_statuses_merges_their_indexes(opener: Opener) -> None:
    docs = await opener.open(RedisDocStatusStorage, "doc_status")
    status_of = ["pending", "failed", "processed"]
    await docs.upsert({f"d{i:02d}": record(status_of[i % 3], day=i + 1) for i in range(12)})
    seen = []
    for number in (1, 2, 3):
        page, total = await docs.paginated(
            statuses=["pending", "failed"], page=number, page_size=3, sort_field="created_at"
        )
        assert total == 8
        seen += [doc_id for doc_id, _ in page]
    expected = [f"d{i:02d}" for i in reversed(range(12)) if i % 3 != 2]
    assert seen == expected


async def test_workspaces_with_separators_in_names_stay_apart(opener: Opener) -> None:
    first = await opener.open(RedisDocStatusStorage, "c", workspace=opener.workspace + "a:b")
    second = await opener.open(RedisDocStatusStorage, "b:c", workspace=opener.workspace + "a")
    await first.upsert({"doc": record("pending")})
    await second.upsert({"doc": record("failed")})
    await second.drop()
    assert (await first.status_counts())["pending"] == 1
    assert (await first.get("doc") or {}).get("status") == "pending"
    assert await second.is_empty()


async def test_kv_delete_prefix_removes_only_matching_keys(opener: Opener) -> None:
    kv = await opener.open(RedisKVStorage, "llm_response_cache")
    await kv.upsert(
        {f"{mode}:{i}": {"v": i} for mode in ("local", "global", "loc") for i in range(3)}
    )
    await kv.upsert({"local": {"v": "bare"}, "localé:1": {"v": "x"}})
    assert await kv.delete_prefix("local:") == 3
    assert sorted(await kv.keys()) == sorted(
        ["global:0", "global:1", "global:2", "loc:0", "loc:1", "loc:2", "local", "localé:1"]
    )
    assert await kv.missing_keys(["local:0", "loc:0"]) == {"local:0"}


async def test_storage_reconnects_after_the_server_restarts(
    redis_server: RunningServer | str, opener: Opener
) -> None:
    if isinstance(redis_server, str):
        pytest.skip("server given by LIGHTRAG_TEST_REDIS_URI: this test cannot restart it")
    opener.params["retry_attempts"] = 3
    docs = await opener.open(RedisDocStatusStorage, "doc_status")
    await docs.upsert({"doc-1": record("pending")})
    restarted = RedisLauncher().restart(redis_server)
    redis_server.pid = restarted.pid  # the session fixture stops the new process
    assert (await docs.status_counts())["pending"] == 1
    assert (await docs.get("doc-1") or {}).get("status") == "pending"
