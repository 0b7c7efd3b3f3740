"""A second server on the same working directory with file storages refuses to start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager

from lightrag.server.app import create_app
from lightrag.server.workdir_lock import WorkingDirInUseError, WorkingDirLock

from .server_support import make_config


async def test_second_server_on_the_same_working_dir_refuses_to_start(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with LifespanManager(create_app(config), startup_timeout=30):
        with pytest.raises(WorkingDirInUseError, match="single-process"):
            async with LifespanManager(create_app(config), startup_timeout=30):
                pass
    # released at shutdown: the next server starts
    async with LifespanManager(create_app(config), startup_timeout=30):
        pass


async def test_another_workspace_of_the_same_working_dir_may_run_beside(tmp_path: Path) -> None:
    async with (
        LifespanManager(create_app(make_config(tmp_path, workspace="team_a"))),
        LifespanManager(create_app(make_config(tmp_path, workspace="team_b"))),
    ):
        pass


def test_the_lock_is_held_across_processes_and_names_the_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from lightrag.server.workdir_lock import WorkingDirLock;"
            "lock = WorkingDirLock(Path(sys.argv[1])); lock.acquire(); print('locked', flush=True);"
            "time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(WorkingDirInUseError, match=f"pid {holder.pid}"):
            WorkingDirLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = WorkingDirLock(tmp_path)
    lock.acquire()  # a killed holder leaves no stale lock
    lock.release()
