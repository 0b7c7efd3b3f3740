"""The compose services themselves: PostgreSQL with pgvector and Redis answer as expected."""

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
