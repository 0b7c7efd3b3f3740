"""The coordination contract against ``local`` (in process), PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from lightrag.core.local_coordination import LocalCoordinator
from lightrag.vocabulary.coordination import CoordinationUnavailableError, HoldTimeoutError

from .coordination import CoordinationContract, Replica, _stop_heartbeat


class TestLocalCoordination(CoordinationContract):
    in_process: ClassVar[bool] = True

    @pytest.fixture
    def coordination(self) -> tuple[type, dict[str, Any]]:
        return LocalCoordinator, {}


@pytest.mark.postgres
class TestPostgresCoordination(CoordinationContract):
    @pytest.fixture
    def coordination(self, postgres_server: Any) -> tuple[type, dict[str, Any]]:
        from lightrag.storage.postgres.coordination import PostgresCoordinator

        return PostgresCoordinator, dict(postgres_server.params)


@pytest.mark.redis
class TestRedisCoordination(CoordinationContract):
    @pytest.fixture
    def coordination(self, redis_server: Any) -> tuple[type, dict[str, Any]]:
        from lightrag.storage.redis.coordination import RedisCoordinator

        uri = redis_server if isinstance(redis_server, str) else redis_server.dsn
        return RedisCoordinator, {"uri": uri}

    async def test_a_killed_replicas_hold_frees_after_its_lease(self, replica: Replica) -> None:
        a = await replica("a", lease_seconds=1.0)
        b = await replica("b", lease_seconds=1.0)
        async with a.hold(["e1"]):
            await asyncio.sleep(1.5)  # the heartbeat keeps a live hold
            with pytest.raises(HoldTimeoutError, match="e1"):
                async with b.hold(["e1"], timeout=0.2):
                    pytest.fail("b held a key a holds")
            await _stop_heartbeat(a)  # what a killed replica does
            async with b.hold(["e1"], timeout=3.0):
                pass

    async def test_a_claim_taken_over_fails_confirm_and_is_not_released(
        self, replica: Replica
    ) -> None:
        a = await replica("a", lease_seconds=1.0)
        b = await replica("b", lease_seconds=1.0)
        (held,) = await a.claim(["d1"], 1)
        await _stop_heartbeat(a)
        await asyncio.sleep(1.3)
        (taken,) = await b.claim(["d1"], 1)
        await a.release([held])  # compare-and-delete: b's claim stays
        assert await a.claim(["d1"], 1) == []
        await b.confirm(taken)

    async def test_a_silent_replica_is_not_listed(self, replica: Replica) -> None:
        a = await replica("a", replica_timeout=0.5)
        b = await replica("b", replica_timeout=0.5)
        await a.publish_status({"replica": "a"})
        await asyncio.sleep(0.7)
        await b.publish_status({"replica": "b"})
        assert await a.statuses() == [{"replica": "b"}]

    async def test_unreachable_redis_is_coordination_unavailable(self, replica: Replica) -> None:
        from redis.asyncio import Redis

        with pytest.raises(CoordinationUnavailableError, match=r"127\.0\.0\.1:1"):
            await replica("down", uri="redis://127.0.0.1:1/0", connect_timeout=0.5)
        a = await replica("a")
        live = a.client._redis  # type: ignore[attr-defined]
        a.client._redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)  # type: ignore[attr-defined]
        try:
            with pytest.raises(CoordinationUnavailableError):
                await a.claim(["d1"], 1)
            with pytest.raises(CoordinationUnavailableError):
                await a.check()
        finally:
            await a.client._redis.aclose()  # type: ignore[attr-defined]
            a.client._redis = live  # type: ignore[attr-defined]
