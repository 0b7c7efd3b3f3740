"""Crash resume: a process killed mid-ingest leaves work a fresh engine finishes correctly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from .insert_support import graph_snapshot, open_engine
from .resume_child import DOCS

CHILD = Path(__file__).with_name("resume_child.py")
REPO = Path(__file__).resolve().parents[3]


def ingest_until_killed(workdir: Path, processed_before_kill: int) -> dict[str, int]:
    """Run the child until it reports ``processed_before_kill`` documents, then SIGKILL it."""
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(workdir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout is not None
    try:
        for line in child.stdout:
            if line.startswith("DONE"):
                raise AssertionError("the child finished before it could be killed")
            counts: dict[str, int] = json.loads(line)
            if counts.get("processed", 0) >= processed_before_kill:
                child.send_signal(signal.SIGKILL)
                child.wait(timeout=10)
                return counts
        raise AssertionError(f"child exited early: {child.wait()} {child.stderr.read()}")  # type: ignore[union-attr]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)


async def test_fresh_engine_finishes_documents_left_by_a_killed_process(tmp_path: Path) -> None:
    counts = ingest_until_killed(tmp_path / "crashed", processed_before_kill=2)
    assert counts["processed"] < len(DOCS)

    resumed, llm = await open_engine(tmp_path / "crashed")
    reference, _ = await open_engine(tmp_path / "clean")
    try:
        left = await resumed.storages.doc_status.status_counts()
        assert left["processed"] >= 2
        assert left["pending"] + left["processing"] > 0  # really interrupted
        await resumed.process_queue()
        finished = await resumed.storages.doc_status.status_counts()
        assert finished["processed"] == len(DOCS) and finished["failed"] == 0
        assert llm.total_calls > 0  # the unfinished documents were extracted here

        await reference.insert(DOCS)
        # same nodes, types, sources and summed weights as an uninterrupted run:
        # nothing lost, nothing merged twice
        assert await graph_snapshot(resumed) == await graph_snapshot(reference)
        assert await resumed.storages.chunks_vdb.count() == len(DOCS)
        assert (
            await resumed.storages.entities_vdb.count()
            == await reference.storages.entities_vdb.count()
        )
    finally:
        await resumed.finalize()
        await reference.finalize()
