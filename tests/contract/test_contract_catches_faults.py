"""The contract suite fails on backends with typical faults (it is not vacuous)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lightrag.storage.docstatus_json import JsonDocStatusStorage
from lightrag.storage.graph_networkx import NetworkXGraphStorage
from lightrag.storage.kv_json import JsonKVStorage
from lightrag.storage.vdb_nano import NanoVectorStorage
from lightrag.vocabulary.storage import StorageContext

from .doc_status import DocStatusStorageContract, seed_five_docs
from .graph import GraphStorageContract
from .kv import KVStorageContract
from .support import Backend, StorageFactory
from .vector import VectorStorageContract


class KVDroppingUnknownKeys(JsonKVStorage):
    async def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        return [record for record in await super().get_many(keys) if record is not None]


class KVForgettingOnReopen(JsonKVStorage):
    async def initialize(self) -> None:
        await super().initialize()
        self._data.clear()


class KVWithSyncGet(JsonKVStorage):
    def get(self, key: str) -> Any:  # type: ignore[override]  # the fault: not async
        return self._data.get(key)


class KVIgnoringWorkspace(JsonKVStorage):
    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        super().__init__(dataclasses.replace(ctx, workspace=""), params)


class KVPrefixAsLikePattern(JsonKVStorage):
    async def delete_prefix(self, prefix: str) -> int:
        pattern = re.compile(prefix.replace("%", ".*").replace("_", "."))
        doomed = [key for key in await self.keys() if pattern.match(key)]
        await self.delete(doomed)
        return len(doomed)


class KVLastWriterLosesKeys(JsonKVStorage):
    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        await super().upsert({f"{key}#{len(self._data)}": value for key, value in data.items()})


class VectorFilteringAfterTopK(NanoVectorStorage):
    async def query(
        self,
        vector: np.ndarray,
        top_k: int,
        *,
        threshold: float | None = None,
        filters: Mapping[str, Collection[str]] | None = None,
    ) -> list[dict[str, Any]]:
        found = await super().query(vector, top_k, threshold=threshold)
        return [r for r in found if all(r.get(k) in v for k, v in (filters or {}).items())]


class GraphEdgesOneByOne(NetworkXGraphStorage):
    async def upsert_edges(self, edges: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        for one in edges:  # each edge on its own: those before a missing endpoint land
            await super().upsert_edges([one])


class DocStatusIgnoringAfterId(JsonDocStatusStorage):
    async def by_status(
        self, statuses: Sequence[str], *, limit: int | None = None, after_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        return await super().by_status(statuses, limit=limit)


class VectorIgnoringThreshold(NanoVectorStorage):
    async def query(
        self, vector: np.ndarray, top_k: int, *, threshold: float | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        return await super().query(vector, top_k, threshold=-1.0, **kw)


class DirectedGraph(NetworkXGraphStorage):
    async def has_edge(self, source: str, target: str) -> bool:
        return await super().has_edge(source, target) and source <= target


class SubgraphNeverTruncated(NetworkXGraphStorage):
    async def subgraph(self, label: str, max_depth: int, max_nodes: int) -> Any:
        kg = await super().subgraph(label, max_depth, max_nodes)
        return kg.model_copy(update={"is_truncated": False})


class DocStatusIgnoringDirection(JsonDocStatusStorage):
    async def paginated(self, **kwargs: Any) -> Any:
        kwargs["sort_desc"] = True
        return await super().paginated(**kwargs)


@pytest.mark.parametrize(
    ("contract", "backend_cls", "test_name", "fixture"),
    [
        (
            KVStorageContract(),
            KVDroppingUnknownKeys,
            "test_get_many_follows_the_order_of_keys_with_none_for_unknown",
            "storage",
        ),
        (
            KVStorageContract(),
            KVForgettingOnReopen,
            "test_records_survive_finalize_and_reopen",
            "factory",
        ),
        (
            VectorStorageContract(),
            VectorIgnoringThreshold,
            "test_orthogonal_records_are_below_the_default_threshold",
            "three",
        ),
        (GraphStorageContract(), DirectedGraph, "test_edges_are_undirected", "storage"),
        (
            KVStorageContract(),
            KVWithSyncGet,
            "test_satisfies_the_kv_protocol_with_coroutine_methods",
            "storage",
        ),
        (
            KVStorageContract(),
            KVIgnoringWorkspace,
            "test_workspaces_do_not_see_each_other",
            "factory",
        ),
        (
            KVStorageContract(),
            KVPrefixAsLikePattern,
            "test_delete_prefix_matches_wildcard_characters_literally",
            "storage",
        ),
        (
            KVStorageContract(),
            KVLastWriterLosesKeys,
            "test_concurrent_upserts_of_the_same_keys_keep_one_record_each",
            "storage",
        ),
        (
            VectorStorageContract(),
            VectorFilteringAfterTopK,
            "test_filters_apply_before_top_k",
            "vdb",
        ),
        (
            GraphStorageContract(),
            GraphEdgesOneByOne,
            "test_upsert_edges_with_a_missing_endpoint_writes_nothing",
            "storage",
        ),
        (
            DocStatusStorageContract(),
            DocStatusIgnoringAfterId,
            "test_by_status_limit_and_after_id_page_by_doc_id",
            "storage",
        ),
    ],
    ids=[
        "kv-get-many-drops-none",
        "kv-forgets-on-reopen",
        "vector-ignores-threshold",
        "graph-directed",
        "kv-sync-get",
        "kv-ignores-workspace",
        "kv-prefix-as-like-pattern",
        "kv-same-key-writes-duplicate",
        "vector-filters-after-top-k",
        "graph-edge-batch-not-atomic",
        "doc-status-ignores-after-id",
    ],
)
async def test_contract_fails_a_faulty_backend(
    tmp_path: Path, contract: Any, backend_cls: type, test_name: str, fixture: str
) -> None:
    factory = StorageFactory(Backend(backend_cls), tmp_path)
    try:
        if fixture == "three":
            storage = await contract.open(factory)
            await storage.upsert({"e0": {}, "e1": {}, "e2": {}}, np.eye(3, 8, dtype=np.float32))
            call = getattr(contract, test_name)(storage)
        elif fixture == "vdb":
            call = getattr(contract, test_name)(await contract.open(factory))
        elif fixture == "factory":
            call = getattr(contract, test_name)(factory, Backend(backend_cls))
        else:
            storage = await factory.open(contract.namespace)
            call = getattr(contract, test_name)(storage)
        with pytest.raises(AssertionError):
            await call
    finally:
        await factory.close()


async def test_graph_contract_fails_a_subgraph_that_hides_truncation(tmp_path: Path) -> None:
    factory = StorageFactory(Backend(SubgraphNeverTruncated), tmp_path)
    contract = GraphStorageContract()
    try:
        graph = await factory.open(contract.namespace)
        for name in ("hub", "a", "b", "c", "d", "z"):
            await graph.upsert_node(name, {})
        for source, target in (("hub", "a"), ("hub", "b"), ("hub", "c"), ("c", "d")):
            await graph.upsert_edge(source, target, {})
        with pytest.raises(AssertionError):
            await contract.test_subgraph_truncates_at_max_nodes_and_says_so(graph)
    finally:
        await factory.close()


async def test_doc_status_contract_fails_a_backend_ignoring_sort_direction(
    tmp_path: Path,
) -> None:
    factory = StorageFactory(Backend(DocStatusIgnoringDirection), tmp_path)
    contract = DocStatusStorageContract()
    try:
        docs = await factory.open(contract.namespace)
        with pytest.raises(AssertionError):
            await contract.test_paginated_filters_by_status_and_counts_matches(
                await seed_five_docs(docs)
            )
    finally:
        await factory.close()
