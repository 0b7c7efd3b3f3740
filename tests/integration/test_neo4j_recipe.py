"""End to end through the real server process on the ``neo4j`` recipe: the graph in Neo4j,
everything else (KV, vectors, doc status, coordination) in PostgreSQL.

Ingest, query in every mode, delete a document, restart the server, query again (the
steps of ``test_backend_recipes``). Marked ``neo4j`` only, so that the PostgreSQL run of
``scripts/test-backends.sh`` does not also start a Neo4j; the ``neo4j`` run starts both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .servers.neo4j import Neo4jTestServer
from .servers.postgres import PostgresTestServer
from .test_backend_recipes import _exercise, _postgres_env

pytestmark = [pytest.mark.integration, pytest.mark.neo4j]


def _neo4j_env(server: Neo4jTestServer) -> dict[str, str]:
    return {
        "NEO4J_URI": server.uri,
        "NEO4J_USERNAME": str(server.params["username"]),
        "NEO4J_PASSWORD": str(server.params["password"]),
    }


def test_neo4j_recipe_ingests_queries_deletes_and_survives_a_restart(
    tmp_path: Path, neo4j_server: Neo4jTestServer, postgres_server: PostgresTestServer
) -> None:
    env = {**_postgres_env(postgres_server), **_neo4j_env(neo4j_server)}
    _exercise(tmp_path, ["+recipe=neo4j"], env)
    # the graph the server answered from is Neo4j's: the entities are nodes there
    names = _entities_in_neo4j(neo4j_server)
    assert "Alice Smith" in names and "Carol White" not in names, names


def _entities_in_neo4j(server: Neo4jTestServer) -> set[str]:
    from neo4j import GraphDatabase

    params = server.params
    with GraphDatabase.driver(
        params["uri"], auth=(params["username"], params["password"])
    ) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (n:LightRAGEntity) WHERE n._workspace STARTS WITH 'e2e_' RETURN n._id AS id"
        )
    return {record["id"] for record in records}
