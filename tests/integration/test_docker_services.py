"""The compose services themselves: PostgreSQL with pgvector, Redis, Neo4j Community, Gremlin
Server (TinkerGraph) and the MongoDB-protocol server answer as expected."""

from __future__ import annotations

import asyncpg
import pytest
import redis.asyncio as aioredis

from .servers.compose import DockerBackends

pytestmark = [pytest.mark.docker, pytest.mark.integration]


async def test_postgres_service_has_pgvector(docker_backends: DockerBackends) -> None:
    params = docker_backends.postgres
    conn = await asyncpg.connect(
        host=params["host"],
        port=params["port"],
        user=params["user"],
        password=params["password"],
        database=params["database"],
    )
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        distance = await conn.fetchval("SELECT '[1,0]'::vector <=> '[0,1]'::vector")
    finally:
        await conn.close()
    assert distance == pytest.approx(1.0)


async def test_redis_service_round_trips_a_value(docker_backends: DockerBackends) -> None:
    client = aioredis.Redis.from_url(docker_backends.redis_uri)
    try:
        await client.set("lightrag:docker:probe", "ok")
        assert await client.get("lightrag:docker:probe") == b"ok"
    finally:
        await client.aclose()


async def test_neo4j_service_is_community_5_26_with_auth_on(
    docker_backends: DockerBackends,
) -> None:
    import neo4j

    docker_backends.require("neo4j")
    params = docker_backends.neo4j
    auth = (params["username"], params["password"])
    async with neo4j.AsyncGraphDatabase.driver(params["uri"], auth=auth) as driver:
        records, _, _ = await driver.execute_query(
            "CALL dbms.components() YIELD edition, versions RETURN edition, versions[0] AS v"
        )
    assert records[0]["edition"] == "community"
    assert records[0]["v"].startswith("5.26.")
    wrong = (params["username"], "not-the-password")
    async with neo4j.AsyncGraphDatabase.driver(params["uri"], auth=wrong) as driver:
        with pytest.raises(neo4j.exceptions.AuthError):
            await driver.verify_connectivity()


def test_gremlin_service_evaluates_on_tinkergraph(docker_backends: DockerBackends) -> None:
    from gremlin_python.driver.client import Client

    docker_backends.require("gremlin")
    client = Client(docker_backends.gremlin_url, "g")
    try:
        graph = client.submit("graph.toString()").all().result()
        count = client.submit("g.inject(1, 2, 3).count()").all().result()
    finally:
        client.close()
    assert graph[0].startswith("tinkergraph[")
    assert count == [3]


async def test_mongo_service_round_trips_a_document(docker_backends: DockerBackends) -> None:
    from pymongo import AsyncMongoClient

    docker_backends.require("mongo")
    client: AsyncMongoClient = AsyncMongoClient(
        docker_backends.mongo_uri, serverSelectionTimeoutMS=5000
    )
    try:
        collection = client["lightrag_docker_probe"]["probe"]
        await collection.replace_one({"_id": "probe"}, {"_id": "probe", "v": "ok"}, upsert=True)
        assert await collection.find_one({"_id": "probe"}) == {"_id": "probe", "v": "ok"}
        await client.drop_database("lightrag_docker_probe")
    finally:
        await client.close()
