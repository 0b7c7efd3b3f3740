"""The graph contract suite run against the Neo4j graph storage on a real Neo4j 5.26.

The server comes from ``LIGHTRAG_TEST_NEO4J_URI`` or is started by the launcher
(``tests/integration/servers/neo4j.py``: Neo4j Community embedded, built with Maven);
without either the tests skip, saying why.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lightrag.storage.neo4j.client import Neo4jConfig
from lightrag.storage.neo4j.graph import Neo4jGraphStorage
from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.errors import StorageError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

from .graph import GraphStorageContract
from .support import Backend

pytestmark = pytest.mark.neo4j


def neo4j_backend(cls: type, server: Any) -> Backend:
    """The backend with the server's params, and its restart hook (the suite's reconnect
    tests) when the server was started by the launcher."""
    extra: dict[str, Any] = {}
    if server.can_restart:

        async def restart() -> None:
            await asyncio.to_thread(server.restart)

        extra["restart"] = restart
    return Backend(cls, dict(server.params), **extra)


class TestNeo4jGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, neo4j_server: Any) -> Backend:
        return neo4j_backend(Neo4jGraphStorage, neo4j_server)


# What the Neo4j graph storage adds beyond the contract: schema made once by servers
# starting together, the workspace as a property of the one database, clear start-up errors.


def _context(tmp_path: Any, workspace: str, hub: ClientHub | None = None) -> StorageContext:
    return StorageContext(
        working_dir=tmp_path,
        namespace="chunk_entity_relation",
        workspace=workspace,
        clients=hub or ClientHub(),
    )


async def _schema_names(graph: Neo4jGraphStorage) -> list[str]:
    records = await graph._db.fetch(
        "SHOW INDEXES YIELD name WHERE name STARTS WITH 'lightrag_entity' RETURN name",
        "list indexes",
    )
    return sorted(r["name"] for r in records)


async def test_servers_starting_together_create_the_schema_once(
    neo4j_server: Any, tmp_path: Any
) -> None:
    params = dict(neo4j_server.params)
    first = Neo4jGraphStorage(_context(tmp_path, "schema_a"), params)
    await first.initialize()
    for statement in ("DROP CONSTRAINT lightrag_entity_id", "DROP INDEX lightrag_entity_search"):
        await first._db.execute(statement, "drop the schema")
    await first.finalize()
    graphs = [Neo4jGraphStorage(_context(tmp_path, f"schema_{i}"), params) for i in range(4)]
    try:
        await asyncio.gather(*(graph.initialize() for graph in graphs))  # four drivers
        assert await _schema_names(graphs[0]) == ["lightrag_entity_id", "lightrag_entity_search"]
        await asyncio.gather(*(g.upsert_nodes({"A": {"by": i}}) for i, g in enumerate(graphs)))
        assert [await g.node_count() for g in graphs] == [1, 1, 1, 1]
    finally:
        for graph in graphs:
            await graph.drop()
            await graph.finalize()
            await graph.ctx.clients.close()


async def test_workspaces_are_a_node_property_of_the_one_database(
    neo4j_server: Any, tmp_path: Any
) -> None:
    hub = ClientHub()
    graphs = [
        Neo4jGraphStorage(_context(tmp_path, workspace, hub), dict(neo4j_server.params))
        for workspace in ("prop_ws_a", "prop_ws_b")
    ]
    try:
        for graph in graphs:
            await graph.initialize()
            await graph.upsert_nodes({"Same Name": {"_workspace": "theirs", "rank": 1}})
        assert hub.open_count() == 1  # one driver for both
        records = await graphs[0]._db.fetch(
            "MATCH (n:LightRAGEntity {_id: 'Same Name'}) WHERE n._workspace STARTS WITH 'prop_ws_'"
            " RETURN n._workspace AS ws, n.rank AS rank ORDER BY ws",
            "read back",
        )
        assert [(r["ws"], r["rank"]) for r in records] == [("prop_ws_a", 1), ("prop_ws_b", 1)]
        # a record property named like the storage's own is kept apart, and comes back
        assert await graphs[1].get_node("Same Name") == {"_workspace": "theirs", "rank": 1}
    finally:
        for graph in graphs:
            await graph.drop()
            await graph.finalize()
        await hub.close()


async def test_wrong_password_is_refused_naming_host_and_user_not_the_password(
    neo4j_server: Any, tmp_path: Any
) -> None:
    params = {**neo4j_server.params, "password": "not-the-Pa55word"}
    graph = Neo4jGraphStorage(_context(tmp_path, "auth"), params)
    with pytest.raises(StorageUnavailableError) as caught:
        await graph.initialize()
    message = str(caught.value)
    assert Neo4jConfig(**params).address() in message and repr(params["username"]) in message
    assert "not-the-Pa55word" not in message
    assert graph.ctx.clients.open_count() == 0


async def test_a_database_community_cannot_have_is_named_with_the_fix(
    neo4j_server: Any, tmp_path: Any
) -> None:
    params = {**neo4j_server.params, "database": "team_a"}
    graph = Neo4jGraphStorage(_context(tmp_path, "db"), params)
    with pytest.raises(StorageError, match=r"no database 'team_a'.*NEO4J_DATABASE=neo4j"):
        await graph.initialize()
