"""The contract every ``Coordinator`` keeps (``lightrag.vocabulary.coordination``).

A test class subclasses ``CoordinationContract`` and gives the fixture
``coordination`` -> ``(class, params)``. Each test uses a fresh workspace; replicas are
coordinators with distinct replica ids on that workspace. Tests of what only a shared
coordinator can do (two replicas, leases) are deselected for ``local``.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from lightrag.storage._heartbeat import LeaseHeartbeat
from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.coordination import (
    ClaimLostError,
    CoordinationContext,
    Coordinator,
    HoldTimeoutError,
)

Replica = Callable[..., Awaitable[Coordinator]]

shared_only = pytest.mark.database_only  # left out for in_process (local) classes


class CoordinationContract:
    @pytest.fixture
    def coordination(self) -> tuple[type, dict[str, Any]]:
        raise NotImplementedError

    @pytest.fixture
    async def replica(self, coordination: tuple[type, dict[str, Any]]) -> AsyncIterator[Replica]:
        cls, params = coordination
        workspace = f"t{uuid.uuid4().hex[:10]}"
        opened: list[Coordinator] = []

        async def make(name: str = "a", *, workspace_name: str | None = None, **extra: Any):
            ctx = CoordinationContext(
                workspace=workspace_name or workspace,
                replica_id=f"{name}-{uuid.uuid4().hex[:6]}",
                clients=ClientHub(),  # one hub per replica: replicas share no pool
            )
            coordinator = cls(ctx, {**params, **extra}) if cls.shared else cls(ctx)
            await coordinator.initialize()
            opened.append(coordinator)
            return coordinator

        yield make
        for coordinator in opened:
            await coordinator.finalize()

    async def test_follows_the_protocol(self, replica: Replica) -> None:
        assert isinstance(await replica(), Coordinator)

    async def test_claims_in_order_up_to_the_limit(self, replica: Replica) -> None:
        a = await replica()
        claims = await a.claim(["d3", "d1", "d2"], 2)
        assert [c.doc_id for c in claims] == ["d3", "d1"]
        assert len({c.token for c in claims}) == 2
        again = await a.claim(["d3", "d1", "d2"], 5)
        assert [c.doc_id for c in again] == ["d2"]  # its own live claims are not handed out
        assert await a.claim([], 3) == [] and await a.claim(["d9"], 0) == []

    async def test_a_released_claim_can_be_claimed_with_a_new_token(self, replica: Replica) -> None:
        a = await replica()
        (first,) = await a.claim(["d1"], 1)
        await a.confirm(first)
        await a.release([first])
        with pytest.raises(ClaimLostError):
            await a.confirm(first)
        (second,) = await a.claim(["d1"], 1)
        assert second.token > first.token

    async def test_holds_exclude_overlapping_key_sets_only(self, replica: Replica) -> None:
        a = await replica()
        async with a.hold(["x", "y"]):
            with pytest.raises(HoldTimeoutError, match="y"):
                async with a.hold(["y", "z"], timeout=0.2):
                    pytest.fail("an overlapping hold was granted")
            async with a.hold(["z"], timeout=1.0):
                pass
        async with a.hold(["y", "z"], timeout=1.0):
            pass

    async def test_holds_never_deadlock_and_never_overlap(self, replica: Replica) -> None:
        replicas = [await replica("a")]
        if type(replicas[0]).shared:
            replicas.append(await replica("b"))
        rng = random.Random(5)
        keys = [f"k{i}" for i in range(6)]
        inside: set[str] = set()
        entered = 0

        async def worker(coordinator: Coordinator, wanted: list[str]) -> None:
            nonlocal entered
            async with coordinator.hold(wanted, timeout=30):
                assert inside.isdisjoint(wanted), f"{wanted} overlaps {inside}"
                inside.update(wanted)
                entered += 1
                await asyncio.sleep(0.002)
                inside.difference_update(wanted)

        jobs = [
            worker(replicas[i % len(replicas)], rng.sample(keys, rng.randint(1, 3)))
            for i in range(60)
        ]
        await asyncio.wait_for(asyncio.gather(*jobs), timeout=60)
        assert entered == 60

    async def test_try_hold_takes_the_free_keys_and_never_waits(self, replica: Replica) -> None:
        a = await replica()
        async with a.try_hold(["x"]) as first:
            assert first == {"x"}
            async with asyncio.timeout(2):  # never waits for the taken key
                async with a.try_hold(["x", "y"]) as second:
                    assert second == {"y"}
                    async with a.try_hold(["x", "y"]) as third:
                        assert third == frozenset()
        async with a.try_hold(["x", "y"]) as again:  # both were released on exit
            assert again == {"x", "y"}

    async def test_cancel_epoch_counts_requests(self, replica: Replica) -> None:
        a = await replica()
        before = await a.cancel_epoch()
        assert await a.request_cancel() == before + 1
        assert await a.cancel_epoch() == before + 1

    async def test_status_snapshots(self, replica: Replica) -> None:
        a = await replica()
        await a.publish_status({"replica": a.replica_id, "busy": True})
        await a.publish_status({"replica": a.replica_id, "busy": False})
        assert await a.statuses() == [{"replica": a.replica_id, "busy": False}]

    # shared coordinators: several replicas ------------------------------------------

    @shared_only
    async def test_two_replicas_never_get_one_document(self, replica: Replica) -> None:
        a, b = await replica("a"), await replica("b")
        docs = [f"doc{i:03d}" for i in range(60)]
        results = await asyncio.gather(
            *(coordinator.claim(docs, 7) for _ in range(5) for coordinator in (a, b))
        )
        claimed = [c.doc_id for result in results for c in result]
        assert len(claimed) == len(set(claimed)) == 60

    @shared_only
    async def test_another_replica_resumes_when_the_lease_ends(self, replica: Replica) -> None:
        a = await replica("a", lease_seconds=1.0)
        b = await replica("b", lease_seconds=1.0)
        (held,) = await a.claim(["d1"], 1)
        await _stop_heartbeat(a)  # what a frozen or killed replica does
        assert await b.claim(["d1"], 1) == []
        await asyncio.sleep(1.3)
        (taken,) = await b.claim(["d1"], 1)
        assert taken.token > held.token
        with pytest.raises(ClaimLostError):
            await a.confirm(held)  # the fencing token: the old holder may not write

    @shared_only
    async def test_finalize_releases_the_claims(self, replica: Replica) -> None:
        a, b = await replica("a"), await replica("b")
        await a.claim(["d1"], 1)
        await a.finalize()
        assert [c.doc_id for c in await b.claim(["d1"], 1)] == ["d1"]

    @shared_only
    async def test_the_heartbeat_keeps_a_live_claim(self, replica: Replica) -> None:
        a = await replica("a", lease_seconds=1.0)
        b = await replica("b", lease_seconds=1.0)
        (claim,) = await a.claim(["d1"], 1)
        await asyncio.sleep(2.2)
        assert await b.claim(["d1"], 1) == []
        await a.confirm(claim)

    @shared_only
    async def test_holds_exclude_other_replicas(self, replica: Replica) -> None:
        a, b = await replica("a"), await replica("b")
        async with a.hold(["e1", "e2"]):
            with pytest.raises(HoldTimeoutError):
                async with b.hold(["e2"], timeout=0.3):
                    pytest.fail("b held a key a holds")
            waiting = asyncio.create_task(_enter(b, ["e1", "e3"]))
            await asyncio.sleep(0.2)
            assert not waiting.done()
        await asyncio.wait_for(waiting, timeout=5)

    @shared_only
    async def test_try_hold_excludes_other_replicas_until_release_or_lease_end(
        self, replica: Replica
    ) -> None:
        a = await replica("a", lease_seconds=1.0)
        b = await replica("b", lease_seconds=1.0)
        async with a.try_hold(["s1", "s2"]) as held:
            assert held == {"s1", "s2"}
            async with b.try_hold(["s2", "s3"]) as other:
                assert other == {"s3"}
            await asyncio.sleep(2.2)  # the heartbeat renews a live replica's tried holds
            async with b.try_hold(["s1"]) as other:
                assert other == frozenset()
        async with b.try_hold(["s1", "s2"]) as other:
            assert other == {"s1", "s2"}
        dying = await replica("c", lease_seconds=1.0)
        async with dying.try_hold(["s4"]) as held:
            assert held == {"s4"}
            await _stop_heartbeat(dying)  # what a frozen or killed replica does
            await asyncio.sleep(1.3)
            async with b.try_hold(["s4"]) as other:
                assert other == {"s4"}  # blocks nobody past its lease

    @shared_only
    async def test_status_and_cancel_are_seen_by_every_replica(self, replica: Replica) -> None:
        a, b = await replica("a"), await replica("b")
        await a.publish_status({"replica": "a"})
        await b.publish_status({"replica": "b"})
        for coordinator in (a, b):
            assert sorted(s["replica"] for s in await coordinator.statuses()) == ["a", "b"]
        before = await b.cancel_epoch()
        await a.request_cancel()
        assert await b.cancel_epoch() == before + 1

    @shared_only
    async def test_workspaces_do_not_share_claims(self, replica: Replica) -> None:
        a = await replica("a")
        other = await replica("b", workspace_name=f"o{uuid.uuid4().hex[:8]}")
        assert len(await a.claim(["d1"], 1)) == 1
        assert len(await other.claim(["d1"], 1)) == 1


async def _enter(coordinator: Coordinator, keys: list[str]) -> None:
    async with coordinator.hold(keys, timeout=10):
        pass


async def _stop_heartbeat(coordinator: Coordinator) -> None:
    """What a frozen or killed replica does: stop renewing its leases."""
    heartbeat = getattr(coordinator, "_heartbeat", None)
    assert isinstance(heartbeat, LeaseHeartbeat), "a shared coordinator renews in _heartbeat"
    await heartbeat.stop()
