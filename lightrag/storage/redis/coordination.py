"""``redis`` coordination: replicas of one deployment share a Redis server.

Every key of a workspace starts with ``C = lightrag:{coord:<workspace>}`` (percent-encoded;
the braces are a Redis Cluster hash tag, so every key of one workspace is in one slot and
one Lua script may touch many of them):

- Claims: ``C:claim:<doc id>`` holds ``<token>:<owner>``, set with ``SET NX PX`` by one
  script that claims up to ``limit`` free documents at once (atomic: two replicas never get
  one document); each claim takes a new fencing token from ``C:tokens`` (``INCR``). A
  heartbeat renews this replica's live claims every third of the lease (compare, then
  ``PEXPIRE``); a dead replica's claims are free again when their lease ends. ``confirm``
  renews one claim only if the key still holds its token, so a replica whose lease ran out
  (a stalled event loop) and was claimed over learns it before it writes. ``release``
  compares and deletes.
- Holds: ``C:hold:<key>`` holds a value unique to one hold. One script sets every key of a
  hold (``NX PX``) or none of them when one is taken (and names that one); the replica then
  polls with growing sleeps until the hold's deadline. It never holds some keys while
  waiting for others, so holds cannot deadlock. Held keys are renewed by the heartbeat; a
  replica that dies loses its holds when their lease ends. Within one replica, holders
  queue on ``KeyedLocks`` first, so only one of them polls Redis for a key.
- Pipeline status: hash ``C:status`` (replica id -> JSON snapshot) and sorted set
  ``C:beats`` (replica id -> the server's time of its last snapshot, in milliseconds);
  cancel requests: the counter ``C:cancel``.
- Nothing to create: keys appear when first used.

Keys with a TTL may be evicted under any ``maxmemory-policy`` but ``noeviction`` (a claim
evicted early is a document indexed twice), so others are refused unless
``allow_eviction``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field

from lightrag.storage._heartbeat import LeaseHeartbeat
from lightrag.storage._params import parse_params
from lightrag.storage.redis.client import RedisClient, RedisConfig
from lightrag.vocabulary.coordination import (
    Claim,
    ClaimLostError,
    CoordinationContext,
    CoordinationUnavailableError,
    HoldTimeoutError,
)
from lightrag.vocabulary.errors import StorageError, StorageUnavailableError
from lightrag.vocabulary.locks import KeyedLocks, acquire_within

__all__ = ["RedisCoordinationConfig", "RedisCoordinator", "coordination_base"]

logger = logging.getLogger(__name__)

# KEYS: tokens, claim keys in order. ARGV: owner, lease ms, limit.
# Returns a flat list: index (1-based, into the claim keys), token, index, token, ...
_CLAIM = r"""
local got = {}
local limit = tonumber(ARGV[3])
for i = 2, #KEYS do
  if #got >= 2 * limit then break end
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local token = redis.call('INCR', KEYS[1])
    redis.call('SET', KEYS[i], token .. ':' .. ARGV[1], 'PX', ARGV[2])
    got[#got + 1] = i - 1
    got[#got + 1] = token
  end
end
return got
"""

# KEYS: keys. ARGV: lease ms, then the value each key must hold.
# Renews the keys that still hold their value; returns 1/0 per key.
_RENEW = r"""
local kept = {}
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i + 1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
    kept[i] = 1
  else
    kept[i] = 0
  end
end
return kept
"""

# KEYS: keys. ARGV: the value each key must hold. Deletes those that still hold it.
_RELEASE = r"""
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then
    redis.call('DEL', KEYS[i])
    n = n + 1
  end
end
return n
"""

# KEYS: hold keys. ARGV: the hold's value, lease ms.
# Sets every key or none: returns 0 when held, else the index of a key taken already.
_HOLD = r"""
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return i end
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
end
return 0
"""

# KEYS: hold keys. ARGV: the hold's value, lease ms. Sets every key that is free;
# returns the (1-based) indexes of the keys it set.
_TRY_HOLD = r"""
local set = {}
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then set[#set + 1] = i end
end
return set
"""

# Redis before 5 refuses writes after TIME in a script unless it replicates effects.
_REPLICATE = "if redis.replicate_commands then redis.replicate_commands() end\n"

# KEYS: status, beats. ARGV: replica id, snapshot JSON.
_PUBLISH = (
    _REPLICATE
    + r"""
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[1])
return now
"""
)

# KEYS: status, beats. ARGV: replica timeout ms. Forgets stale replicas, returns the
# snapshots of the live ones ordered by replica id.
_STATUSES = (
    _REPLICATE
    + r"""
local t = redis.call('TIME')
local since = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[1])
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. since)
for i = 1, #stale, 500 do
  local part = {unpack(stale, i, math.min(i + 499, #stale))}
  redis.call('HDEL', KEYS[1], unpack(part))
  redis.call('ZREM', KEYS[2], unpack(part))
end
local live = redis.call('ZRANGEBYSCORE', KEYS[2], since, '+inf')
table.sort(live)
local out = {}
for i, id in ipairs(live) do
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then out[#out + 1] = raw end
end
return out
"""
)

_POLL_FIRST = 0.005
_POLL_MAX = 0.1
"""Seconds between two attempts at a busy hold: from the first, doubling up to the max."""


class RedisCoordinationConfig(RedisConfig):
    """Connection parameters (as the redis storages) plus leases and hold timeout."""

    max_connections: int = Field(16, ge=1)
    """Pool of its own (so that storage traffic never delays lease renewals)."""
    lease_seconds: float = Field(30.0, ge=1.0)
    """A claim's or hold's lease, renewed every third of it; a dead replica's free after it."""
    hold_timeout: float = Field(300.0, gt=0)
    """Default seconds a hold waits for keys held elsewhere before ``HoldTimeoutError``."""
    replica_timeout: float = Field(10.0, gt=0)
    """A replica whose status heartbeat is older than this is not listed as live."""

    def pool_key(self) -> tuple[Any, ...]:
        return ("coordination", *super().pool_key())


def coordination_base(workspace: str) -> str:
    """``lightrag:{coord:<workspace>}``: the prefix of every coordination key of one
    workspace (percent-encoded, so it never meets a storage's ``key_base``)."""
    return f"lightrag:{{coord:{quote(workspace, safe='')}}}"


class RedisCoordinator:
    """Claims, holds, status and cancellation of replicas sharing a Redis server."""

    shared: ClassVar[bool] = True
    config_model: ClassVar[type[RedisCoordinationConfig]] = RedisCoordinationConfig

    def __init__(self, ctx: CoordinationContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(RedisCoordinationConfig, params, "redis coordination")
        self.workspace = ctx.workspace
        self.replica_id = ctx.replica_id
        self.base = coordination_base(ctx.workspace)
        self._tokens_key = f"{self.base}:tokens"
        self._status_key = f"{self.base}:status"
        self._beats_key = f"{self.base}:beats"
        self._cancel_key = f"{self.base}:cancel"
        self._key = self.config.pool_key()
        self._client: RedisClient | None = None
        self._scripts: dict[str, Any] = {}
        self._local = KeyedLocks()
        self._active: dict[str, int] = {}  # doc id -> token of this replica's live claims
        self._holds: dict[str, list[str]] = {}  # hold value -> its redis keys, while held
        self._hold_ids = itertools.count(1)
        self._hold_prefix = f"{self.replica_id}:{uuid.uuid4().hex[:8]}"
        self._heartbeat = LeaseHeartbeat(
            "redis coordination", self._renew, self.config.lease_seconds
        )

    @property
    def client(self) -> RedisClient:
        if self._client is None:
            raise RuntimeError("redis coordination is not initialised (call initialize())")
        return self._client

    @property
    def _lease_ms(self) -> int:
        return max(1, int(self.config.lease_seconds * 1000))

    def _claim_key(self, doc_id: str) -> str:
        return f"{self.base}:claim:{doc_id}"

    def _hold_key(self, key: str) -> str:
        return f"{self.base}:hold:{key}"

    def _owned(self, token: int) -> str:
        return f"{token}:{self.replica_id}"

    def _unavailable(self, exc: BaseException) -> CoordinationUnavailableError:
        return CoordinationUnavailableError(
            f"redis coordination at {self.config.endpoint()}: {type(exc).__name__}: {exc}"
        )

    @asynccontextmanager
    async def _guard(self, what: str) -> AsyncIterator[None]:
        """Connection failures become ``CoordinationUnavailableError`` (host and port)."""
        try:
            async with self.client.guard(f"coordination {what}"):
                yield
        except CoordinationUnavailableError:
            raise
        except StorageUnavailableError as exc:
            raise CoordinationUnavailableError(str(exc)) from exc

    async def _run(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self.client.redis.register_script(source)
        return await script(keys=list(keys), args=list(args))

    # lifecycle -----------------------------------------------------------------------

    async def initialize(self) -> None:
        if self._client is not None:
            return
        config = self.config
        try:
            client = await self.ctx.clients.acquire(self._key, lambda: RedisClient(config))
        except CoordinationUnavailableError:
            raise
        except StorageUnavailableError as exc:
            raise CoordinationUnavailableError(str(exc)) from exc
        try:
            await self._check_eviction(client)
        except BaseException:
            await self.ctx.clients.release(self._key)
            raise
        self._client = client
        self._heartbeat.start()

    async def _check_eviction(self, client: RedisClient) -> None:
        from redis.exceptions import ResponseError

        if self.config.allow_eviction:
            return
        try:
            async with client.guard("coordination connect"):
                reply = await client.redis.config_get("maxmemory-policy")
        except ResponseError:  # CONFIG disabled (managed services): nothing to check
            return
        except StorageUnavailableError as exc:
            raise CoordinationUnavailableError(str(exc)) from exc
        policy = reply.get("maxmemory-policy")
        if policy and policy != "noeviction":
            raise StorageError(
                f"redis at {self.config.endpoint()} has maxmemory-policy {policy!r}, which may "
                "evict the leases of claims and holds (a document indexed twice, a merge "
                "overlapping another); set it to noeviction, or allow_eviction: true "
                "to accept the risk"
            )

    async def finalize(self) -> None:
        if self._client is None:
            return
        await self._heartbeat.stop()
        with contextlib.suppress(Exception):
            await self.release([Claim(d, t) for d, t in self._active.items()])
        with contextlib.suppress(Exception):
            holds, self._holds = self._holds, {}
            for value, keys in holds.items():
                async with self._guard("finalize"):
                    await self._run(_RELEASE, keys, [value] * len(keys))
        with contextlib.suppress(Exception):
            async with self._guard("finalize"), self.client.redis.pipeline() as pipe:
                pipe.hdel(self._status_key, self.replica_id)
                pipe.zrem(self._beats_key, self.replica_id)
                await pipe.execute()
        self._active.clear()
        self._client = None
        await self.ctx.clients.release(self._key)

    async def check(self) -> None:
        if self._heartbeat.failure is not None:
            raise self._unavailable(self._heartbeat.failure)
        try:
            async with self._guard("check"):
                await self.client.redis.ping()
        except CoordinationUnavailableError:
            raise
        except Exception as exc:
            raise self._unavailable(exc) from exc

    async def _renew(self) -> None:
        """Renew this replica's live claims and holds; forget claims lost meanwhile."""
        claims = list(self._active.items())
        keys = [self._claim_key(d) for d, _ in claims]
        values = [self._owned(t) for _, t in claims]
        for value, held in list(self._holds.items()):
            keys += held
            values += [value] * len(held)
        if not keys:
            return
        async with self._guard("renew"):
            kept = await self._run(_RENEW, keys, [self._lease_ms, *values])
        for (doc_id, token), ok in zip(claims, kept, strict=False):
            if not int(ok) and self._active.get(doc_id) == token:
                del self._active[doc_id]
                logger.warning("redis coordination: lost the claim on document %s", doc_id)

    # claims --------------------------------------------------------------------------

    async def claim(self, doc_ids: Sequence[str], limit: int) -> list[Claim]:
        wanted = list(dict.fromkeys(doc_ids))
        if not wanted or limit <= 0:
            return []
        try:
            async with self._guard("claim"):
                reply = await self._run(
                    _CLAIM,
                    [self._tokens_key, *(self._claim_key(d) for d in wanted)],
                    [self.replica_id, self._lease_ms, limit],
                )
        except CoordinationUnavailableError:
            raise
        except Exception as exc:  # a server answering errors cannot coordinate either
            raise self._unavailable(exc) from exc
        claims = [
            Claim(wanted[int(reply[i]) - 1], int(reply[i + 1])) for i in range(0, len(reply), 2)
        ]
        self._active.update((c.doc_id, c.token) for c in claims)
        return claims

    async def confirm(self, claim: Claim) -> None:
        async with self._guard("confirm"):
            (kept,) = await self._run(
                _RENEW, [self._claim_key(claim.doc_id)], [self._lease_ms, self._owned(claim.token)]
            )
        if not int(kept):
            if self._active.get(claim.doc_id) == claim.token:
                del self._active[claim.doc_id]
            raise ClaimLostError(
                f"document {claim.doc_id}: its lease ended and another replica claimed it"
            )

    async def release(self, claims: Sequence[Claim]) -> None:
        mine = [c for c in claims if self._active.get(c.doc_id) == c.token]
        for claim in mine:
            del self._active[claim.doc_id]
        if not mine:
            return
        async with self._guard("release"):
            await self._run(
                _RELEASE,
                [self._claim_key(c.doc_id) for c in mine],
                [self._owned(c.token) for c in mine],
            )

    # holds ---------------------------------------------------------------------------

    def hold(
        self, keys: Iterable[str], *, timeout: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        return self._hold(frozenset(keys), timeout)

    @asynccontextmanager
    async def _hold(self, wanted: frozenset[str], wait: float | None) -> AsyncIterator[None]:
        if not wanted:
            yield
            return
        limit = self.config.hold_timeout if wait is None else wait
        deadline = time.monotonic() + limit
        await acquire_within(self._local, wanted, limit)
        try:
            ordered = sorted(wanted)
            keys = [self._hold_key(k) for k in ordered]
            value = f"{self._hold_prefix}:{next(self._hold_ids)}"
            await self._take(keys, value, deadline, ordered, limit)
            self._holds[value] = keys
            try:
                yield
            finally:
                self._holds.pop(value, None)
                with contextlib.suppress(StorageUnavailableError):
                    async with self._guard("release hold"):
                        await self._run(_RELEASE, keys, [value] * len(keys))
        finally:
            self._local.release(wanted)

    def try_hold(self, keys: Iterable[str]) -> AbstractAsyncContextManager[frozenset[str]]:
        return self._try_hold(frozenset(keys))

    @asynccontextmanager
    async def _try_hold(self, wanted: frozenset[str]) -> AsyncIterator[frozenset[str]]:
        held = self._local.try_acquire_each(wanted)
        try:
            if not held:
                yield held
                return
            ordered = sorted(held)
            value = f"{self._hold_prefix}:{next(self._hold_ids)}"
            names = [self._hold_key(k) for k in ordered]
            try:
                async with self._guard("try hold"):
                    indexes = await self._run(_TRY_HOLD, names, [value, self._lease_ms])
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):  # the script may have run: give back
                    async with self._guard("release hold"):
                        await self._run(_RELEASE, names, [value] * len(names))
                raise
            taken = [ordered[int(i) - 1] for i in indexes]
            self._local.release(held - set(taken))
            held = frozenset(taken)
            keys = [self._hold_key(k) for k in taken]
            if keys:
                self._holds[value] = keys
            try:
                yield held
            finally:
                if keys:
                    self._holds.pop(value, None)
                    with contextlib.suppress(StorageUnavailableError):
                        async with self._guard("release hold"):
                            await self._run(_RELEASE, keys, [value] * len(keys))
        finally:
            self._local.release(held)

    async def _take(
        self, keys: list[str], value: str, deadline: float, names: list[str], limit: float
    ) -> None:
        """Set every key of ``keys`` to ``value`` at once, polling until ``deadline``."""
        pause = _POLL_FIRST
        while True:
            try:
                async with self._guard("hold"):
                    busy = int(await self._run(_HOLD, keys, [value, self._lease_ms]))
            except asyncio.CancelledError:
                # the script may have run: give back whatever this hold may have set
                with contextlib.suppress(Exception):
                    async with self._guard("release hold"):
                        await self._run(_RELEASE, keys, [value] * len(keys))
                raise
            if busy == 0:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                taken = names[busy - 1]
                raise HoldTimeoutError.waited(
                    limit, names, "another replica", f" ({taken} is taken)"
                )
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, _POLL_MAX)

    # pipeline status and cancellation -----------------------------------------------

    async def publish_status(self, snapshot: dict[str, Any]) -> None:
        raw = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"))
        async with self._guard("publish_status"):
            await self._run(_PUBLISH, [self._status_key, self._beats_key], [self.replica_id, raw])

    async def statuses(self) -> list[dict[str, Any]]:
        async with self._guard("statuses"):
            rows = await self._run(
                _STATUSES,
                [self._status_key, self._beats_key],
                [max(1, int(self.config.replica_timeout * 1000))],
            )
        return [dict(json.loads(raw)) for raw in rows]

    async def request_cancel(self) -> int:
        async with self._guard("request_cancel"):
            return int(await self.client.redis.incr(self._cancel_key))

    async def cancel_epoch(self) -> int:
        async with self._guard("cancel_epoch"):
            value = await self.client.redis.get(self._cancel_key)
        return int(value or 0)
