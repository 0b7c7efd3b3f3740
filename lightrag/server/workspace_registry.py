"""Which workspaces exist: a small registry that survives restarts and is shared by replicas.

The registry is one record per workspace in the configured KV backend, in the reserved
namespace ``workspaces`` of the empty workspace (records ``{"name", "created_at"}``):

- on the file backends that is ``<working_dir>/kv_store_workspaces.json``, written
  atomically like every file store;
- on a database (PostgreSQL, Redis, ...) it is rows/keys that every replica of the
  deployment reads, so a workspace created through one replica exists for all.

No engine namespace is called ``workspaces``, so the records never meet a workspace's
data. The server's configured default workspace always exists and is never recorded.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from lightrag.config.models import WORKSPACE_NAME_PATTERN
from lightrag.vocabulary.storage import KVStorage

__all__ = [
    "REGISTRY_NAMESPACE",
    "InvalidWorkspaceNameError",
    "WorkspaceRegistry",
    "check_workspace_name",
]

REGISTRY_NAMESPACE = "workspaces"

_NAME = re.compile(WORKSPACE_NAME_PATTERN)


class InvalidWorkspaceNameError(ValueError):
    """A workspace name that breaks the one naming rule every backend accepts."""


def check_workspace_name(name: str) -> str:
    """``name`` when it matches ``^[a-z0-9][a-z0-9_]{0,47}$``; raises
    ``InvalidWorkspaceNameError`` saying the rule otherwise."""
    if not _NAME.fullmatch(name):
        raise InvalidWorkspaceNameError(
            f"invalid workspace name {name!r}: use 1 to 48 characters of lower-case letters, "
            "digits and '_', starting with a letter or digit (it becomes directory, table, "
            "collection and key names)"
        )
    return name


class WorkspaceRegistry:
    """The workspaces a server may serve: its configured default plus those recorded."""

    def __init__(self, kv: KVStorage, *, default: str) -> None:
        self._kv = kv
        self.default = default

    async def initialize(self) -> None:
        await self._kv.initialize()

    async def finalize(self) -> None:
        await self._kv.finalize()

    async def names(self) -> list[str]:
        """Every workspace, the default first, then the recorded ones sorted."""
        recorded = sorted(name for name in await self._kv.keys() if name != self.default)
        return [self.default, *recorded]

    async def exists(self, name: str) -> bool:
        return name == self.default or await self._kv.get(name) is not None

    async def record(self, name: str) -> dict[str, Any] | None:
        """The stored record of ``name`` (``None`` for the default or an unknown name)."""
        return None if name == self.default else await self._kv.get(name)

    async def add(self, name: str) -> bool:
        """Record ``name`` (validated); ``False`` when it existed already (idempotent)."""
        check_workspace_name(name)
        if await self.exists(name):
            return False
        created = datetime.now(UTC).isoformat()
        await self._kv.upsert({name: {"name": name, "created_at": created}})
        await self._kv.index_done()
        return True

    async def remove(self, name: str) -> None:
        """Forget ``name`` (its data must be dropped first); unknown names are ignored."""
        await self._kv.delete([name])
        await self._kv.index_done()
