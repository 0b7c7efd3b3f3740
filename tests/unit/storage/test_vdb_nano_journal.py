"""The nano-vectordb storage's journal: replay, torn tails, compaction, upstream readability."""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lightrag.storage._files import CorruptStorageFileError
from lightrag.storage.vdb_nano import NanoVectorStorage
from lightrag.vocabulary.storage import StorageContext

DIM = 8
META = frozenset({"entity_name", "source_id"})


def context(root: Path) -> StorageContext:
    return StorageContext(
        working_dir=root, namespace="entities", embedding_dim=DIM, meta_fields=META
    )


async def open_vdb(root: Path, **params: Any) -> NanoVectorStorage:
    vdb = NanoVectorStorage(context(root), params)
    await vdb.initialize()
    return vdb


def main_path(root: Path) -> Path:
    return root / "vdb_entities.json"


def journal_path(root: Path) -> Path:
    return root / "vdb_entities.journal.jsonl"


def rows(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, DIM)).astype(np.float32)


State = dict[str, tuple[dict[str, Any], np.ndarray]]


async def state(vdb: NanoVectorStorage) -> State:
    """Every record's metadata and (normalised) vector, by id."""
    found = {}
    for key, row in vdb._rows.items():
        record = await vdb.get([key])
        assert record[0] is not None
        found[key] = (record[0], vdb._matrix[row].copy())
    return found


def assert_same(actual: State, expected: State) -> None:
    assert sorted(actual) == sorted(expected)
    for key, (meta, vector) in expected.items():
        assert actual[key][0] == meta
        np.testing.assert_allclose(actual[key][1], vector, atol=1e-6)


def nano_state(root: Path) -> State:
    """The same, as nano-vectordb itself reads the main file."""
    from nano_vectordb import NanoVectorDB

    nano = NanoVectorDB(DIM, storage_file=str(main_path(root)))
    found = {}
    for position, entry in enumerate(nano._NanoVectorDB__storage["data"]):
        meta = {k: v for k, v in entry.items() if k in META}
        vector = nano._NanoVectorDB__storage["matrix"][position]
        found[entry["__id__"]] = ({**meta, "id": entry["__id__"]}, np.array(vector))
    return found


async def random_history(vdb: NanoVectorStorage, steps: int, seed: int) -> None:
    """Upserts, replacements, deletes and re-inserts, with ``index_done`` between batches."""
    rng = random.Random(seed)
    for step in range(steps):
        keys = [f"e{rng.randrange(40)}" for _ in range(rng.randint(1, 6))]
        keys = list(dict.fromkeys(keys))
        if rng.random() < 0.3:
            await vdb.delete(keys)
        else:
            records = {key: {"entity_name": f"{key}-{step}", "source_id": "s"} for key in keys}
            await vdb.upsert(records, rows(len(keys), seed * 1000 + step))
        if rng.random() < 0.5:
            await vdb.index_done()
    await vdb.index_done()


async def test_journal_replay_gives_the_same_store_as_the_compacted_file(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path)
    await random_history(vdb, 60, seed=3)
    expected = await state(vdb)
    assert expected  # the history leaves records behind
    assert not main_path(tmp_path).exists()  # everything is in the journal so far
    replayed = await open_vdb(tmp_path)
    assert_same(await state(replayed), expected)
    await replayed.finalize()
    assert not journal_path(tmp_path).exists()
    assert_same(await state(await open_vdb(tmp_path)), expected)
    assert_same(nano_state(tmp_path), expected)


async def test_torn_journal_tail_keeps_earlier_lines_and_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    vdb = await open_vdb(tmp_path)
    await vdb.upsert({"a": {"entity_name": "A"}}, rows(1, 1))
    await vdb.index_done()
    await vdb.upsert({"b": {"entity_name": "B"}}, rows(1, 2))
    await vdb.index_done()
    good_size = journal_path(tmp_path).stat().st_size
    await vdb.upsert({"c": {"entity_name": "C"}}, rows(1, 3))
    await vdb.index_done()
    # A crash mid-append: only part of the last line reached the disk.
    os.truncate(journal_path(tmp_path), good_size + 40)
    with caplog.at_level(logging.WARNING, logger="lightrag.storage._journal"):
        survivor = await open_vdb(tmp_path)
    assert [r and r["id"] for r in await survivor.get(["a", "b", "c"])] == ["a", "b", None]
    assert any("unterminated last line" in r.getMessage() for r in caplog.records)
    assert journal_path(tmp_path).stat().st_size == good_size  # the torn tail is cut off
    await survivor.upsert({"d": {"entity_name": "D"}}, rows(1, 4))
    await survivor.index_done()
    again = await open_vdb(tmp_path)
    assert [r and r["id"] for r in await again.get(["a", "b", "c", "d"])] == ["a", "b", None, "d"]


async def test_corrupt_line_before_the_last_raises_naming_the_journal(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path)
    await vdb.upsert({"a": {"entity_name": "A"}}, rows(1, 1))
    await vdb.index_done()
    content = journal_path(tmp_path).read_bytes()
    journal_path(tmp_path).write_bytes(b'{"u":[{"__id__":"x"}],"m":"","d":[]}\n' + content)
    with pytest.raises(CorruptStorageFileError, match=r"vdb_entities\.journal\.jsonl.*line 1"):
        await open_vdb(tmp_path)


async def test_compaction_runs_when_the_journal_outgrows_a_fraction_of_the_main_file(
    tmp_path: Path,
) -> None:
    vdb = await open_vdb(tmp_path, compact_min_bytes=0, compact_ratio=0.5)
    await vdb.upsert({f"e{i}": {"entity_name": f"E{i}"} for i in range(200)}, rows(200, 1))
    await vdb.index_done()  # an empty main file: the first line compacts at once
    assert main_path(tmp_path).exists() and not journal_path(tmp_path).exists()
    rewrites = 0
    for step in range(100):
        before = main_path(tmp_path).stat().st_mtime_ns
        await vdb.upsert({f"e{step}": {"entity_name": f"new{step}"}}, rows(1, 10 + step))
        await vdb.index_done()
        rewrites += main_path(tmp_path).stat().st_mtime_ns != before
        # between compactions the main file stays a complete, older nano-vectordb file
        assert len(nano_state(tmp_path)) == 200
    # one line is ~0.5% of the main file: a rewrite every ~100 lines, not every line
    assert 1 <= rewrites <= 3
    expected = await state(vdb)
    assert_same(await state(await open_vdb(tmp_path)), expected)


async def test_crash_between_compaction_and_journal_trim_replays_to_the_same_state(
    tmp_path: Path,
) -> None:
    vdb = await open_vdb(tmp_path)
    await random_history(vdb, 30, seed=5)
    expected = await state(vdb)
    saved = tmp_path / "journal.copy"
    shutil.copy(journal_path(tmp_path), saved)
    await vdb.finalize()
    shutil.move(saved, journal_path(tmp_path))  # the trim was lost
    assert_same(await state(await open_vdb(tmp_path)), expected)


async def test_without_journal_index_done_rewrites_the_main_file(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path, journal=False)
    await vdb.upsert({"a": {"entity_name": "A"}}, rows(1, 1))
    await vdb.index_done()
    assert not journal_path(tmp_path).exists()
    assert list(nano_state(tmp_path)) == ["a"]


async def test_drop_removes_the_journal_and_writes_an_empty_main_file(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path)
    await vdb.upsert({"a": {"entity_name": "A"}}, rows(1, 1))
    await vdb.index_done()
    await vdb.drop()
    assert not journal_path(tmp_path).exists()
    assert nano_state(tmp_path) == {}
    assert await (await open_vdb(tmp_path)).count() == 0


def grown_source_id(count: int) -> str:
    return "<SEP>".join(f"chunk-{i:032d}" for i in range(count))


async def test_long_growing_metadata_is_journaled_as_appended_tails(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path, compact_min_bytes=0, compact_ratio=0.5)
    await vdb.upsert({"hub": {"source_id": grown_source_id(200)}}, rows(1, 1))
    await vdb.upsert({f"e{i}": {"entity_name": "x" * 200} for i in range(100)}, rows(100, 2))
    await vdb.index_done()
    journal_bytes = 0
    for count in range(201, 301):
        if count == 250:  # deleted and re-created: written whole again
            await vdb.delete(["hub"])
        record = {"hub": {"source_id": grown_source_id(count), "entity_name": "H"}}
        await vdb.upsert(record, rows(1, count))
        before = journal_path(tmp_path).stat().st_size if journal_path(tmp_path).exists() else 0
        await vdb.index_done()
        after = journal_path(tmp_path).stat().st_size if journal_path(tmp_path).exists() else 0
        journal_bytes += max(after - before, 0)
    # appended tails (~100 bytes) plus one vector each, not ~10 kB values
    assert journal_bytes < 100 * 1000
    expected = await state(vdb)
    assert_same(await state(await open_vdb(tmp_path)), expected)
    await vdb.finalize()
    assert_same(nano_state(tmp_path), expected)


async def test_an_appended_tail_that_fits_no_value_is_reported_as_corrupt(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path)
    await vdb.upsert({"hub": {"source_id": grown_source_id(200)}}, rows(1, 1))
    await vdb.finalize()
    matrix = base64.b64encode(rows(1, 5).tobytes()).decode()
    entry = {"u": [{"__id__": "hub"}], "m": matrix, "x": {"hub": {"source_id": [3, "<SEP>c"]}}}
    journal_path(tmp_path).write_text(json.dumps(entry) + "\n")
    with pytest.raises(CorruptStorageFileError, match="do not fit"):
        await open_vdb(tmp_path)
