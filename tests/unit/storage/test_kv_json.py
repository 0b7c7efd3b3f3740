"""File-backend specifics of the JSON KV storage: layout, atomicity, journal, errors."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from lightrag.storage._files import CorruptStorageFileError
from lightrag.storage.kv_json import JsonKVStorage
from lightrag.vocabulary.storage import StorageContext


def context(root: Path, namespace: str = "full_docs", workspace: str = "") -> StorageContext:
    return StorageContext(working_dir=root, namespace=namespace, workspace=workspace)


def file_names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def files_state(directory: Path) -> dict[str, tuple[int, int, int]]:
    """Every file's (inode, mtime, size): equal before and after means nothing was written."""
    return {
        path.name: (path.stat().st_ino, path.stat().st_mtime_ns, path.stat().st_size)
        for path in directory.iterdir()
    }


def append_bytes(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


async def open_kv(
    root: Path, namespace: str = "full_docs", workspace: str = "", **params
) -> JsonKVStorage:
    kv = JsonKVStorage(context(root, namespace, workspace), params)
    await kv.initialize()
    return kv


async def test_files_use_the_upstream_names_in_the_working_dir(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path, "llm_response_cache")
    await kv.upsert({"k": {"return": "x"}})
    await kv.finalize()
    assert (tmp_path / "kv_store_llm_response_cache.json").is_file()
    assert json.loads((tmp_path / "kv_store_llm_response_cache.json").read_text()) == {
        "k": {"return": "x"}
    }


async def test_workspace_puts_files_in_a_subdirectory_created_on_initialize(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path / "missing" / "root", workspace="tenant_a")
    assert (tmp_path / "missing" / "root" / "tenant_a").is_dir()
    await kv.upsert({"k": {"v": 1}})
    await kv.finalize()
    assert (tmp_path / "missing" / "root" / "tenant_a" / "kv_store_full_docs.json").is_file()


async def test_existing_upstream_file_is_loaded(tmp_path: Path) -> None:
    (tmp_path / "kv_store_full_docs.json").write_text(
        json.dumps({"doc-1": {"content": "text"}}), encoding="utf-8"
    )
    kv = await open_kv(tmp_path)
    assert await kv.get("doc-1") == {"content": "text"}


@pytest.mark.parametrize("workspace", ["../escape", "a/b", "..", " padded"])
def test_workspace_that_is_not_a_plain_name_is_rejected(tmp_path: Path, workspace: str) -> None:
    with pytest.raises(ValueError, match="workspace"):
        JsonKVStorage(context(tmp_path, workspace=workspace), {})


def test_unknown_parameter_is_an_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown parameter 'jurnal'"):
        JsonKVStorage(context(tmp_path), {"jurnal": True})


def test_parameter_of_the_wrong_type_is_an_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'fsync'"):
        JsonKVStorage(context(tmp_path), {"fsync": "sometimes"})


async def test_use_before_initialize_is_an_error(tmp_path: Path) -> None:
    kv = JsonKVStorage(context(tmp_path), {})
    with pytest.raises(RuntimeError, match="initialize"):
        await kv.get("k")


async def test_corrupt_main_file_raises_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "kv_store_full_docs.json"
    path.write_text('{"doc-1": {"content": "trunc', encoding="utf-8")
    kv = JsonKVStorage(context(tmp_path), {})
    with pytest.raises(CorruptStorageFileError, match=r"kv_store_full_docs\.json"):
        await kv.initialize()
    assert path.read_text(encoding="utf-8") == '{"doc-1": {"content": "trunc'


async def test_main_file_that_is_not_an_object_of_records_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "kv_store_full_docs.json").write_text('{"doc-1": "not a record"}')
    with pytest.raises(CorruptStorageFileError, match="doc-1"):
        await open_kv(tmp_path)


async def test_unencodable_record_is_rejected_and_not_stored(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    with pytest.raises(ValueError, match="JSON"):
        await kv.upsert({"k": {"value": object()}})
    assert await kv.get("k") is None


async def test_record_that_is_not_a_dict_is_rejected(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    with pytest.raises(ValueError, match="'k' is a list"):
        await kv.upsert({"k": [1, 2]})  # type: ignore[dict-item]


async def test_index_done_without_changes_does_not_rewrite_the_file(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"k": {"v": 1}})
    await kv.finalize()
    kv = await open_kv(tmp_path)
    before = files_state(tmp_path)
    await kv.index_done()
    await kv.finalize()
    assert files_state(tmp_path) == before


async def test_index_done_below_the_compaction_limit_writes_no_main_file(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"k": {"v": 1}})
    journal_before = kv.journal_path.read_bytes()
    await kv.index_done()
    assert not (tmp_path / "kv_store_full_docs.json").exists()
    assert kv.journal_path.read_bytes() == journal_before


async def test_reading_does_not_create_or_rewrite_files(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.get("k")
    await kv.finalize()
    assert file_names(tmp_path) == []


async def test_persist_leaves_no_temporary_files(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    for i in range(5):
        await kv.upsert({f"k{i}": {"i": i}})
        await kv.index_done()
    await kv.finalize()
    assert file_names(tmp_path) == ["kv_store_full_docs.json"]


async def test_writes_are_durable_before_index_done(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}, "b": {"v": 2}})
    await kv.delete(["a"])
    # Simulated crash: no index_done, no finalize; a new process opens the files.
    survivor = await open_kv(tmp_path)
    assert await survivor.get_many(["a", "b"]) == [None, {"v": 2}]


async def test_without_journal_unpersisted_writes_are_not_on_disk(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path, journal=False)
    await kv.upsert({"a": {"v": 1}})
    assert file_names(tmp_path) == []
    await kv.index_done()
    assert await (await open_kv(tmp_path, journal=False)).get("a") == {"v": 1}


async def test_finalize_compacts_the_journal_into_the_main_file(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}})
    assert kv.journal_path.stat().st_size > 0
    await kv.finalize()
    assert not kv.journal_path.exists()
    assert json.loads((tmp_path / "kv_store_full_docs.json").read_text()) == {"a": {"v": 1}}


async def test_journal_left_by_a_crash_is_compacted_on_finalize(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}})
    survivor = await open_kv(tmp_path)
    await survivor.finalize()
    assert not survivor.journal_path.exists()
    assert json.loads((tmp_path / "kv_store_full_docs.json").read_text()) == {"a": {"v": 1}}


async def test_torn_last_journal_line_is_ignored_and_cut_off(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}})
    append_bytes(kv.journal_path, b'{"u":{"b":{"v":')  # a crash mid-append
    survivor = await open_kv(tmp_path)
    assert await survivor.get_many(["a", "b"]) == [{"v": 1}, None]
    await survivor.upsert({"c": {"v": 3}})
    again = await open_kv(tmp_path)
    assert await again.get_many(["a", "b", "c"]) == [{"v": 1}, None, {"v": 3}]


async def test_garbage_terminated_last_journal_line_is_ignored(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}})
    append_bytes(kv.journal_path, b"\x00\x00\x00\n")
    survivor = await open_kv(tmp_path)
    assert await survivor.keys() == ["a"]


async def test_corrupt_journal_line_before_the_end_raises_naming_the_file(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}})
    content = kv.journal_path.read_bytes()
    kv.journal_path.write_bytes(b"not json\n" + content)
    with pytest.raises(CorruptStorageFileError, match=r"journal\.jsonl.*line 1"):
        await open_kv(tmp_path)


async def test_crash_between_compaction_and_journal_trim_replays_to_the_same_state(
    tmp_path: Path,
) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}, "b": {"v": 2}})
    await kv.delete(["a"])
    await kv.upsert({"a": {"v": 3}})
    saved_journal = tmp_path / "journal.copy"
    shutil.copy(kv.journal_path, saved_journal)
    await kv.finalize()
    # The journal trim was lost: the whole journal is replayed over the compacted file.
    shutil.copy(saved_journal, kv.journal_path)
    os.unlink(saved_journal)
    survivor = await open_kv(tmp_path)
    assert await survivor.get_many(["a", "b"]) == [{"v": 3}, {"v": 2}]


async def test_writes_during_compaction_stay_in_the_journal(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}})
    await asyncio.gather(kv.index_done(), kv.upsert({"b": {"v": 2}}), kv.delete(["a"]))
    survivor = await open_kv(tmp_path)
    assert await survivor.get_many(["a", "b"]) == [None, {"v": 2}]


async def test_drop_persists_an_empty_file_and_removes_the_journal(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}})
    await kv.drop()
    assert json.loads((tmp_path / "kv_store_full_docs.json").read_text()) == {}
    assert not kv.journal_path.exists()
    assert await (await open_kv(tmp_path)).is_empty()


async def test_journal_is_compacted_once_it_grows_past_its_limit(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path, compact_min_bytes=1000)
    for i in range(30):
        await kv.upsert({f"k{i}": {"text": "x" * 50}})
        assert kv.journal_path.exists() is False or kv.journal_path.stat().st_size <= 1100
    assert (tmp_path / "kv_store_full_docs.json").exists()
    survivor = await open_kv(tmp_path)
    assert len(await survivor.keys()) == 30


async def test_compaction_waits_until_the_journal_outgrows_a_fraction_of_the_main_file(
    tmp_path: Path,
) -> None:
    kv = await open_kv(tmp_path, compact_min_bytes=0, compact_ratio=0.5)
    await kv.upsert({f"k{i}": {"text": "x" * 100} for i in range(100)})  # journal > 0: compacts
    main = tmp_path / "kv_store_full_docs.json"
    main_size = main.stat().st_size
    assert not kv.journal_path.exists()
    rewrites = 0
    for i in range(100):
        before = main.stat().st_mtime_ns
        await kv.upsert({f"k{i}": {"text": "y" * 100}})
        await kv.index_done()
        rewrites += main.stat().st_mtime_ns != before
        assert not kv.journal_path.exists() or kv.journal_path.stat().st_size <= main_size
    # Each rewrite waits for about half the main file's size in new lines (~120 bytes
    # each): a handful of rewrites for 100 writes, not one per write.
    assert 1 <= rewrites <= 5
    survivor = await open_kv(tmp_path)
    assert await survivor.get("k99") == {"text": "y" * 100}


async def test_failed_journal_append_leaves_the_store_and_journal_consistent(
    tmp_path: Path,
) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}})
    journal = kv._journal

    class FailingHandle:
        """Writes half the line, then fails like a full disk."""

        def __init__(self, real: Any) -> None:
            self.real = real

        def write(self, data: bytes) -> int:
            self.real.write(data[: len(data) // 2])
            self.real.flush()
            raise OSError(28, "No space left on device")

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

    journal._handle = FailingHandle(journal._handle)  # type: ignore[assignment]
    with pytest.raises(OSError, match="No space"):
        await kv.upsert({"b": {"v": 2}})
    assert await kv.get("b") is None
    journal._handle = journal._handle.real  # type: ignore[union-attr]
    await kv.upsert({"c": {"v": 3}})
    survivor = await open_kv(tmp_path)
    assert await survivor.get_many(["a", "b", "c"]) == [{"v": 1}, None, {"v": 3}]


async def test_journal_left_by_a_crash_is_replayed_even_with_the_journal_turned_off(
    tmp_path: Path,
) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}})
    # Crash, then restart with journal=False.
    restarted = await open_kv(tmp_path, journal=False)
    assert await restarted.get("a") == {"v": 1}
    await restarted.finalize()
    assert not kv.journal_path.exists()
    assert await (await open_kv(tmp_path, journal=False)).get("a") == {"v": 1}


async def test_delete_prefix_is_durable_before_index_done(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path, "llm_response_cache")
    await kv.upsert({"local:a": {"v": 1}, "local:b": {"v": 2}, "global:a": {"v": 3}})
    await kv.index_done()
    assert await kv.delete_prefix("local:") == 2
    lines = kv.journal_path.read_bytes().splitlines()
    assert json.loads(lines[-1]) == {"d": ["local:a", "local:b"]}
    # Simulated crash: no index_done, no finalize.
    restarted = await open_kv(tmp_path, "llm_response_cache")
    assert await restarted.keys() == ["global:a"]


async def test_delete_prefix_without_matches_writes_nothing(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    await kv.upsert({"a": {"v": 1}})
    await kv.index_done()
    size = kv.journal_path.stat().st_size
    assert await kv.delete_prefix("zzz") == 0
    assert kv.journal_path.stat().st_size == size


async def test_delete_prefix_rejects_a_prefix_that_is_not_a_string(tmp_path: Path) -> None:
    kv = await open_kv(tmp_path)
    with pytest.raises(ValueError, match="prefix"):
        await kv.delete_prefix(None)  # type: ignore[arg-type]
