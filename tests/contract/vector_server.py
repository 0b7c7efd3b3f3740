"""Checks every vector storage on a server passes beyond the contract (Milvus, Chroma).

Subclass with the ``backend`` fixture of the contract and a ``down_backend`` fixture
returning ``(Backend, "127.0.0.1:<port>")``: the same backend pointed at a port where
nothing listens, with a password or token ``SECRET`` in its params when it takes one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.errors import StorageSchemaError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

from .support import DIM, Backend, StorageFactory, launcher_restart, unit_vector, vectors
from .vector import META, entity

SECRET = "s3cret-Pa55"


def server_backend(cls: type, params: dict[str, Any], server: Any, launcher: Any) -> Backend:
    """``Backend(cls, params)`` with a ``restart`` hook when the launcher started ``server``
    (not for a DSN from the environment)."""
    if isinstance(server, str):
        return Backend(cls, params)
    return Backend(cls, params, restart=launcher_restart(launcher, server))


def doc_entity(name: str, doc: str) -> dict[str, Any]:
    return {"entity_name": name, "source_id": doc}


class ServerVectorStorageChecks:
    namespace = "server_vectors"

    async def open(
        self, factory: StorageFactory, namespace: str | None = None, **extra: Any
    ) -> Any:
        extra.setdefault("embedding_dim", DIM)
        extra.setdefault("meta_fields", META)
        return await factory.open(namespace or self.namespace, **extra)

    @pytest.fixture
    async def docs(self, factory: StorageFactory) -> Any:
        """Five records close to basis vector 0, spread over three source ids."""
        vdb = await self.open(factory)
        rows = np.tile(unit_vector(0), (5, 1)) + 0.01 * np.eye(5, DIM, dtype=np.float32)
        sources = ["doc-a", "doc-b", "doc-a", 'doc "c" \\ x', "doc-b"]
        await vdb.upsert(
            {f"e{i}": doc_entity(str(i), source) for i, source in enumerate(sources)}, rows
        )
        return vdb

    async def test_filters_keep_records_whose_field_has_one_of_the_values(self, docs: Any) -> None:
        hits = await docs.query(unit_vector(0), top_k=10, filters={"source_id": ["doc-a"]})
        assert sorted(h["id"] for h in hits) == ["e0", "e2"]
        hits = await docs.query(
            unit_vector(0), top_k=10, filters={"source_id": ["doc-a", "doc-b", "nope"]}
        )
        assert sorted(h["id"] for h in hits) == ["e0", "e1", "e2", "e4"]

    async def test_filters_on_several_fields_must_all_match(self, docs: Any) -> None:
        hits = await docs.query(
            unit_vector(0),
            top_k=10,
            filters={"source_id": ["doc-a", "doc-b"], "entity_name": ["1", "2"]},
        )
        assert sorted(h["id"] for h in hits) == ["e1", "e2"]

    async def test_filter_values_with_quotes_and_backslashes_match_exactly(self, docs: Any) -> None:
        hits = await docs.query(unit_vector(0), top_k=10, filters={"source_id": ['doc "c" \\ x']})
        assert [h["id"] for h in hits] == ["e3"]
        injected = await docs.query(
            unit_vector(0), top_k=10, filters={"source_id": ['x" or meta["source_id"] != "']}
        )
        assert injected == []

    async def test_top_k_is_taken_among_the_records_that_pass_the_filter(self, docs: Any) -> None:
        hits = await docs.query(unit_vector(0), top_k=1, filters={"source_id": ["doc-b"]})
        assert len(hits) == 1
        assert hits[0]["id"] in {"e1", "e4"}

    async def test_an_empty_value_list_matches_nothing(self, docs: Any) -> None:
        assert await docs.query(unit_vector(0), top_k=10, filters={"source_id": []}) == []

    async def test_filter_on_a_field_that_is_not_metadata_is_an_error(self, docs: Any) -> None:
        with pytest.raises(ValueError, match="content"):
            await docs.query(unit_vector(0), top_k=3, filters={"content": ["x"]})

    async def test_namespaces_on_one_server_share_one_client(self, factory: StorageFactory) -> None:
        hub = ClientHub()
        stores = [await self.open(factory, f"shared_ns_{i}", clients=hub) for i in range(3)]
        assert hub.open_count() == 1
        await stores[0].upsert({"e": entity("x")}, vectors(unit_vector(0)))
        assert [await s.count() for s in stores] == [1, 0, 0]
        assert hub.open_count() == 1

    async def test_two_instances_on_one_namespace_see_each_other_at_once(
        self, factory: StorageFactory
    ) -> None:
        first = await self.open(factory, clients=ClientHub())
        second = await self.open(factory, clients=ClientHub())
        await first.upsert({"e": entity("x")}, vectors(unit_vector(2)))
        assert [h["id"] for h in await second.query(unit_vector(2), top_k=1)] == ["e"]
        await second.delete(["e"])
        assert await first.get(["e"]) == [None]

    async def test_instances_starting_together_create_the_collection_once(
        self, factory: StorageFactory
    ) -> None:
        stores = await asyncio.gather(
            *(self.open(factory, "created_together", clients=ClientHub()) for _ in range(4))
        )
        await stores[0].upsert({"e": entity("x")}, vectors(unit_vector(1)))
        assert [await s.count() for s in stores] == [1, 1, 1, 1]

    async def test_a_collection_of_another_dimension_is_refused_naming_both(
        self, factory: StorageFactory
    ) -> None:
        await self.open(factory, "dim_check")
        with pytest.raises(StorageSchemaError, match=rf"(?s)(\b{DIM}\b.*\b16\b|\b16\b.*\b{DIM}\b)"):
            await self.open(factory, "dim_check", embedding_dim=16)

    async def test_a_server_down_at_start_up_is_named_by_host_and_port(
        self, down_backend: tuple[Backend, str], tmp_path: Any
    ) -> None:
        backend, address = down_backend
        ctx = StorageContext(
            working_dir=tmp_path, namespace="down", embedding_dim=DIM, meta_fields=META
        )
        storage = backend.cls(ctx, dict(backend.params))
        with pytest.raises(StorageUnavailableError) as caught:
            await storage.initialize()
        message = str(caught.value)
        assert address in message
        assert SECRET not in message
        assert ctx.clients.open_count() == 0
