"""Workspaces on PostgreSQL (every role and the coordination): two workspaces share one
connection pool and never see each other's data; deleting one removes its rows from every
table while the other keeps its own; an unknown workspace writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lightrag.config.models import AppConfig, BackendChoice, ServerConfig, StorageConfig
from lightrag.storage.postgres.client import PostgresClient, PostgresConfig
from tests.unit.server.server_support import running_app
from tests.unit.server.workspace_support import (
    ALPHA,
    ALPHA_ONLY,
    ALPHA_WORDS,
    BETA,
    BETA_ONLY,
    BETA_WORDS,
    assert_only,
    create,
    ingest,
    pool_of,
    ws,
)

pytestmark = pytest.mark.postgres

VECTOR_TABLE = "ws_it_vectors"  # the fake embedder's dimension (64), apart from others
TABLES = (
    "lightrag_kv",
    "lightrag_doc_status",
    "lightrag_graph_nodes",
    "lightrag_graph_edges",
    VECTOR_TABLE,
)


@pytest.fixture
async def database(postgres_server: Any) -> AsyncIterator[dict[str, Any]]:
    """Params of a new, empty database, dropped afterwards."""
    params = dict(postgres_server.params)
    name = "lr_ws_" + uuid.uuid4().hex[:10]
    admin = PostgresClient(PostgresConfig(**params))
    await admin.open()
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield {**params, "database": name}
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def _config(tmp_path: Path, params: dict[str, Any]) -> AppConfig:
    def pg(**extra: Any) -> BackendChoice:
        return BackendChoice.model_validate({"type": "postgres", **params, **extra})

    return AppConfig(
        server=ServerConfig(working_dir=tmp_path / "rag", input_dir=tmp_path / "inputs"),
        storage=StorageConfig(
            kv=pg(), vector=pg(vector_table=VECTOR_TABLE), graph=pg(), doc_status=pg()
        ),
        coordination=pg(),
        llm=BackendChoice(type="fake"),
        embedding=BackendChoice(type="fake"),
    )


async def _rows(params: dict[str, Any], workspace: str) -> dict[str, int]:
    client = PostgresClient(PostgresConfig(**params))
    await client.open()
    try:
        return {
            table: int(
                await client.fetchval(
                    f"SELECT count(*) FROM {table} WHERE workspace = $1", workspace
                )
            )
            for table in TABLES
        }
    finally:
        await client.close()


async def test_two_workspaces_on_postgres_are_isolated_and_share_one_pool(
    tmp_path: Path, database: dict[str, Any]
) -> None:
    async with running_app(_config(tmp_path, database)) as (client, app):
        await create(client, "alpha")
        await create(client, "beta")
        await ingest(client, "alpha", ALPHA, "curie.txt")
        # one pool for the storages, one for the coordination's locks: per database,
        # not per workspace
        pools = app.state.clients.open_count()
        assert pools == 2
        await ingest(client, "beta", BETA, "brahe.txt")
        assert app.state.clients.open_count() == pools
        for name, mine, theirs, own, other in (
            ("alpha", ALPHA_ONLY, BETA_ONLY, ALPHA_WORDS, BETA_WORDS),
            ("beta", BETA_ONLY, ALPHA_ONLY, BETA_WORDS, ALPHA_WORDS),
        ):
            question = "What about Marie Curie and Tycho Brahe?"
            data = await client.post(
                "/query/data", json={"query": question, "mode": "mix"}, headers=ws(name)
            )
            assert data.status_code == 200, data.text
            assert_only(str(data.json()["data"]), mine, theirs)
            answer = await client.post(
                "/query",
                json={"query": question, "include_references": True},
                headers=ws(name),
            )
            assert_only(answer.text, mine, theirs)
            labels = (await client.get("/graph/label/list", headers=ws(name))).json()
            assert_only(" ".join(labels), own, other)
            docs = (await client.get("/documents", headers=ws(name))).text
            assert_only(docs, mine, theirs)
            chat = await client.post(
                "/api/chat",
                json={
                    "model": f"lightrag:{name}",
                    "stream": False,
                    "messages": [{"role": "user", "content": question}],
                },
            )
            assert chat.status_code == 200, chat.text
            assert_only(chat.text, mine, theirs)

        before = await _rows(database, "alpha")
        assert all(before[table] > 0 for table in TABLES), before
        beta_before = await _rows(database, "beta")
        gone = await client.delete("/workspaces/alpha", params={"confirm": "alpha"})
        assert gone.status_code == 200, gone.text
        assert await _rows(database, "alpha") == dict.fromkeys(TABLES, 0)
        assert await _rows(database, "beta") == beta_before
        assert (await client.get("/documents", headers=ws("alpha"))).status_code == 404

        unknown = await client.get("/documents", headers=ws("gamma"))
        assert unknown.status_code == 404 and "GET /workspaces" in unknown.text
        assert await _rows(database, "gamma") == dict.fromkeys(TABLES, 0)
        assert pool_of(app).get_open("gamma") is None


async def test_the_workspace_registry_on_postgres_is_shared_by_servers(
    tmp_path: Path, database: dict[str, Any]
) -> None:
    """Two servers on one database (replicas): a workspace created through one exists
    for the other, which also answers with its data."""
    config_a = _config(tmp_path / "a", database)
    config_b = _config(tmp_path / "b", database)
    async with (
        running_app(config_a) as (first, _app_a),
        running_app(config_b) as (second, _app_b),
    ):
        await create(first, "shared")
        await ingest(first, "shared", ALPHA, "curie.txt")
        names = [w["name"] for w in (await second.get("/workspaces")).json()["workspaces"]]
        assert names == ["", "shared"]
        docs = (await second.get("/documents", headers=ws("shared"))).text
        assert "curie.txt" in docs
