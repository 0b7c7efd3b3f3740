"""``postgres`` coordination: replicas of one deployment share a PostgreSQL database.

- Claims: table ``lightrag_claims`` (one row per document ever claimed in a workspace).
  ``claim`` locks free rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` (two replicas
  never lock one row) and gives each a lease and a new fencing token from the sequence
  ``lightrag_claim_tokens``. A heartbeat renews this replica's live claims every third of
  the lease; a dead replica's claims are free again when their lease ends. ``confirm``
  renews one claim only if its token is still the row's, so a replica whose lease ran out
  (a stalled event loop) and was claimed over learns it before it writes.
- Holds: transaction-scoped advisory locks on a connection of a pool of its own (a hold
  keeps one connection). Every key is tried at once (``pg_try_advisory_xact_lock``); when
  one is busy, everything is rolled back and the replica waits on that one key alone
  (server-side, woken when it is free), then tries all again: it never holds some keys
  while waiting for others, so holds cannot deadlock. A replica that dies (its connections
  close) releases its locks at once. Within one replica, holders queue on ``KeyedLocks``
  first, so only one of them waits on the database for a key.
- Tried holds (``try_hold``, which never waits): rows of ``lightrag_holds`` inserted where
  free or where their lease ended, renewed by the heartbeat, deleted on release; they
  keep no connection, so a holder waiting for a merge hold never starves the pool.
- Pipeline status: ``lightrag_replicas`` (a JSON snapshot and a heartbeat per replica);
  cancel requests: a counter in ``lightrag_pipeline_control``.
- Schema: created once under the migration lock of ``PostgresClient.migrate``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, ClassVar

import asyncpg
from pydantic import Field

from lightrag.storage._heartbeat import LeaseHeartbeat
from lightrag.storage._params import parse_params
from lightrag.storage.postgres.client import (
    CONNECTION_ERRORS,
    PostgresClient,
    PostgresConfig,
    client_key,
)
from lightrag.vocabulary.coordination import (
    Claim,
    ClaimLostError,
    CoordinationContext,
    CoordinationUnavailableError,
    HoldTimeoutError,
)
from lightrag.vocabulary.errors import StorageUnavailableError
from lightrag.vocabulary.locks import KeyedLocks, acquire_within

__all__ = ["COORDINATION_MIGRATIONS", "PostgresCoordinationConfig", "PostgresCoordinator"]

logger = logging.getLogger(__name__)

COORDINATION_MIGRATIONS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS lightrag_claims (
        workspace text NOT NULL,
        doc_id text COLLATE "C" NOT NULL,
        owner text NOT NULL DEFAULT '',
        token bigint NOT NULL DEFAULT 0,
        lease_until timestamptz NOT NULL DEFAULT '-infinity',
        PRIMARY KEY (workspace, doc_id)
    );
    CREATE SEQUENCE IF NOT EXISTS lightrag_claim_tokens;
    CREATE TABLE IF NOT EXISTS lightrag_replicas (
        workspace text NOT NULL,
        replica_id text NOT NULL,
        heartbeat timestamptz NOT NULL,
        status jsonb NOT NULL,
        PRIMARY KEY (workspace, replica_id)
    );
    CREATE TABLE IF NOT EXISTS lightrag_pipeline_control (
        workspace text PRIMARY KEY,
        cancel_epoch bigint NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS lightrag_holds (
        workspace text NOT NULL,
        key text COLLATE "C" NOT NULL,
        owner text NOT NULL,
        lease_until timestamptz NOT NULL,
        PRIMARY KEY (workspace, key)
    )""",
)

_TRY_HOLD = """
INSERT INTO lightrag_holds AS h (workspace, key, owner, lease_until)
SELECT $1, k, $3, now() + make_interval(secs => $4) FROM unnest($2::text[]) AS u(k)
ORDER BY k
ON CONFLICT (workspace, key) DO UPDATE
SET owner = excluded.owner, lease_until = excluded.lease_until
WHERE h.lease_until < now()
RETURNING h.key
"""

_ADD_ROWS = """
INSERT INTO lightrag_claims (workspace, doc_id)
SELECT $1, d FROM unnest($2::text[]) AS u(d)
WHERE NOT EXISTS (SELECT 1 FROM lightrag_claims c WHERE c.workspace = $1 AND c.doc_id = u.d)
ORDER BY d COLLATE "C"
ON CONFLICT DO NOTHING
"""

_CLAIM = """
WITH free AS (
    SELECT c.doc_id FROM lightrag_claims c
    JOIN unnest($2::text[]) WITH ORDINALITY AS u(d, n) ON c.doc_id = u.d
    WHERE c.workspace = $1 AND c.lease_until < now()
    ORDER BY u.n LIMIT $3
    FOR UPDATE OF c SKIP LOCKED
)
UPDATE lightrag_claims c
SET owner = $4, token = nextval('lightrag_claim_tokens'),
    lease_until = now() + make_interval(secs => $5)
FROM free WHERE c.workspace = $1 AND c.doc_id = free.doc_id
RETURNING c.doc_id, c.token
"""
_CLAIM_ATTEMPTS = 5
"""Concurrent first claims of one document may meet as a deadlock: tried again."""


class PostgresCoordinationConfig(PostgresConfig):
    """Connection parameters (as the postgres storages) plus leases and hold timeout."""

    max_connections: int = Field(16, ge=2)
    """Pool of its own: each hold keeps a connection while held."""
    lease_seconds: float = Field(30.0, ge=1.0)
    """A claim's lease, renewed every third of it; a dead replica's claims free after it."""
    hold_timeout: float = Field(300.0, gt=0)
    """Default seconds a hold waits for keys held elsewhere before ``HoldTimeoutError``."""
    replica_timeout: float = Field(10.0, gt=0)
    """A replica whose status heartbeat is older than this is not listed as live."""


def lock_number(workspace: str, key: str) -> int:
    """The advisory lock (a signed 64-bit number) of ``key`` in ``workspace``."""
    digest = hashlib.blake2b(f"{workspace}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresCoordinator:
    """Claims, holds, status and cancellation of replicas sharing a PostgreSQL database."""

    shared: ClassVar[bool] = True
    config_model: ClassVar[type[PostgresCoordinationConfig]] = PostgresCoordinationConfig

    def __init__(self, ctx: CoordinationContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(PostgresCoordinationConfig, params, "postgres coordination")
        self.workspace = ctx.workspace or self.config.workspace
        self.replica_id = ctx.replica_id
        self._key = ("coordination", *client_key(self.config))  # type: ignore[misc]
        self._client: PostgresClient | None = None
        self._local = KeyedLocks()
        self._active: dict[str, int] = {}  # doc id -> token of this replica's live claims
        self._heartbeat = LeaseHeartbeat(
            "postgres coordination", self._renew, self.config.lease_seconds
        )
        self._leased: set[str] = set()  # keys of this replica's try_holds (lease rows)

    @property
    def client(self) -> PostgresClient:
        if self._client is None:
            raise RuntimeError("postgres coordination is not initialised (call initialize())")
        return self._client

    def _unavailable(self, exc: BaseException) -> CoordinationUnavailableError:
        return CoordinationUnavailableError(
            f"postgres coordination at {self.config.where()}: {type(exc).__name__}: {exc}"
        )

    # lifecycle -----------------------------------------------------------------------

    async def initialize(self) -> None:
        if self._client is not None:
            return
        config = self.config
        client = await self.ctx.clients.acquire(self._key, lambda: PostgresClient(config))
        try:
            await client.migrate("coordination", COORDINATION_MIGRATIONS)
        except BaseException:
            await self.ctx.clients.release(self._key)
            raise
        self._client = client
        self._heartbeat.start()

    async def finalize(self) -> None:
        if self._client is None:
            return
        await self._heartbeat.stop()
        with contextlib.suppress(Exception):
            await self.release([Claim(d, t) for d, t in self._active.items()])
            for table in ("lightrag_replicas", "lightrag_holds"):
                column = "replica_id" if table == "lightrag_replicas" else "owner"
                await self.client.execute(
                    f"DELETE FROM {table} WHERE workspace = $1 AND {column} = $2",
                    self.workspace,
                    self.replica_id,
                )
        self._client = None
        await self.ctx.clients.release(self._key)

    async def check(self) -> None:
        if self._heartbeat.failure is not None:
            raise self._unavailable(self._heartbeat.failure)
        try:
            await self.client.fetchval("SELECT 1")
        except Exception as exc:
            raise self._unavailable(exc) from exc

    async def _renew(self) -> None:
        if self._leased:
            await self.client.execute(
                "UPDATE lightrag_holds SET lease_until = now() + make_interval(secs => $4)"
                " WHERE workspace = $1 AND owner = $2 AND key = ANY($3::text[])",
                self.workspace,
                self.replica_id,
                list(self._leased),
                self.config.lease_seconds,
            )
        if not self._active:
            return
        await self.client.execute(
            "UPDATE lightrag_claims SET lease_until = now() + make_interval(secs => $4)"
            " WHERE workspace = $1 AND owner = $2 AND doc_id = ANY($3::text[])",
            self.workspace,
            self.replica_id,
            list(self._active),
            self.config.lease_seconds,
        )

    # claims --------------------------------------------------------------------------

    async def claim(self, doc_ids: Sequence[str], limit: int) -> list[Claim]:
        wanted = list(dict.fromkeys(doc_ids))
        if not wanted or limit <= 0:
            return []
        got: dict[str, int] = {}
        for attempt in range(_CLAIM_ATTEMPTS):
            try:
                await self.client.execute(_ADD_ROWS, self.workspace, wanted)
                rows = await self.client.fetch(
                    _CLAIM,
                    self.workspace,
                    wanted,
                    limit,
                    self.replica_id,
                    self.config.lease_seconds,
                )
            except asyncpg.exceptions.DeadlockDetectedError:
                if attempt + 1 == _CLAIM_ATTEMPTS:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))
                continue
            except (StorageUnavailableError, asyncpg.PostgresError) as exc:
                raise self._unavailable(exc) from exc
            got = {row["doc_id"]: int(row["token"]) for row in rows}
            break
        self._active.update(got)
        return [Claim(d, got[d]) for d in wanted if d in got]

    async def confirm(self, claim: Claim) -> None:
        renewed = await self.client.fetchval(
            "UPDATE lightrag_claims SET lease_until = now() + make_interval(secs => $5)"
            " WHERE workspace = $1 AND doc_id = $2 AND token = $3 AND owner = $4"
            " RETURNING token",
            self.workspace,
            claim.doc_id,
            claim.token,
            self.replica_id,
            self.config.lease_seconds,
        )
        if renewed is None:
            self._active.pop(claim.doc_id, None)
            raise ClaimLostError(
                f"document {claim.doc_id}: its lease ended and another replica claimed it"
            )

    async def release(self, claims: Sequence[Claim]) -> None:
        mine = [c for c in claims if self._active.get(c.doc_id) == c.token]
        for claim in mine:
            del self._active[claim.doc_id]
        if not mine:
            return
        await self.client.execute(
            "UPDATE lightrag_claims c SET owner = '', lease_until = '-infinity'"
            " FROM unnest($2::text[], $3::bigint[]) AS r(d, t)"
            " WHERE c.workspace = $1 AND c.doc_id = r.d AND c.token = r.t",
            self.workspace,
            [c.doc_id for c in mine],
            [c.token for c in mine],
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
            numbers = sorted({lock_number(self.workspace, key) for key in wanted})
            try:
                conn = await self.client.pool.acquire(timeout=max(0.1, deadline - time.monotonic()))
            except (*CONNECTION_ERRORS, asyncpg.PostgresError, TimeoutError) as exc:
                raise self._unavailable(exc) from exc
            try:
                await self._take(conn, numbers, deadline, wanted, limit)
                try:
                    yield
                finally:
                    with contextlib.suppress(*CONNECTION_ERRORS, asyncpg.PostgresError):
                        await conn.execute("ROLLBACK")  # releases every lock of the hold
            finally:
                await self.client.pool.release(conn)
        finally:
            self._local.release(wanted)

    def try_hold(self, keys: Iterable[str]) -> AbstractAsyncContextManager[frozenset[str]]:
        return self._try_hold(frozenset(keys))

    @asynccontextmanager
    async def _try_hold(self, keys: frozenset[str]) -> AsyncIterator[frozenset[str]]:
        held = self._local.try_acquire_each(keys)
        try:
            if held:
                try:
                    rows = await self.client.fetch(
                        _TRY_HOLD, self.workspace, sorted(held), self.replica_id,
                        self.config.lease_seconds,
                    )  # fmt: skip
                except (*CONNECTION_ERRORS, asyncpg.PostgresError) as exc:
                    raise self._unavailable(exc) from exc
                taken = frozenset(row["key"] for row in rows)
                self._local.release(held - taken)
                held = taken
                self._leased |= held
            try:
                yield held
            finally:
                if held:
                    self._leased -= held
                    with contextlib.suppress(*CONNECTION_ERRORS, asyncpg.PostgresError):
                        await self.client.execute(
                            "DELETE FROM lightrag_holds WHERE workspace = $1"
                            " AND key = ANY($2::text[]) AND owner = $3",
                            self.workspace,
                            list(held),
                            self.replica_id,
                        )
        finally:
            self._local.release(held)

    async def _take(
        self,
        conn: asyncpg.Connection,
        numbers: list[int],
        deadline: float,
        keys: frozenset[str],
        limit: float,
    ) -> None:
        """Hold every lock of ``numbers`` in an open transaction on ``conn`` (see module)."""
        waited_on: int | None = None
        try:
            while True:
                await conn.execute("BEGIN")
                if waited_on is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise asyncpg.exceptions.LockNotAvailableError("hold timeout")
                    await conn.execute(f"SET LOCAL lock_timeout = {max(1, int(remaining * 1000))}")
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", waited_on)
                busy = await conn.fetchval(
                    "SELECT coalesce(array_agg(k), '{}') FROM unnest($1::bigint[]) AS k"
                    " WHERE NOT pg_try_advisory_xact_lock(k)",
                    numbers,
                )
                if not busy:
                    return
                await conn.execute("ROLLBACK")
                waited_on = int(busy[0])
        except BaseException as exc:
            with contextlib.suppress(*CONNECTION_ERRORS, asyncpg.PostgresError):
                await conn.execute("ROLLBACK")
            if isinstance(exc, asyncpg.exceptions.LockNotAvailableError):
                raise HoldTimeoutError.waited(limit, keys, "another replica") from None
            if isinstance(exc, (*CONNECTION_ERRORS, asyncpg.PostgresError)):
                raise self._unavailable(exc) from exc
            raise

    # pipeline status and cancellation -----------------------------------------------

    async def publish_status(self, snapshot: dict[str, Any]) -> None:
        await self.client.execute(
            "INSERT INTO lightrag_replicas (workspace, replica_id, heartbeat, status)"
            " VALUES ($1, $2, now(), $3::jsonb) ON CONFLICT (workspace, replica_id)"
            " DO UPDATE SET heartbeat = now(), status = EXCLUDED.status",
            self.workspace,
            self.replica_id,
            snapshot,
        )

    async def statuses(self) -> list[dict[str, Any]]:
        rows = await self.client.fetch(
            "SELECT status FROM lightrag_replicas WHERE workspace = $1"
            " AND heartbeat > now() - make_interval(secs => $2) ORDER BY replica_id",
            self.workspace,
            self.config.replica_timeout,
        )
        return [dict(row["status"]) for row in rows]

    async def request_cancel(self) -> int:
        return int(
            await self.client.fetchval(
                "INSERT INTO lightrag_pipeline_control (workspace, cancel_epoch) VALUES ($1, 1)"
                " ON CONFLICT (workspace) DO UPDATE"
                " SET cancel_epoch = lightrag_pipeline_control.cancel_epoch + 1"
                " RETURNING cancel_epoch",
                self.workspace,
            )
        )

    async def cancel_epoch(self) -> int:
        value = await self.client.fetchval(
            "SELECT cancel_epoch FROM lightrag_pipeline_control WHERE workspace = $1",
            self.workspace,
        )
        return int(value or 0)
