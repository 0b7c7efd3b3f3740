"""The file helpers: atomic replacement, safe reads, change tracking, names."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightrag.storage._files import (
    ChangeTracker,
    CorruptStorageFileError,
    atomic_write_bytes,
    read_json,
    storage_dir,
)
from lightrag.vocabulary.storage import StorageContext


def test_atomic_write_replaces_the_content(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    atomic_write_bytes(path, b"old")
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_failed_atomic_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    atomic_write_bytes(path, b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_read_json_of_a_missing_file_is_none(tmp_path: Path) -> None:
    assert read_json(tmp_path / "absent.json") is None


def test_read_json_of_invalid_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(CorruptStorageFileError, match=r"bad\.json"):
        read_json(path)


def test_read_json_of_a_directory_names_the_path(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(CorruptStorageFileError, match=r"dir\.json"):
        read_json(tmp_path / "dir.json")


def test_storage_dir_is_the_workspace_subdirectory(tmp_path: Path) -> None:
    ctx = StorageContext(working_dir=tmp_path, namespace="n", workspace="w")
    assert storage_dir(ctx) == tmp_path / "w"
    assert storage_dir(StorageContext(working_dir=tmp_path, namespace="n")) == tmp_path


def test_empty_namespace_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="namespace must not be empty"):
        storage_dir(StorageContext(working_dir=tmp_path, namespace=""))


def test_change_tracker_stays_dirty_for_changes_after_the_snapshot() -> None:
    tracker = ChangeTracker()
    assert not tracker.dirty
    tracker.touch()
    snapshot_version = tracker.version
    tracker.touch()
    tracker.saved(snapshot_version)
    assert tracker.dirty
    tracker.saved(tracker.version)
    assert not tracker.dirty


def test_file_backends_declare_they_are_single_process_and_not_shared() -> None:
    from lightrag.storage.docstatus_json import JsonDocStatusStorage
    from lightrag.storage.graph_networkx import NetworkXGraphStorage
    from lightrag.storage.kv_json import JsonKVStorage
    from lightrag.storage.vdb_nano import NanoVectorStorage

    for cls in (JsonKVStorage, JsonDocStatusStorage, NanoVectorStorage, NetworkXGraphStorage):
        assert cls.shared is False, cls.__name__
        assert cls.single_process is True, cls.__name__
