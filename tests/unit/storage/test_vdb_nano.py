"""File-backend specifics of the nano-vectordb storage: format, dimension checks, index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lightrag.storage._files import CorruptStorageFileError
from lightrag.storage.vdb_nano import EmbeddingDimensionMismatchError, NanoVectorStorage
from lightrag.vocabulary.storage import StorageContext

DIM = 16
META = frozenset({"entity_name", "source_id"})


def context(root: Path, dim: int = DIM, namespace: str = "entities") -> StorageContext:
    return StorageContext(
        working_dir=root, namespace=namespace, embedding_dim=dim, meta_fields=META
    )


async def open_vdb(root: Path, dim: int = DIM) -> NanoVectorStorage:
    vdb = NanoVectorStorage(context(root, dim), {})
    await vdb.initialize()
    return vdb


def random_rows(count: int, dim: int = DIM, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)


def files_state(directory: Path) -> dict[str, tuple[int, int, int]]:
    """Every file's (inode, mtime, size): equal before and after means nothing was written."""
    return {
        path.name: (path.stat().st_ino, path.stat().st_mtime_ns, path.stat().st_size)
        for path in directory.iterdir()
    }


def load_with_nano_vectordb(path: Path, dim: int) -> Any:
    from nano_vectordb import NanoVectorDB

    return NanoVectorDB(dim, storage_file=str(path))


async def test_file_is_named_like_upstream(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path)
    await vdb.upsert({"ent-1": {"entity_name": "A"}}, random_rows(1))
    await vdb.finalize()
    assert (tmp_path / "vdb_entities.json").is_file()


async def test_our_file_loads_in_nano_vectordb(tmp_path: Path) -> None:
    rows = random_rows(3)
    vdb = await open_vdb(tmp_path)
    await vdb.upsert({f"ent-{i}": {"entity_name": f"E{i}"} for i in range(3)}, rows)
    await vdb.finalize()
    nano = load_with_nano_vectordb(tmp_path / "vdb_entities.json", DIM)
    assert len(nano) == 3
    (hit,) = nano.query(rows[1], top_k=1)
    assert hit["__id__"] == "ent-1"
    assert hit["entity_name"] == "E1"


async def test_nano_vectordb_file_loads_here(tmp_path: Path) -> None:
    rows = random_rows(4, seed=3)
    nano = load_with_nano_vectordb(tmp_path / "vdb_entities.json", DIM)
    nano.upsert(
        [
            {"__id__": f"ent-{i}", "__vector__": rows[i], "entity_name": f"E{i}", "other": 1}
            for i in range(4)
        ]
    )
    nano.save()
    vdb = await open_vdb(tmp_path)
    assert await vdb.count() == 4
    (hit,) = await vdb.query(rows[2], top_k=1)
    assert hit["id"] == "ent-2"
    assert hit["entity_name"] == "E2"
    assert "other" not in hit  # not a meta field of this namespace


async def test_file_of_another_dimension_fails_at_initialize_with_the_fix(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path, dim=DIM)
    await vdb.upsert({"ent-1": {"entity_name": "A"}}, random_rows(1))
    await vdb.finalize()
    other = NanoVectorStorage(context(tmp_path, dim=32), {})
    with pytest.raises(EmbeddingDimensionMismatchError) as caught:
        await other.initialize()
    message = str(caught.value)
    assert "holds 16-dimensional" in message
    assert "gives 32" in message
    assert "workspace" in message
    assert "vdb_entities.json" in message


async def test_corrupt_file_raises_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "vdb_entities.json").write_text(
        json.dumps({"embedding_dim": DIM, "data": [{"__id__": "a"}], "matrix": "AAAA"})
    )
    with pytest.raises(CorruptStorageFileError, match=r"vdb_entities\.json"):
        await open_vdb(tmp_path)


def test_unknown_parameter_is_an_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown parameter 'metric'"):
        NanoVectorStorage(context(tmp_path), {"metric": "l2"})


def test_missing_embedding_dimension_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="embedding_dim"):
        NanoVectorStorage(context(tmp_path, dim=0), {})


async def test_vectors_with_nan_are_rejected(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path)
    rows = random_rows(1)
    rows[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        await vdb.upsert({"a": {"entity_name": "A"}}, rows)


async def test_index_done_without_changes_does_not_rewrite_the_file(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path)
    await vdb.upsert({"a": {"entity_name": "A"}}, random_rows(1))
    await vdb.index_done()
    before = files_state(tmp_path)
    await vdb.delete(["not-there"])
    await vdb.index_done()
    assert files_state(tmp_path) == before


async def test_large_store_query_is_correct_on_the_threaded_path(tmp_path: Path) -> None:
    vdb = NanoVectorStorage(context(tmp_path, dim=64), {})
    await vdb.initialize()
    rows = random_rows(20_000, dim=64, seed=5)  # above the in-loop size limit
    await vdb.upsert({f"c{i}": {"source_id": str(i)} for i in range(20_000)}, rows)
    results = await vdb.query(rows[12_345], top_k=5, threshold=-1.0)
    assert results[0]["id"] == "c12345"
    assert len(results) == 5
    scores = [r["score"] for r in results]
    expected = np.sort(
        (rows / np.linalg.norm(rows, axis=1, keepdims=True))
        @ (rows[12_345] / np.linalg.norm(rows[12_345]))
    )[::-1][:5]
    assert scores == pytest.approx(list(expected), abs=1e-5)


async def test_delete_then_reinsert_keeps_the_index_consistent(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path)
    rows = random_rows(50)
    await vdb.upsert({f"e{i}": {"entity_name": str(i)} for i in range(50)}, rows)
    await vdb.delete([f"e{i}" for i in range(0, 50, 2)])
    await vdb.upsert({"e0": {"entity_name": "again"}}, rows[:1])
    await vdb.finalize()
    reopened = await open_vdb(tmp_path)
    assert await reopened.count() == 26
    for i in (0, 1, 49):
        (hit,) = await reopened.query(rows[i], top_k=1, threshold=0.99)
        assert hit["id"] == f"e{i}"
    assert (await reopened.get(["e0"]))[0] == {"id": "e0", "entity_name": "again"}


async def test_filter_values_given_as_one_string_are_rejected_with_the_fix(
    tmp_path: Path,
) -> None:
    vdb = await open_vdb(tmp_path)
    await vdb.upsert({"a": {"source_id": "doc-1"}}, random_rows(1))
    with pytest.raises(ValueError, match=r"collection of values.*\['doc-1'\]"):
        await vdb.query(random_rows(1)[0], top_k=1, filters={"source_id": "doc-1"})


async def test_filter_on_a_field_with_a_list_value_matches_nothing(tmp_path: Path) -> None:
    vdb = await open_vdb(tmp_path)
    rows = random_rows(2)
    await vdb.upsert({"a": {"source_id": ["x", "y"]}, "b": {"source_id": "x"}}, rows)
    found = await vdb.query(rows[0], top_k=5, threshold=-1.0, filters={"source_id": ["x"]})
    assert [r["id"] for r in found] == ["b"]


async def test_filters_work_on_the_threaded_search_path_and_after_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lightrag.storage import vdb_nano

    monkeypatch.setattr(vdb_nano, "_THREAD_FLOATS", 0)  # every query runs in a thread
    vdb = await open_vdb(tmp_path)
    rows = random_rows(50)
    await vdb.upsert(
        {f"e{i}": {"source_id": f"doc-{i % 5}", "entity_name": str(i)} for i in range(50)}, rows
    )
    await vdb.delete(["e3"])  # moves the last row into the hole
    found = await vdb.query(rows[8], top_k=3, threshold=-1.0, filters={"source_id": ["doc-3"]})
    assert found[0]["id"] == "e8"
    assert {r["source_id"] for r in found} == {"doc-3"}
    await vdb.finalize()
    reloaded = await open_vdb(tmp_path)
    again = await reloaded.query(rows[8], top_k=3, threshold=-1.0, filters={"source_id": ["doc-3"]})
    assert [r["id"] for r in again] == [r["id"] for r in found]
    assert [r["score"] for r in again] == pytest.approx([r["score"] for r in found], abs=1e-5)
