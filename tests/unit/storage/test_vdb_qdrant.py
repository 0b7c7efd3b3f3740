"""Qdrant storage (local mode): one client per directory, filters, schema and server errors."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.errors import StorageSchemaError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

pytestmark = pytest.mark.qdrant

vdb_qdrant = pytest.importorskip(
    "lightrag.storage.vdb_qdrant", reason="extra `qdrant` not installed"
)
QdrantVectorStorage = vdb_qdrant.QdrantVectorStorage

DIM = 8
META = frozenset({"name", "doc"})


def context(
    tmp_path: Path, clients: ClientHub, namespace: str = "entities", dim: int = DIM
) -> StorageContext:
    return StorageContext(
        working_dir=tmp_path, namespace=namespace, workspace="ws", embedding_dim=dim,
        meta_fields=META, cosine_threshold=0.0, clients=clients,
    )  # fmt: skip


async def opened(ctx: StorageContext, params: dict[str, Any] | None = None) -> Any:
    storage = QdrantVectorStorage(ctx, params or {})
    await storage.initialize()
    return storage


def basis(index: int) -> np.ndarray:
    vector = np.zeros((1, DIM), dtype=np.float32)
    vector[0, index] = 1.0
    return vector


async def test_namespaces_share_one_local_client_released_with_the_last(tmp_path: Path) -> None:
    hub = ClientHub()
    entities = await opened(context(tmp_path, hub, "entities"))
    chunks = await opened(context(tmp_path, hub, "chunks"))
    assert hub.open_count() == 1
    assert entities.conn is chunks.conn
    await entities.upsert({"a": {"name": "a"}}, basis(0))
    await chunks.upsert({"a": {"name": "chunk"}}, basis(0))
    assert (await entities.get(["a"]))[0] == {"id": "a", "name": "a"}
    await entities.finalize()
    assert hub.open_count() == 1  # chunks still uses it
    assert await chunks.count() == 1
    await chunks.finalize()
    assert hub.open_count() == 0
    # the directory lock is released: a new client opens it and finds the data
    again = await opened(context(tmp_path, ClientHub(), "entities"))
    assert await again.count() == 1
    await again.finalize()


async def test_two_hubs_in_one_process_share_the_local_directory(tmp_path: Path) -> None:
    first = await opened(context(tmp_path, ClientHub(), "entities"))
    second = await opened(context(tmp_path, ClientHub(), "entities"))
    await first.upsert({"a": {"name": "a"}}, basis(0))
    assert await second.get(["a"]) == [{"id": "a", "name": "a"}]
    await first.finalize()
    await second.finalize()


async def test_local_mode_instances_are_not_shared_across_processes(tmp_path: Path) -> None:
    storage = QdrantVectorStorage(context(tmp_path, ClientHub()), {})
    assert storage.shared is False
    assert QdrantVectorStorage.shared is True  # what a server-mode instance does
    server = QdrantVectorStorage(context(tmp_path, ClientHub()), {"url": "http://qdrant:6333"})
    assert server.shared is True


async def test_collection_of_another_dimension_is_refused_naming_both(tmp_path: Path) -> None:
    hub = ClientHub()
    storage = await opened(context(tmp_path, hub))
    await storage.upsert({"a": {"name": "a"}}, basis(0))
    with pytest.raises(StorageSchemaError, match=r"holds 8-dimensional .* gives 16"):
        await opened(context(tmp_path, hub, dim=16))
    assert hub.open_count() == 1  # the failed storage released its use of the client
    await storage.finalize()
    assert hub.open_count() == 0


async def test_filters_take_top_k_among_the_passing_records(tmp_path: Path) -> None:
    storage = await opened(context(tmp_path, ClientHub()))
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(200, DIM)).astype(np.float32)
    records = {
        f"e{i}": {"name": f"n{i}", "doc": "d-rare" if i % 50 == 0 else "d-common"}
        for i in range(200)
    }
    await storage.upsert(records, rows)
    query = rows[1]
    unfiltered = await storage.query(query, top_k=3, threshold=-1.0)
    assert all(r["doc"] == "d-common" for r in unfiltered)
    results = await storage.query(query, top_k=3, threshold=-1.0, filters={"doc": ["d-rare"]})
    assert len(results) == 3
    assert {r["id"] for r in results} < {"e0", "e50", "e100", "e150"}
    both = await storage.query(
        query, top_k=10, threshold=-1.0, filters={"doc": ["d-rare"], "name": ["n0", "n50"]}
    )
    assert sorted(r["id"] for r in both) == ["e0", "e50"]
    with pytest.raises(ValueError, match=r"cannot filter on 'secret'"):
        await storage.query(query, top_k=1, filters={"secret": ["x"]})
    await storage.finalize()


async def test_a_server_that_is_down_is_named_without_the_key(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"https://127.0.0.1:{port}"
    hub = ClientHub()
    storage = QdrantVectorStorage(
        context(tmp_path, hub), {"url": url, "api_key": "very-secret-key", "timeout": 2}
    )
    with pytest.raises(
        StorageUnavailableError, match=rf"qdrant: cannot reach the server at {url}"
    ) as info:
        await storage.initialize()
    assert "very-secret-key" not in str(info.value)
    assert hub.open_count() == 0


def test_point_ids_are_stable_uuids_scoped_by_workspace() -> None:
    assert vdb_qdrant.point_id("ws", "a") == vdb_qdrant.point_id("ws", "a")
    assert vdb_qdrant.point_id("ws", "a") != vdb_qdrant.point_id("other", "a")
