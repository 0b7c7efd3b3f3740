"""The coordination role: what replicas of one deployment agree on through a database.

One server process alone needs none of it (``local``: in-process claims and locks).
Several replicas on one set of databases (``postgres``, ``redis``) share through a
``Coordinator``:

- **claims** on documents: a replica indexes a document only while it holds its claim,
  a lease renewed by a heartbeat; a replica that dies loses its claims when the lease
  ends and another one resumes them. Each claim carries a fencing token, checked
  (``confirm``) before every write of the document's results, so a replica whose
  lease ran out while its event loop stalled never writes over the new holder;
- **keyed holds** across replicas (entity keys during merges, deletions and graph
  edits), taken all at once, never waiting while holding some (no deadlock), with a
  timeout and a clear error;
- **pipeline status** of every replica (its snapshot, published by a heartbeat) and a
  deployment-wide **cancel request**.

Schema creation under a lock (one-time work done once) belongs to each backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.errors import StorageUnavailableError

__all__ = [
    "Claim",
    "ClaimLostError",
    "CoordinationContext",
    "CoordinationUnavailableError",
    "Coordinator",
    "HoldTimeoutError",
]


@dataclass(frozen=True, slots=True)
class Claim:
    """A replica's right to index one document; ``token`` grows with every new claim."""

    doc_id: str
    token: int


@dataclass(frozen=True, slots=True)
class CoordinationContext:
    """What the composition root hands a coordinator."""

    workspace: str
    replica_id: str
    clients: ClientHub = field(default_factory=ClientHub)


class ClaimLostError(RuntimeError):
    """The claim's lease ended and another replica claimed the document since."""


class HoldTimeoutError(TimeoutError):
    """Keys stayed held by someone else for longer than the hold's timeout."""

    @classmethod
    def waited(
        cls, seconds: float | None, keys: Iterable[str], holder: str, detail: str = ""
    ) -> HoldTimeoutError:
        """The error naming the wait, who holds the keys and (up to five of) the keys."""
        names = sorted(keys)
        shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
        return cls(f"waited {seconds:g} s for locks held by {holder}: {shown}{detail}")


class CoordinationUnavailableError(StorageUnavailableError):
    """The coordination database cannot be reached: claim nothing, report not ready."""


@runtime_checkable
class Coordinator(Protocol):
    """How replicas of one deployment share claims, holds, status and cancellation."""

    shared: ClassVar[bool]
    """Whether other processes can coordinate through it (``local``: False)."""

    replica_id: str

    async def initialize(self) -> None:
        """Connect, create the schema once (under a lock), start the lease heartbeat."""

    async def finalize(self) -> None:
        """Release every claim and hold of this replica, stop the heartbeat, disconnect."""

    async def check(self) -> None:
        """Return when coordination works; raise ``CoordinationUnavailableError`` if not
        (a database that went away, or a heartbeat that could not renew the leases)."""

    async def claim(self, doc_ids: Sequence[str], limit: int) -> list[Claim]:
        """Claim up to ``limit`` of ``doc_ids`` that nobody holds a live claim on, in the
        order given; atomic (two replicas never get one document)."""

    async def confirm(self, claim: Claim) -> None:
        """Raise ``ClaimLostError`` unless ``claim`` is still the document's current claim
        (its token); renews its lease. Call right before writing a document's results."""

    async def release(self, claims: Sequence[Claim]) -> None:
        """Give the documents up (finished, failed or cancelled); unknown claims are ignored."""

    def hold(
        self, keys: Iterable[str], *, timeout: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        """Hold every one of ``keys`` exclusively, across replicas, taken all at once.

        Raises ``HoldTimeoutError`` after ``timeout`` seconds (``None``: the backend's
        default) naming the keys."""

    def try_hold(self, keys: Iterable[str]) -> AbstractAsyncContextManager[frozenset[str]]:
        """Hold those of ``keys`` nobody holds now, without waiting: yields the keys held
        (maybe none), released on exit. It never waits, so it may be taken while
        holding anything else. A tried hold excludes other tried holds of its keys (in
        every replica, until released or its lease ends), not ``hold``s of them on every
        backend: give the two keys of their own."""

    async def publish_status(self, snapshot: dict[str, Any]) -> None:
        """Store this replica's pipeline status snapshot (a JSON object) with a heartbeat."""

    async def statuses(self) -> list[dict[str, Any]]:
        """The snapshots of the live replicas (heartbeat within the replica timeout)."""

    async def request_cancel(self) -> int:
        """Ask every replica to cancel its running pipeline; returns the new cancel epoch."""

    async def cancel_epoch(self) -> int:
        """How many cancel requests were made (replicas act on a change)."""
