"""Contract of ``KVStorage`` (see ``lightrag.vocabulary.storage``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lightrag.vocabulary.storage import KVStorage

from .support import Backend, StorageFactory


class KVStorageContract:
    """Subclass with a ``backend`` fixture returning ``Backend(cls=<KV storage class>)``."""

    namespace = "contract_kv"

    @pytest.fixture
    async def kv(self, factory: StorageFactory) -> Any:
        return await factory.open(self.namespace)

    async def test_satisfies_the_kv_protocol(self, kv: Any) -> None:
        assert isinstance(kv, KVStorage)

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

    async def test_workspaces_do_not_see_each_other(self, factory: StorageFactory) -> None:
        first = await factory.open(self.namespace, workspace=factory.workspace + "_a")
        second = await factory.open(self.namespace, workspace=factory.workspace + "_b")
        await first.upsert({"k": {"owner": "a"}})
        assert await second.get("k") is None
        await second.drop()
        assert await first.get("k") == {"owner": "a"}

    async def test_concurrent_upserts_all_land(self, kv: Any) -> None:
        await asyncio.gather(*(kv.upsert({f"k{i}": {"i": i}}) for i in range(50)))
        assert len(await kv.keys()) == 50

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
