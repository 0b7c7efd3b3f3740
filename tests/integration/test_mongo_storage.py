"""MongoDB storages beyond the contract: one client, errors, indexes, layout, secantusdb gaps."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from integration.servers.base import RunningServer, free_port
from lightrag.storage.mongo.doc_status import MongoDocStatusStorage
from lightrag.storage.mongo.graph import MongoGraphStorage
from lightrag.storage.mongo.kv import MongoKVStorage
from lightrag.storage.mongo.vector import MongoVectorStorage
from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.errors import StorageError, StorageSchemaError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

pytestmark = pytest.mark.mongo

DATABASE = "lightrag_it"


class Opener:
    """Opens storages on one hub in a fresh workspace; drops and closes them at the end."""

    def __init__(self, uri: str, tmp_path: Path) -> None:
        self.params: dict[str, Any] = {
            "uri": uri,
            "database": DATABASE,
            "server_selection_timeout": 10.0,
        }
        self.hub = ClientHub()
        self.tmp_path = tmp_path
        self.workspace = "it_" + uuid.uuid4().hex[:10]
        self.opened: list[Any] = []

    def context(self, namespace: str, **extra: Any) -> StorageContext:
        return StorageContext(
            working_dir=self.tmp_path,
            namespace=namespace,
            workspace=self.workspace,
            clients=self.hub,
            **extra,
        )

    async def open(self, cls: type, namespace: str, **params: Any) -> Any:
        extra = {"embedding_dim": 4} if cls is MongoVectorStorage else {}
        storage = cls(self.context(namespace, **extra), {**self.params, **params})
        await storage.initialize()
        self.opened.append(storage)
        return storage

    async def close(self) -> None:
        for storage in self.opened:
            await storage.drop()
            await storage.finalize()
        await self.hub.close()


@pytest.fixture
def uri(mongo_server: RunningServer | str) -> str:
    return mongo_server if isinstance(mongo_server, str) else mongo_server.dsn


@pytest.fixture
async def opener(uri: str, tmp_path: Path) -> AsyncIterator[Opener]:
    opened = Opener(uri, tmp_path)
    yield opened
    await opened.close()


async def test_every_role_and_namespace_shares_one_client(opener: Opener) -> None:
    await opener.open(MongoKVStorage, "full_docs")
    await opener.open(MongoKVStorage, "text_chunks")
    await opener.open(MongoDocStatusStorage, "doc_status")
    await opener.open(MongoGraphStorage, "chunk_entity_relation")
    await opener.open(MongoVectorStorage, "entities", vector_search="exact")
    assert opener.hub.open_count() == 1
    for storage in list(opener.opened):
        await storage.finalize()
    assert opener.hub.open_count() == 0
    for storage in opener.opened:
        await storage.initialize()  # reopened for the fixture's drop
    assert opener.hub.open_count() == 1


async def test_workspace_is_a_collection_prefix(opener: Opener) -> None:
    kv = await opener.open(MongoKVStorage, "full_docs")
    graph = await opener.open(MongoGraphStorage, "chunk_entity_relation")
    await kv.upsert({"k": {"v": 1}})
    await graph.upsert_nodes({"A": {"x": 1}, "B": {"x": 2}})
    await graph.upsert_edges([("B", "A", {"w": 1})])
    names = await kv.client.db.list_collection_names()
    ws = opener.workspace
    assert {f"{ws}.full_docs", f"{ws}.chunk_entity_relation"} <= set(names)
    assert f"{ws}.chunk_entity_relation.edges" in names
    stored = await kv.client.db[f"{ws}.chunk_entity_relation.edges"].find_one({})
    assert stored["_id"] == '["A", "B"]' and stored["ends"] == ["A", "B"]


async def test_indexes_are_created_once_by_servers_starting_together(
    uri: str, tmp_path: Path
) -> None:
    """Three hubs (three server processes) open the same storages at once."""
    openers = [Opener(uri, tmp_path) for _ in range(3)]
    for extra in openers[1:]:
        extra.workspace = openers[0].workspace
    try:
        await asyncio.gather(
            *(
                o.open(cls, ns)
                for o in openers
                for cls, ns in [
                    (MongoDocStatusStorage, "doc_status"),
                    (MongoGraphStorage, "chunk_entity_relation"),
                ]
            )
        )
        docs = openers[0].opened[0]
        names = {index["name"] async for index in await docs.collection.list_indexes()}
        assert {"lightrag_status__id", "lightrag_status_updated_at__id"} <= names
        edges = openers[0].opened[1].edges
        edge_names = {index["name"] async for index in await edges.list_indexes()}
        assert {"lightrag_ends", "lightrag_s_t"} <= edge_names
    finally:
        for o in reversed(openers):
            await o.close()


async def test_an_unreachable_server_is_named_without_its_password(tmp_path: Path) -> None:
    port = free_port()
    ctx = StorageContext(working_dir=tmp_path, namespace="full_docs", clients=ClientHub())
    params = {
        "uri": f"mongodb://lightrag:s3cr3t-pw@127.0.0.1:{port}/",
        "server_selection_timeout": 0.5,
    }
    kv = MongoKVStorage(ctx, params)
    with pytest.raises(StorageUnavailableError) as caught:
        await kv.initialize()
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert "s3cr3t-pw" not in message
    assert ctx.clients.open_count() == 0


async def test_exact_vectors_of_another_dimension_are_refused_at_start(opener: Opener) -> None:
    vdb = await opener.open(MongoVectorStorage, "chunks", vector_search="exact")
    await vdb.upsert({"a": {}}, np.eye(4, dtype=np.float32)[:1])
    wider = MongoVectorStorage(
        opener.context("chunks", embedding_dim=6), {**opener.params, "vector_search": "exact"}
    )
    with pytest.raises(StorageSchemaError, match=r"dimension 4.*gives 6"):
        await wider.initialize()


async def test_atlas_search_on_a_server_without_it_says_how_to_fix_it(opener: Opener) -> None:
    """secantusdb (like a plain mongod) has no Atlas Search: the error names the way out."""
    kv = await opener.open(MongoKVStorage, "probe")
    info = await kv.client.db.client.server_info()
    if "secantusVersion" not in info:
        pytest.skip("LIGHTRAG_TEST_MONGO_URI is not secantusdb: it may have vector search")
    with pytest.raises(StorageError, match="MONGO_VECTOR_SEARCH=exact"):
        await opener.open(MongoVectorStorage, "entities", vector_search="atlas")


async def test_invalid_names_and_params_are_refused_before_connecting(tmp_path: Path) -> None:
    def build(namespace: str = "full_docs", **params: Any) -> MongoKVStorage:
        ctx = StorageContext(working_dir=tmp_path, namespace=namespace)
        return MongoKVStorage(ctx, params)

    with pytest.raises(ValueError, match="namespace"):
        build("bad.name")
    with pytest.raises(ValueError, match="database"):
        build(database="has space")
    with pytest.raises(ValueError, match="unknown parameter 'url'"):
        build(url="mongodb://x")


async def test_graph_lookup_walk_agrees_with_networkx_on_a_random_graph(opener: Opener) -> None:
    """The ``$graphLookup`` walk (edges by depth -> nodes by hops) against a plain BFS."""
    import random

    import networkx as nx

    rng = random.Random(13)
    names = [f"n{i:03d}" for i in range(120)]
    pairs = {tuple(sorted(rng.sample(names, 2))) for _ in range(200)} | {("n007", "n007")}
    reference = nx.Graph()
    reference.add_nodes_from(names)
    reference.add_edges_from(pairs)
    graph = await opener.open(MongoGraphStorage, "chunk_entity_relation")
    await graph.upsert_nodes({name: {"entity_id": name} for name in names})
    await graph.upsert_edges([(b, a, {"w": 1}) for a, b in pairs])  # stored either way round

    degrees = {name: len(reference.adj[name]) for name in names}
    assert await graph.node_degrees(names) == degrees
    by_degree = sorted(names, key=lambda name: (-degrees[name], name))
    assert await graph.popular_labels(len(names)) == by_degree
    for label in ("n000", "n007", "n042"):
        hops = nx.single_source_shortest_path_length(reference, label, cutoff=3)
        for depth in (1, 2, 3):
            expected = {node for node, hop in hops.items() if hop <= depth}
            kg = await graph.subgraph(label, max_depth=depth, max_nodes=1000)
            assert {node.id for node in kg.nodes} == expected, (label, depth)
            assert len(kg.edges) == reference.subgraph(expected).number_of_edges()
            assert not kg.is_truncated
        limited = await graph.subgraph(label, max_depth=3, max_nodes=10)
        chosen = [node.id for node in limited.nodes]
        assert len(chosen) == min(10, len(hops)) and limited.is_truncated == (len(hops) > 10)
        assert [hops[node] for node in chosen] == sorted(hops[node] for node in chosen)
        cutoff = max(hops[node] for node in chosen)  # every nearer node made it in
        assert {node for node, hop in hops.items() if hop < cutoff} <= set(chosen)
