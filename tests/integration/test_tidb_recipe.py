"""End to end through the real server process on the ``tidb`` recipe: every storage role
(KV, vectors, graph, doc status) on one real TiDB.

Ingest, query in every mode, delete a document, restart the server, query again (the
steps of ``test_backend_recipes``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .servers._mysql import MySQLTestServer
from .test_backend_recipes import _exercise

pytestmark = [pytest.mark.integration, pytest.mark.tidb]


def _tidb_env(server: MySQLTestServer) -> dict[str, str]:
    params = server.params
    return {
        "TIDB_HOST": str(params["host"]),
        "TIDB_PORT": str(params["port"]),
        "TIDB_USER": str(params["user"]),
        "TIDB_PASSWORD": str(params["password"]),
        "TIDB_DATABASE": str(params["database"]),
        # the contract suite's vector table on this server holds another dimension
        "TIDB_VECTOR_TABLE": "e2e_vectors",
    }


def test_tidb_recipe_ingests_queries_deletes_and_survives_a_restart(
    tmp_path: Path, tidb_server: MySQLTestServer
) -> None:
    _exercise(tmp_path, ["+recipe=tidb"], _tidb_env(tidb_server))
    # the graph the server answered from is TiDB's: the entities are rows there
    names = _entities_in_tidb(tidb_server)
    assert "Alice Smith" in names and "Carol White" not in names, names


def _entities_in_tidb(server: MySQLTestServer) -> set[str]:
    import pymysql

    params = server.params
    conn = pymysql.connect(
        host=params["host"],
        port=params["port"],
        user=params["user"],
        password=params["password"],
        database=params["database"],
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM lightrag_graph_nodes WHERE workspace LIKE 'e2e!_%' ESCAPE '!'"
            )
            return {row[0].decode() for row in cursor.fetchall()}
    finally:
        conn.close()
