"""The engine pool: one ``LightRAG`` engine per workspace, bound to it for life.

- **Lazy**: an engine is built (storages opened, unfinished documents resumed) on the
  first request that names its workspace; the configured default workspace is built
  at start-up and never closed before shutdown.
- **Once**: requests that first touch a workspace at the same time share one build
  (one task per name); a failed build fails every waiter and leaves nothing behind.
- **Shared**: every engine's storages take their database clients from the server's
  one ``ClientHub`` (one pool per database, whatever the number of workspaces) and
  every engine uses the server's one chat and embedding model.
- **Bounded**: at most ``server.workspaces.max_engines`` engines stay open; beyond
  it the least recently used *idle* engine is closed. An engine is busy, and never
  closed, while a request holds it (a lease, held until the response is sent, streams
  included), while it indexes, while its input directory is scanned or while a
  background job of its workspace runs. When every engine is busy the pool grows past
  the bound and shrinks again as engines become idle.
- **Explicit**: a workspace that is neither the default nor recorded in the
  ``WorkspaceRegistry`` is unknown (``UnknownWorkspaceError``) unless
  ``server.workspaces.auto_create`` is set; an unknown workspace opens nothing.

An engine closed by eviction is rebuilt from its storages on its next request; a file
workspace is never opened twice at once (its rebuild waits for the close to finish).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lightrag.core.engine import LightRAG
from lightrag.server.ingest import Scanner
from lightrag.server.jobs import BackgroundJobs
from lightrag.server.workdir_lock import WorkingDirLock
from lightrag.server.workspace_registry import WorkspaceRegistry, check_workspace_name

__all__ = [
    "DefaultWorkspaceError",
    "UnknownWorkspaceError",
    "Workspace",
    "WorkspaceBusyError",
    "WorkspacePool",
]

logger = logging.getLogger(__name__)

EngineFactory = Callable[[str], LightRAG]
ScannerFactory = Callable[[Path], Scanner]


class UnknownWorkspaceError(LookupError):
    """The workspace is neither the default nor created (and auto-creation is off)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"workspace {name!r} does not exist: GET /workspaces lists the workspaces, "
            'POST /workspaces {"name": ...} creates one'
        )
        self.name = name


class WorkspaceBusyError(RuntimeError):
    """The workspace has running work (requests, indexing, a scan or a job)."""


class DefaultWorkspaceError(ValueError):
    """The server's configured default workspace cannot be deleted."""


@dataclass(eq=False)
class Workspace:
    """One open workspace: its engine, input directory and scanner, and who uses it."""

    name: str
    engine: LightRAG
    input_dir: Path
    scanner: Scanner
    lock: WorkingDirLock | None = None
    uses: int = 0
    last_used: float = field(default_factory=time.monotonic)

    @property
    def busy(self) -> bool:
        """Held by a request or job, indexing, or scanning its input directory."""
        return self.uses > 0 or self.engine.processing or self.scanner.busy


class WorkspacePool:
    """Engines by workspace name; see the module docstring for the rules."""

    def __init__(
        self,
        *,
        default: str,
        registry: WorkspaceRegistry,
        factory: EngineFactory,
        scanner_factory: ScannerFactory,
        working_dir: Path,
        input_dir: Path,
        max_engines: int,
        auto_create: bool = False,
    ) -> None:
        self.default = default
        self.registry = registry
        self._factory = factory
        self._scanner_factory = scanner_factory
        self._working_dir = working_dir
        self._input_dir = input_dir
        self.max_engines = max_engines
        self.auto_create = auto_create
        self._open: OrderedDict[str, Workspace] = OrderedDict()  # least recently used first
        self._building: dict[str, asyncio.Task[Workspace]] = {}
        self._closing: dict[str, asyncio.Task[None]] = {}
        self._waiting: dict[str, int] = {}
        self._deleting: set[str] = set()
        self.builds = 0
        """How many engines were built (a test and benchmark figure)."""
        self.evictions = 0

    # directories -------------------------------------------------------------------

    def input_dir(self, name: str) -> Path:
        """``<input_dir>`` for the default workspace (as before), ``<input_dir>/<name>``
        for the others."""
        return self._input_dir if name == self.default else self._input_dir / name

    def data_dir(self, name: str) -> Path:
        """Where file backends keep ``name``'s data (``<working_dir>/<name>``)."""
        return self._working_dir / name if name else self._working_dir

    # lifecycle ---------------------------------------------------------------------

    async def start(self, default: Workspace) -> None:
        """Open the registry and pin the default workspace (already initialised)."""
        await self.registry.initialize()
        self._open[self.default] = default

    def default_engine(self) -> LightRAG:
        """A new (not initialised) engine of the default workspace."""
        return self._factory(self.default)

    async def open_default(self, engine: LightRAG, scanner: Scanner) -> Workspace:
        """Take the lock of the default engine's directory (file backends); the caller
        initialises the engine."""
        lock = await self._lock(self.default, engine)
        return Workspace(
            name=self.default,
            engine=engine,
            input_dir=self.input_dir(self.default),
            scanner=scanner,
            lock=lock,
        )

    async def close(self, *, finalize_default: bool = True) -> None:
        """Close every engine (the default only when ``finalize_default``)."""
        for task in list(self._building.values()):
            task.cancel()
        await asyncio.gather(*self._building.values(), return_exceptions=True)
        await asyncio.gather(*self._closing.values(), return_exceptions=True)
        spaces = list(self._open.values())
        self._open.clear()
        for space in spaces:
            await self._close(space, finalize=finalize_default or space.name != self.default)
        await self.registry.finalize()

    # leases ------------------------------------------------------------------------

    @property
    def open_names(self) -> list[str]:
        """Names of the open engines, least recently used first."""
        return list(self._open)

    def get_open(self, name: str) -> Workspace | None:
        return self._open.get(name)

    @asynccontextmanager
    async def lease(self, name: str) -> AsyncIterator[Workspace]:
        """The open workspace ``name`` (built on first use), held until the block ends."""
        space = await self.acquire(name)
        try:
            yield space
        finally:
            await self.release(space)

    async def acquire(self, name: str) -> Workspace:
        """Hold workspace ``name``; raises ``InvalidWorkspaceNameError`` (bad name) or
        ``UnknownWorkspaceError``. Pair with ``release``."""
        if name != self.default:
            check_workspace_name(name)
        while True:
            if name in self._deleting:
                raise UnknownWorkspaceError(name)
            space = self._open.get(name)
            if space is not None:
                space.uses += 1
                space.last_used = time.monotonic()
                self._open.move_to_end(name)
                return space
            task = self._building.get(name)
            if task is None:
                task = asyncio.create_task(self._build(name), name=f"open-workspace-{name}")
                self._building[name] = task
                task.add_done_callback(functools.partial(self._forget_build, name))
            self._waiting[name] = self._waiting.get(name, 0) + 1
            try:
                await asyncio.shield(task)
            finally:
                self._waiting[name] -= 1
                if not self._waiting[name]:
                    del self._waiting[name]
            # loop: the built workspace is in ``_open`` (and was not evicted: it had
            # waiters), so the first branch takes it

    async def release(self, space: Workspace) -> None:
        space.uses -= 1
        space.last_used = time.monotonic()
        if space.uses == 0 and len(self._open) > self.max_engines:
            await self._trim(room=0)

    def hold(self, space: Workspace) -> None:
        """One more use of ``space`` (a background job); pair with ``release``."""
        space.uses += 1

    def spawn(
        self,
        jobs: BackgroundJobs,
        space: Workspace,
        coro: Coroutine[Any, Any, Any],
        *,
        name: str,
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as a background job of ``space``: the engine stays open
        until the job ends."""
        self.hold(space)

        async def held() -> Any:
            try:
                return await coro
            finally:
                await self.release(space)

        return jobs.spawn(held(), name=f"{name}[{space.name}]")

    # building and closing ------------------------------------------------------------

    def _forget_build(self, name: str, task: asyncio.Task[Workspace]) -> None:
        if self._building.get(name) is task:
            del self._building[name]

    async def _build(self, name: str) -> Workspace:
        closing = self._closing.get(name)
        if closing is not None:
            await asyncio.gather(closing, return_exceptions=True)
        if not await self.registry.exists(name):
            if not self.auto_create:
                raise UnknownWorkspaceError(name)
            await self.registry.add(name)
            logger.info("workspace %r created on first use (auto_create)", name)
        await self._trim(room=1)
        engine = self._factory(name)
        lock = await self._lock(name, engine)
        try:
            await engine.load_models()
            await engine.initialize()
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        space = Workspace(
            name=name,
            engine=engine,
            input_dir=self.input_dir(name),
            scanner=self._scanner_factory(self.input_dir(name)),
            lock=lock,
        )
        self._open[name] = space
        self.builds += 1
        engine.start_processing()  # resumes documents left unfinished in this workspace
        logger.info("workspace %r opened (%d engines open)", name, len(self._open))
        return space

    async def _lock(self, name: str, engine: LightRAG) -> WorkingDirLock | None:
        if not engine.single_process:
            return None
        lock = WorkingDirLock(self.data_dir(name))
        await asyncio.to_thread(lock.acquire)
        return lock

    def _idle(self, space: Workspace) -> bool:
        return (
            space.name != self.default
            and not space.busy
            and not self._waiting.get(space.name)
            and space.name not in self._deleting
        )

    async def _trim(self, *, room: int) -> None:
        """Close idle engines, least recently used first, until ``room`` more fit."""
        while len(self._open) + room > self.max_engines:
            victim = next((s for s in self._open.values() if self._idle(s)), None)
            if victim is None:
                if room:
                    logger.warning(
                        "all %d open workspaces are busy; opening one more than "
                        "server.workspaces.max_engines=%d",
                        len(self._open),
                        self.max_engines,
                    )
                return
            del self._open[victim.name]
            self.evictions += 1
            task = asyncio.create_task(self._close(victim), name=f"close-{victim.name}")
            self._closing[victim.name] = task
            try:
                await asyncio.shield(task)
            finally:
                if self._closing.get(victim.name) is task:
                    del self._closing[victim.name]

    async def _close(self, space: Workspace, *, finalize: bool = True) -> None:
        await space.scanner.aclose()
        try:
            if finalize:
                await space.engine.finalize()
        finally:
            if space.lock is not None:
                space.lock.release()

    # explicit workspaces ---------------------------------------------------------------

    async def create(self, name: str) -> bool:
        """Record workspace ``name``; ``False`` when it exists already."""
        check_workspace_name(name)
        if name == self.default:
            return False
        return await self.registry.add(name)

    async def delete(self, name: str) -> None:
        """Drop every record of workspace ``name`` in every storage, then forget it.

        Raises ``DefaultWorkspaceError`` for the default, ``UnknownWorkspaceError``,
        ``WorkspaceBusyError`` while it has running work. Files in its input directory
        are kept.
        """
        if name == self.default:
            raise DefaultWorkspaceError(
                f"workspace {name!r} is this server's configured default and cannot be "
                "deleted; DELETE /documents empties it"
            )
        check_workspace_name(name)
        if name in self._deleting or not await self.registry.exists(name):
            raise UnknownWorkspaceError(name)
        space = self._open.get(name)
        if (space is not None and space.busy) or self._waiting.get(name) or name in self._building:
            raise WorkspaceBusyError(
                f"workspace {name!r} is in use (requests, indexing, a scan or a job); "
                "cancel its pipeline (POST /documents/cancel_pipeline) and retry"
            )
        self._deleting.add(name)
        try:
            closing = self._closing.get(name)
            if closing is not None:
                await asyncio.gather(closing, return_exceptions=True)
            if space is not None:
                del self._open[name]
                await space.scanner.aclose()
                engine, lock = space.engine, space.lock
            else:
                engine = self._factory(name)
                lock = await self._lock(name, engine)
                await engine.initialize()
            try:
                await engine.clear()  # every storage's drop(): documents to LLM cache
                await engine.finalize()
            finally:
                if lock is not None:
                    lock.release()
            await self.registry.remove(name)
            directory = self.data_dir(name)
            await asyncio.to_thread(shutil.rmtree, directory, ignore_errors=True)
            logger.info("workspace %r deleted", name)
        finally:
            self._deleting.discard(name)
