"""Contract of ``KVStorage`` (see ``lightrag.vocabulary.storage``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lightrag.vocabulary.storage import KVStorage

from .support import (
    UNICODE_TEXTS,
    Backend,
    StorageFactory,
    assert_async_protocol,
    megabyte_text,
    require_restart,
    require_shared,
)

BIG_BATCH = 10_000


class KVStorageContract:
    """Subclass with a ``backend`` fixture returning ``Backend(cls=<KV storage class>)``."""

    namespace = "contract_kv"

    @pytest.fixture
    async def kv(self, factory: StorageFactory) -> Any:
        return await factory.open(self.namespace)

    async def test_satisfies_the_kv_protocol_with_coroutine_methods(self, kv: Any) -> None:
        assert_async_protocol(kv, KVStorage)

    async def test_new_namespace_is_empty(self, kv: Any) -> None:
        assert await kv.is_empty()
        assert await kv.keys() == []
        assert await kv.get("absent") is None

    async def test_upsert_then_get_returns_the_record(self, kv: Any) -> None:
        record = {"content": "héllo", "tokens": 3, "nested": {"a": [1, 2]}, "flag": True}
        await kv.upsert({"k1": record})
        assert await kv.get("k1") == record
        assert not await kv.is_empty()

    async def test_upsert_same_id_twice_keeps_one_record(self, kv: Any) -> None:
        await kv.upsert({"k1": {"v": 1}})
        await kv.upsert({"k1": {"v": 1}})
        assert await kv.keys() == ["k1"]
        assert await kv.get("k1") == {"v": 1}

    async def test_upsert_replaces_the_whole_record(self, kv: Any) -> None:
        await kv.upsert({"k1": {"a": 1, "b": 2}})
        await kv.upsert({"k1": {"a": 3}})
        assert await kv.get("k1") == {"a": 3}

    async def test_empty_upsert_and_delete_are_no_ops(self, kv: Any) -> None:
        await kv.upsert({})
        await kv.delete([])
        assert await kv.is_empty()

    async def test_get_many_follows_the_order_of_keys_with_none_for_unknown(self, kv: Any) -> None:
        await kv.upsert({"a": {"v": "A"}, "b": {"v": "B"}})
        assert await kv.get_many(["b", "missing", "a", "b"]) == [
            {"v": "B"},
            None,
            {"v": "A"},
            {"v": "B"},
        ]
        assert await kv.get_many([]) == []

    async def test_missing_keys_returns_only_unknown_keys(self, kv: Any) -> None:
        await kv.upsert({"a": {"v": 1}, "b": {"v": 2}})
        assert await kv.missing_keys(["a", "c", "b", "d"]) == {"c", "d"}
        assert await kv.missing_keys([]) == set()

    async def test_delete_removes_records_and_ignores_unknown_keys(self, kv: Any) -> None:
        await kv.upsert({"a": {"v": 1}, "b": {"v": 2}})
        await kv.delete(["a", "unknown"])
        assert await kv.get("a") is None
        assert await kv.keys() == ["b"]

    async def test_keys_lists_every_key(self, kv: Any) -> None:
        await kv.upsert({f"key-{i}": {"i": i} for i in range(25)})
        assert sorted(await kv.keys()) == sorted(f"key-{i}" for i in range(25))

    async def test_returned_record_is_not_a_live_view(self, kv: Any) -> None:
        await kv.upsert({"a": {"v": 1}})
        record = await kv.get("a")
        assert record is not None
        record["v"] = 99
        assert await kv.get("a") == {"v": 1}

    async def test_drop_removes_every_record(self, kv: Any) -> None:
        await kv.upsert({"a": {"v": 1}, "b": {"v": 2}})
        await kv.drop()
        assert await kv.is_empty()
        assert await kv.get_many(["a", "b"]) == [None, None]

    async def test_namespaces_do_not_see_each_other(self, factory: StorageFactory) -> None:
        first = await factory.open("contract_kv_one")
        second = await factory.open("contract_kv_two")
        await first.upsert({"shared-key": {"owner": "first"}})
        assert await second.get("shared-key") is None
        await second.upsert({"shared-key": {"owner": "second"}})
        await second.drop()
        assert await first.get("shared-key") == {"owner": "first"}

    async def test_workspaces_do_not_see_each_other(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        first = await factory.open(self.namespace, workspace=factory.workspace + "_a")
        await first.upsert({"k": {"owner": "a"}, "only-a": {"v": 1}})
        await first.index_done()
        second = await factory.open(self.namespace, workspace=factory.workspace + "_b")
        assert await second.get("k") is None
        assert await second.get_many(["k", "only-a"]) == [None, None]
        assert await second.keys() == []
        assert await second.is_empty()
        assert await second.missing_keys(["k"]) == {"k"}
        await second.upsert({"k": {"owner": "b"}})
        assert await first.get("k") == {"owner": "a"}
        assert await second.delete_prefix("only") == 0
        await second.index_done()
        await second.drop()
        assert sorted(await first.keys()) == ["k", "only-a"]
        if backend.persistent:  # the drop of b must not have removed a's stored data
            first = await factory.reopen(first)
            assert await first.get("k") == {"owner": "a"}

    async def test_concurrent_upserts_all_land(self, kv: Any) -> None:
        await asyncio.gather(*(kv.upsert({f"k{i}": {"i": i}}) for i in range(50)))
        assert len(await kv.keys()) == 50

    async def test_concurrent_upserts_of_the_same_keys_keep_one_record_each(self, kv: Any) -> None:
        keys = [f"same-{i}" for i in range(10)]
        await asyncio.gather(
            *(kv.upsert({key: {"writer": w, "key": key} for key in keys}) for w in range(40))
        )
        stored = await kv.keys()
        assert sorted(stored) == sorted(keys)  # exactly one record per key
        for key, record in zip(keys, await kv.get_many(keys), strict=True):
            assert record is not None
            assert record["key"] == key
            assert record["writer"] in range(40)

    async def test_delete_prefix_removes_only_matching_keys_and_counts_them(self, kv: Any) -> None:
        await kv.upsert(
            {
                "local:a": {"v": 1},
                "local:b": {"v": 2},
                "global:a": {"v": 3},
                "xlocal:c": {"v": 4},
                "local": {"v": 5},
            }
        )
        assert await kv.delete_prefix("local:") == 2
        assert sorted(await kv.keys()) == ["global:a", "local", "xlocal:c"]
        assert await kv.delete_prefix("local:") == 0
        assert await kv.delete_prefix("nothing-like-this") == 0

    async def test_delete_prefix_matches_wildcard_characters_literally(self, kv: Any) -> None:
        await kv.upsert(
            {
                "a%b:1": {"v": 1},
                "axb:2": {"v": 2},
                "a_b:3": {"v": 3},
                "a.*:4": {"v": 4},
                "a[b]:5": {"v": 5},
                "a\\b:6": {"v": 6},
            }
        )
        assert await kv.delete_prefix("a%") == 1
        assert await kv.delete_prefix("a_") == 1
        assert await kv.delete_prefix("a.*") == 1
        assert await kv.delete_prefix("a[") == 1
        assert await kv.delete_prefix("a\\") == 1
        assert await kv.keys() == ["axb:2"]

    async def test_delete_prefix_survives_reopen(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        if not backend.persistent:
            pytest.skip("backend does not persist across instances")
        kv = await factory.open(self.namespace)
        await kv.upsert({"mix:a": {"v": 1}, "mix:b": {"v": 2}, "keep": {"v": 3}})
        await kv.index_done()
        assert await kv.delete_prefix("mix:") == 2
        reopened = await factory.reopen(kv)
        assert await reopened.keys() == ["keep"]

    async def test_ten_thousand_records_in_one_upsert(self, kv: Any) -> None:
        await kv.upsert(
            {f"bulk-{i:05d}": {"i": i, "text": f"record {i}"} for i in range(BIG_BATCH)}
        )
        assert len(await kv.keys()) == BIG_BATCH
        sample = [f"bulk-{i:05d}" for i in (0, 1, 4999, BIG_BATCH - 1)]
        assert [r["i"] for r in await kv.get_many(sample) if r is not None] == [
            0,
            1,
            4999,
            BIG_BATCH - 1,
        ]
        assert await kv.missing_keys([f"bulk-{i:05d}" for i in range(BIG_BATCH)]) == set()
        assert await kv.delete_prefix("bulk-0") == BIG_BATCH

    async def test_unicode_keys_and_values_round_trip_unchanged(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        kv = await factory.open(self.namespace)
        records = {text: {"value": text, "list": [text, text[::-1]]} for text in UNICODE_TEXTS}
        await kv.upsert(records)
        assert len(await kv.keys()) == len(UNICODE_TEXTS)  # no key normalised into another
        assert await kv.get_many(list(records)) == list(records.values())
        assert await kv.missing_keys(list(records)) == set()
        if backend.persistent:
            kv = await factory.reopen(kv)
            assert await kv.get_many(list(records)) == list(records.values())
            assert sorted(await kv.keys()) == sorted(records)

    async def test_one_megabyte_value_round_trips(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        kv = await factory.open(self.namespace)
        text = megabyte_text()
        await kv.upsert({"big": {"content": text}})
        assert await kv.get("big") == {"content": text}
        if backend.persistent:
            kv = await factory.reopen(kv)
            assert await kv.get("big") == {"content": text}

    # database-only: shared backends (two instances see each other's writes) and
    # backends with a server to restart; file backends skip these with the reason.

    @pytest.mark.database_only
    async def test_second_instance_sees_writes_without_reopen(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        require_shared(backend)
        writer = await factory.open(self.namespace)
        reader = await factory.open(self.namespace)
        await writer.upsert({"a": {"v": 1}, "p:1": {"v": 2}})
        assert await reader.get("a") == {"v": 1}
        assert sorted(await reader.keys()) == ["a", "p:1"]
        assert await reader.delete_prefix("p:") == 1
        await reader.delete(["a"])
        assert await writer.is_empty()

    @pytest.mark.database_only
    async def test_reconnects_after_the_server_restarts(self, kv: Any, backend: Backend) -> None:
        restart = require_restart(backend)
        await kv.upsert({"before": {"v": 1}})
        await kv.index_done()
        await restart()
        assert await kv.get("before") == {"v": 1}
        await kv.upsert({"after": {"v": 2}})
        assert await kv.get_many(["before", "after"]) == [{"v": 1}, {"v": 2}]

    async def test_index_done_and_finalize_are_safe_to_repeat(self, kv: Any) -> None:
        await kv.upsert({"a": {"v": 1}})
        await kv.index_done()
        await kv.index_done()
        assert await kv.get("a") == {"v": 1}

    async def test_records_survive_finalize_and_reopen(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        if not backend.persistent:
            pytest.skip("backend does not persist across instances")
        kv = await factory.open(self.namespace)
        await kv.upsert({"a": {"v": 1}, "b": {"v": 2}})
        await kv.delete(["b"])
        await kv.index_done()
        await kv.upsert({"c": {"v": 3}})
        reopened = await factory.reopen(kv)
        assert await reopened.get_many(["a", "b", "c"]) == [{"v": 1}, None, {"v": 3}]

    async def test_drop_survives_reopen(self, factory: StorageFactory, backend: Backend) -> None:
        if not backend.persistent:
            pytest.skip("backend does not persist across instances")
        kv = await factory.open(self.namespace)
        await kv.upsert({"a": {"v": 1}})
        await kv.index_done()
        await kv.drop()
        reopened = await factory.reopen(kv)
        assert await reopened.is_empty()
