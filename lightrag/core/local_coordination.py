"""``local`` coordination: one server process, claims and holds in memory (the default)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from lightrag.vocabulary.coordination import Claim, ClaimLostError, CoordinationContext
from lightrag.vocabulary.locks import KeyedLocks, acquire_within

__all__ = ["LocalCoordinator"]


class LocalParams(BaseModel):
    """``local`` takes no parameters (a misspelt one is an error)."""

    model_config = ConfigDict(extra="forbid")


class LocalCoordinator:
    """In-process claims (a dict) and holds (``KeyedLocks``); nothing outlives the process."""

    shared: ClassVar[bool] = False
    config_model: ClassVar[type[LocalParams]] = LocalParams

    def __init__(
        self, ctx: CoordinationContext | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        if params:
            raise ValueError(f"local coordination takes no parameters, got {sorted(params)}")
        self.replica_id = ctx.replica_id if ctx is not None else "local"
        self.locks = KeyedLocks()
        self._claims: dict[str, int] = {}
        self._tokens = itertools.count(1)
        self._snapshot: dict[str, Any] | None = None
        self._cancel_epoch = 0

    async def initialize(self) -> None:
        return None

    async def finalize(self) -> None:
        self._claims.clear()

    async def check(self) -> None:
        return None

    async def claim(self, doc_ids: Sequence[str], limit: int) -> list[Claim]:
        claims: list[Claim] = []
        for doc_id in doc_ids:
            if len(claims) >= limit:
                break
            if doc_id not in self._claims:
                token = next(self._tokens)
                self._claims[doc_id] = token
                claims.append(Claim(doc_id, token))
        return claims

    async def confirm(self, claim: Claim) -> None:
        if self._claims.get(claim.doc_id) != claim.token:
            raise ClaimLostError(f"document {claim.doc_id}: the claim was released")

    async def release(self, claims: Sequence[Claim]) -> None:
        for claim in claims:
            if self._claims.get(claim.doc_id) == claim.token:
                del self._claims[claim.doc_id]

    def hold(
        self, keys: Iterable[str], *, timeout: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        return self._hold(frozenset(keys), timeout)

    @asynccontextmanager
    async def _hold(self, wanted: frozenset[str], wait: float | None) -> AsyncIterator[None]:
        await acquire_within(self.locks, wanted, wait)
        try:
            yield
        finally:
            self.locks.release(wanted)

    def try_hold(self, keys: Iterable[str]) -> AbstractAsyncContextManager[frozenset[str]]:
        return self._try_hold(frozenset(keys))

    @asynccontextmanager
    async def _try_hold(self, keys: frozenset[str]) -> AsyncIterator[frozenset[str]]:
        held = self.locks.try_acquire_each(keys)
        try:
            yield held
        finally:
            self.locks.release(held)

    async def publish_status(self, snapshot: dict[str, Any]) -> None:
        self._snapshot = snapshot

    async def statuses(self) -> list[dict[str, Any]]:
        return [self._snapshot] if self._snapshot is not None else []

    async def request_cancel(self) -> int:
        self._cancel_epoch += 1
        return self._cancel_epoch

    async def cancel_epoch(self) -> int:
        return self._cancel_epoch
