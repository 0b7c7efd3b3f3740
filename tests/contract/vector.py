"""Contract of ``VectorStorage`` (see ``lightrag.vocabulary.storage``)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from lightrag.vocabulary.storage import VectorStorage

from .support import (
    DIM,
    UNICODE_TEXTS,
    Backend,
    StorageFactory,
    assert_async_protocol,
    require_restart,
    require_shared,
    unit_vector,
    vectors,
)

META = frozenset({"entity_name", "source_id", "weight"})
BIG_BATCH = 10_000


def entity(name: str, **extra: Any) -> dict[str, Any]:
    return {"entity_name": name, "source_id": f"chunk-{name}", **extra}


class VectorStorageContract:
    """Subclass with a ``backend`` fixture returning ``Backend(cls=<vector storage class>)``.

    Storages are opened with ``embedding_dim=DIM`` (8), ``cosine_threshold=0.2`` and
    ``meta_fields`` = entity_name, source_id, weight.
    """

    namespace = "contract_vectors"

    async def open(
        self, factory: StorageFactory, namespace: str | None = None, **extra: Any
    ) -> Any:
        extra.setdefault("embedding_dim", DIM)
        extra.setdefault("cosine_threshold", 0.2)
        extra.setdefault("meta_fields", META)
        return await factory.open(namespace or self.namespace, **extra)

    @pytest.fixture
    async def vdb(self, factory: StorageFactory) -> Any:
        return await self.open(factory)

    @pytest.fixture
    async def three(self, vdb: Any) -> Any:
        """Three records along basis vectors 0, 1 and 2."""
        await vdb.upsert(
            {"e0": entity("zero"), "e1": entity("one"), "e2": entity("two")},
            vectors(unit_vector(0), unit_vector(1), unit_vector(2)),
        )
        return vdb

    async def test_satisfies_the_vector_protocol_with_coroutine_methods(self, vdb: Any) -> None:
        assert_async_protocol(vdb, VectorStorage)

    async def test_new_namespace_is_empty(self, vdb: Any) -> None:
        assert await vdb.count() == 0
        assert await vdb.query(unit_vector(0), top_k=5) == []
        assert await vdb.get(["x"]) == [None]

    async def test_query_returns_the_nearest_record_first_with_its_score(self, three: Any) -> None:
        query = vectors([0.9, 0.3, 0, 0, 0, 0, 0, 0])[0]
        results = await three.query(query, top_k=3, threshold=0.1)
        assert [r["id"] for r in results] == ["e0", "e1"]
        expected = 0.9 / np.linalg.norm([0.9, 0.3])
        assert results[0]["score"] == pytest.approx(expected, abs=1e-5)
        assert results[0]["score"] > results[1]["score"]

    async def test_query_results_carry_the_meta_fields(self, three: Any) -> None:
        (best,) = await three.query(unit_vector(1), top_k=1)
        assert best["id"] == "e1"
        assert best["entity_name"] == "one"
        assert best["source_id"] == "chunk-one"

    async def test_only_meta_fields_are_kept(self, vdb: Any) -> None:
        await vdb.upsert(
            {"e": entity("x", weight=2.5, secret="dropped", content="dropped too")},
            vectors(unit_vector(3)),
        )
        (record,) = await vdb.get(["e"])
        assert record == {"id": "e", "entity_name": "x", "source_id": "chunk-x", "weight": 2.5}
        (hit,) = await vdb.query(unit_vector(3), top_k=1)
        assert set(hit) == {"id", "score", "entity_name", "source_id", "weight"}

    async def test_top_k_limits_the_results(self, vdb: Any) -> None:
        rows = np.ones((10, DIM), dtype=np.float32) + np.eye(10, DIM, dtype=np.float32)
        await vdb.upsert({f"e{i}": entity(str(i)) for i in range(10)}, rows)
        results = await vdb.query(np.ones(DIM, dtype=np.float32), top_k=4)
        assert len(results) == 4
        scores = [r["score"] for r in results]
        assert scores == sorted(scores, reverse=True)

    async def test_threshold_leaves_out_weaker_matches(self, three: Any) -> None:
        query = vectors([1.0, 0.5, 0, 0, 0, 0, 0, 0])[0]  # cos e0 ~ 0.894, e1 ~ 0.447
        assert [r["id"] for r in await three.query(query, top_k=5, threshold=0.5)] == ["e0"]
        assert [r["id"] for r in await three.query(query, top_k=5, threshold=0.4)] == ["e0", "e1"]

    async def test_default_threshold_is_the_context_cosine_threshold(
        self, factory: StorageFactory
    ) -> None:
        vdb = await self.open(factory, cosine_threshold=0.5)
        await vdb.upsert(
            {"a": entity("a"), "b": entity("b")},
            vectors([1, 0, 0, 0, 0, 0, 0, 0], [0.4, 1, 0, 0, 0, 0, 0, 0]),
        )
        assert [r["id"] for r in await vdb.query(unit_vector(0), top_k=5)] == ["a"]

    async def test_orthogonal_records_are_below_the_default_threshold(self, three: Any) -> None:
        assert [r["id"] for r in await three.query(unit_vector(5), top_k=5)] == []

    async def test_scores_are_cosine_so_vector_length_does_not_matter(self, vdb: Any) -> None:
        await vdb.upsert({"long": entity("long")}, vectors(unit_vector(0) * 1000))
        (hit,) = await vdb.query(unit_vector(0) * 0.001, top_k=1)
        assert hit["score"] == pytest.approx(1.0, abs=1e-5)

    async def test_upsert_same_id_replaces_vector_and_metadata(self, three: Any) -> None:
        await three.upsert({"e0": entity("moved")}, vectors(unit_vector(4)))
        assert await three.count() == 3
        (hit,) = await three.query(unit_vector(4), top_k=1)
        assert (hit["id"], hit["entity_name"]) == ("e0", "moved")
        assert [r["id"] for r in await three.query(unit_vector(0), top_k=3)] == []

    async def test_upsert_is_idempotent(self, three: Any) -> None:
        await three.upsert({"e1": entity("one")}, vectors(unit_vector(1)))
        assert await three.count() == 3
        assert await three.get(["e1"]) == [
            {"id": "e1", "entity_name": "one", "source_id": "chunk-one"}
        ]

    async def test_get_follows_the_order_of_ids_with_none_for_unknown(self, three: Any) -> None:
        found = await three.get(["e2", "nope", "e0"])
        assert [None if r is None else r["id"] for r in found] == ["e2", None, "e0"]
        assert await three.get([]) == []

    async def test_delete_removes_records_and_ignores_unknown_ids(self, three: Any) -> None:
        await three.delete(["e0", "unknown"])
        assert await three.count() == 2
        assert await three.get(["e0"]) == [None]
        assert await three.query(unit_vector(0), top_k=3) == []
        # the remaining rows still answer with their own ids
        assert [r["id"] for r in await three.query(unit_vector(1), top_k=1)] == ["e1"]
        assert [r["id"] for r in await three.query(unit_vector(2), top_k=1)] == ["e2"]

    async def test_upsert_of_the_wrong_dimension_names_expected_and_got(self, vdb: Any) -> None:
        with pytest.raises(ValueError, match=rf"expected {DIM}, got {DIM + 1}"):
            await vdb.upsert({"e": entity("e")}, np.ones((1, DIM + 1), dtype=np.float32))
        assert await vdb.count() == 0

    async def test_upsert_with_fewer_vectors_than_records_is_an_error(self, vdb: Any) -> None:
        with pytest.raises(ValueError):
            await vdb.upsert({"a": entity("a"), "b": entity("b")}, vectors(unit_vector(0)))
        assert await vdb.count() == 0

    async def test_query_of_the_wrong_dimension_is_an_error(self, three: Any) -> None:
        with pytest.raises(ValueError, match=rf"expected {DIM}, got 3"):
            await three.query(np.ones(3, dtype=np.float32), top_k=1)

    async def test_drop_removes_every_vector(self, three: Any) -> None:
        await three.drop()
        assert await three.count() == 0
        assert await three.query(unit_vector(0), top_k=3) == []

    async def test_namespaces_do_not_see_each_other(self, factory: StorageFactory) -> None:
        first = await self.open(factory, "contract_vectors_one")
        second = await self.open(factory, "contract_vectors_two")
        await first.upsert({"e": entity("first")}, vectors(unit_vector(0)))
        assert await second.query(unit_vector(0), top_k=1) == []
        assert await second.get(["e"]) == [None]
        await second.drop()
        assert await first.count() == 1

    async def test_workspaces_do_not_see_each_other(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        first = await self.open(factory, workspace=factory.workspace + "_a")
        await first.upsert({"e": entity("first")}, vectors(unit_vector(0)))
        await first.index_done()
        second = await self.open(factory, workspace=factory.workspace + "_b")
        assert await second.count() == 0
        assert await second.get(["e"]) == [None]
        assert await second.query(unit_vector(0), top_k=5, threshold=-1.0) == []
        filtered = await second.query(unit_vector(0), top_k=5, filters={"entity_name": ["first"]})
        assert filtered == []
        await second.upsert({"e": entity("second")}, vectors(unit_vector(1)))
        await second.index_done()
        await second.drop()
        assert await first.count() == 1
        if backend.persistent:
            first = await factory.reopen(first)
            assert [r["entity_name"] for r in await first.get(["e"]) if r] == ["first"]

    async def test_concurrent_upserts_all_land(self, vdb: Any) -> None:
        await asyncio.gather(
            *(vdb.upsert({f"e{i}": entity(str(i))}, vectors(unit_vector(i))) for i in range(40))
        )
        assert await vdb.count() == 40

    async def test_concurrent_upserts_of_the_same_ids_keep_one_consistent_record_each(
        self, vdb: Any
    ) -> None:
        keys = [f"same-{i}" for i in range(5)]
        await asyncio.gather(
            *(
                vdb.upsert(
                    {key: entity(f"w{w}") for key in keys},
                    np.tile(unit_vector(w), (len(keys), 1)),
                )
                for w in range(DIM)
            )
        )
        assert await vdb.count() == len(keys)
        for record in await vdb.get(keys):
            assert record is not None
            writer = int(record["entity_name"][1:])
            assert writer in range(DIM)
            # vector and metadata come from the same write
            hits = await vdb.query(unit_vector(writer), top_k=10, threshold=0.99)
            assert record["id"] in {hit["id"] for hit in hits}

    async def test_filters_keep_records_whose_field_is_one_of_the_values(self, three: Any) -> None:
        query = vectors([1.0, 0.6, 0.3, 0, 0, 0, 0, 0])[0]
        found = await three.query(
            query, top_k=5, threshold=0.0, filters={"entity_name": ["one", "two", "nine"]}
        )
        assert [r["id"] for r in found] == ["e1", "e2"]
        assert found[0]["entity_name"] == "one"
        both = await three.query(
            query,
            top_k=5,
            threshold=0.0,
            filters={"entity_name": ["one", "two"], "source_id": ["chunk-two"]},
        )
        assert [r["id"] for r in both] == ["e2"]
        assert await three.query(query, top_k=5, filters={"entity_name": []}) == []

    async def test_filters_apply_before_top_k(self, vdb: Any) -> None:
        rows = np.eye(DIM, dtype=np.float32)[:6] + np.full((6, DIM), 0.2, dtype=np.float32)
        await vdb.upsert(
            {f"e{i}": entity(str(i), source_id="wanted" if i >= 4 else "other") for i in range(6)},
            rows,
        )
        # e0..e3 score highest for this query but do not pass the filter
        query = vectors([1, 1, 1, 1, 0.3, 0.2, 0, 0])[0]
        found = await vdb.query(query, top_k=2, threshold=0.0, filters={"source_id": ["wanted"]})
        assert [r["id"] for r in found] == ["e4", "e5"]

    async def test_filters_respect_the_threshold(self, three: Any) -> None:
        query = vectors([1.0, 0.5, 0, 0, 0, 0, 0, 0])[0]  # cos e0 ~ 0.894, e1 ~ 0.447
        found = await three.query(
            query, top_k=5, threshold=0.5, filters={"entity_name": ["zero", "one"]}
        )
        assert [r["id"] for r in found] == ["e0"]

    async def test_filter_on_an_unknown_field_is_an_error(self, three: Any) -> None:
        with pytest.raises(ValueError, match="colour"):
            await three.query(unit_vector(0), top_k=1, filters={"colour": ["red"]})

    async def test_ten_thousand_records_in_one_upsert(self, vdb: Any) -> None:
        rng = np.random.default_rng(11)
        rows = rng.normal(size=(BIG_BATCH, DIM)).astype(np.float32)
        await vdb.upsert({f"bulk-{i:05d}": entity(str(i)) for i in range(BIG_BATCH)}, rows)
        assert await vdb.count() == BIG_BATCH
        for i in (0, 5000, BIG_BATCH - 1):
            (best,) = await vdb.query(rows[i], top_k=1, threshold=0.999)
            assert (best["id"], best["entity_name"]) == (f"bulk-{i:05d}", str(i))
        found = await vdb.query(rows[7], top_k=3, threshold=-1.0, filters={"entity_name": ["7"]})
        assert [r["id"] for r in found] == ["bulk-00007"]
        await vdb.delete([f"bulk-{i:05d}" for i in range(0, BIG_BATCH, 2)])
        assert await vdb.count() == BIG_BATCH // 2

    async def test_unicode_ids_and_metadata_round_trip_unchanged(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        vdb = await self.open(factory)
        texts = list(UNICODE_TEXTS)
        await vdb.upsert(
            {text: entity(text, source_id=text[::-1]) for text in texts},
            np.eye(len(texts), DIM, dtype=np.float32),
        )
        expected = [{"id": t, "entity_name": t, "source_id": t[::-1]} for t in texts]
        assert await vdb.get(texts) == expected
        for index, text in enumerate(texts):
            found = await vdb.query(unit_vector(index), top_k=1, filters={"entity_name": [text]})
            assert [r["id"] for r in found] == [text]
        if backend.persistent:
            vdb = await factory.reopen(vdb)
            assert await vdb.get(texts) == expected

    async def test_many_records_round_trip_through_upsert_delete_and_get(self, vdb: Any) -> None:
        rng = np.random.default_rng(7)
        rows = rng.normal(size=(300, DIM)).astype(np.float32)
        await vdb.upsert({f"e{i}": entity(str(i)) for i in range(300)}, rows)
        await vdb.delete([f"e{i}" for i in range(0, 300, 3)])
        assert await vdb.count() == 200
        for i in (1, 2, 4, 299):
            (best,) = await vdb.query(rows[i], top_k=1, threshold=0.99)
            assert best["id"] == f"e{i}"
            assert best["entity_name"] == str(i)

    async def test_records_survive_finalize_and_reopen(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        if not backend.persistent:
            pytest.skip("backend does not persist across instances")
        vdb = await self.open(factory)
        await vdb.upsert(
            {"a": entity("a", weight=1.5), "b": entity("b")},
            vectors(unit_vector(0), unit_vector(1)),
        )
        await vdb.delete(["b"])
        reopened = await factory.reopen(vdb)
        assert await reopened.count() == 1
        (hit,) = await reopened.query(unit_vector(0), top_k=2)
        assert hit["id"] == "a"
        assert hit["weight"] == 1.5
        assert hit["score"] == pytest.approx(1.0, abs=1e-5)

    # database-only: two instances on one namespace and workspace; server restart

    @pytest.mark.database_only
    async def test_second_instance_sees_writes_without_reopen(
        self, factory: StorageFactory, backend: Backend
    ) -> None:
        require_shared(backend)
        writer = await self.open(factory)
        reader = await self.open(factory)
        await writer.upsert({"a": entity("a")}, vectors(unit_vector(0)))
        assert await reader.count() == 1
        assert [r["id"] for r in await reader.query(unit_vector(0), top_k=1)] == ["a"]
        await reader.delete(["a"])
        assert await writer.get(["a"]) == [None]

    @pytest.mark.database_only
    async def test_reconnects_after_the_server_restarts(self, vdb: Any, backend: Backend) -> None:
        restart = require_restart(backend)
        await vdb.upsert({"before": entity("before")}, vectors(unit_vector(0)))
        await vdb.index_done()
        await restart()
        assert [r["id"] for r in await vdb.query(unit_vector(0), top_k=1)] == ["before"]
        await vdb.upsert({"after": entity("after")}, vectors(unit_vector(1)))
        assert await vdb.count() == 2
