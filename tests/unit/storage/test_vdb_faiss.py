"""Faiss storage: crash-consistent persistence, filters, dimension checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lightrag.storage._files import CorruptStorageFileError
from lightrag.vocabulary.errors import StorageSchemaError
from lightrag.vocabulary.storage import StorageContext

pytestmark = pytest.mark.faiss

vdb_faiss = pytest.importorskip("lightrag.storage.vdb_faiss", reason="extra `faiss` not installed")
FaissVectorStorage = vdb_faiss.FaissVectorStorage

DIM = 8
META = frozenset({"name", "doc"})


def context(tmp_path: Path, dim: int = DIM, namespace: str = "entities") -> StorageContext:
    return StorageContext(
        working_dir=tmp_path, namespace=namespace, workspace="ws", embedding_dim=dim,
        meta_fields=META, cosine_threshold=0.0,
    )  # fmt: skip


async def opened(tmp_path: Path, dim: int = DIM) -> Any:
    storage = FaissVectorStorage(context(tmp_path, dim), {})
    await storage.initialize()
    return storage


def basis(index: int) -> np.ndarray:
    vector = np.zeros((1, DIM), dtype=np.float32)
    vector[0, index] = 1.0
    return vector


class _Crash(Exception):
    """Stands for the process dying at that point."""


def crash_on_manifest_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next persist die after the index and metadata files are renamed into
    place but before the manifest is replaced (between the renames)."""
    real = vdb_faiss.atomic_write_json

    def write(path: Path, value: Any) -> None:
        if path.name.endswith(".manifest.json"):
            raise _Crash(path)
        real(path, value)

    monkeypatch.setattr(vdb_faiss, "atomic_write_json", write)


async def test_crash_between_data_and_manifest_renames_reopens_the_previous_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = await opened(tmp_path)
    await storage.upsert({"a": {"name": "old-a"}}, basis(0))
    await storage.index_done()
    await storage.upsert(
        {"a": {"name": "new-a"}, "b": {"name": "b"}}, np.vstack([basis(1), basis(2)])
    )
    crash_on_manifest_write(monkeypatch)
    with pytest.raises(_Crash):
        await storage.index_done()
    directory = tmp_path / "ws"
    # both files of the new generation were written: only the manifest was not
    assert len(list(directory.glob("faiss_entities.g*.index"))) == 2
    monkeypatch.undo()

    reopened = await opened(tmp_path)  # the crashed instance is abandoned, never finalised
    assert await reopened.count() == 1
    assert await reopened.get(["a", "b"]) == [{"id": "a", "name": "old-a"}, None]
    (hit,) = await reopened.query(basis(0)[0], top_k=1)
    assert (hit["id"], hit["name"]) == ("a", "old-a")
    # the uncommitted generation's files are gone after load
    assert sorted(p.name for p in directory.glob("faiss_entities.g*")) == [
        "faiss_entities.g1.index",
        "faiss_entities.g1.meta.json",
    ]


async def test_persist_after_a_crash_commits_and_keeps_one_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = await opened(tmp_path)
    await storage.upsert({"a": {"name": "a"}}, basis(0))
    crash_on_manifest_write(monkeypatch)
    with pytest.raises(_Crash):
        await storage.index_done()
    monkeypatch.undo()
    await storage.upsert({"b": {"name": "b"}}, basis(1))
    await storage.finalize()
    manifest = json.loads((tmp_path / "ws" / "faiss_entities.manifest.json").read_text())
    generation = manifest["generation"]
    names = sorted(p.name for p in (tmp_path / "ws").glob("faiss_entities.g*"))
    assert names == [
        f"faiss_entities.g{generation}.index",
        f"faiss_entities.g{generation}.meta.json",
    ]
    reopened = await opened(tmp_path)
    assert await reopened.count() == 2


async def test_metadata_of_another_generation_is_refused_not_paired(tmp_path: Path) -> None:
    storage = await opened(tmp_path)
    await storage.upsert({"a": {"name": "a"}}, basis(0))
    await storage.finalize()
    directory = tmp_path / "ws"
    manifest_path = directory / "faiss_entities.manifest.json"
    manifest = json.loads(manifest_path.read_text())
    meta_path = directory / manifest["meta"]
    meta = json.loads(meta_path.read_text())
    meta["generation"] += 1
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CorruptStorageFileError, match="generation"):
        await opened(tmp_path)


async def test_reopen_restores_vectors_metadata_and_fresh_ids(tmp_path: Path) -> None:
    storage = await opened(tmp_path)
    await storage.upsert({"a": {"name": "a"}, "b": {"name": "b"}}, np.vstack([basis(0), basis(1)]))
    await storage.delete(["a"])
    await storage.finalize()
    reopened = await opened(tmp_path)
    await reopened.upsert({"c": {"name": "c"}}, basis(2))  # must not reuse b's Faiss id
    assert [r["id"] for r in await reopened.query(basis(1)[0], top_k=3, threshold=0.5)] == ["b"]
    assert [r["id"] for r in await reopened.query(basis(2)[0], top_k=3, threshold=0.5)] == ["c"]


async def test_stored_index_of_another_dimension_is_refused_naming_both(tmp_path: Path) -> None:
    storage = await opened(tmp_path)
    await storage.upsert({"a": {"name": "a"}}, basis(0))
    await storage.finalize()
    with pytest.raises(StorageSchemaError, match=r"holds 8-dimensional .* gives 16"):
        await opened(tmp_path, dim=16)


async def test_filters_take_top_k_among_the_passing_records(tmp_path: Path) -> None:
    storage = await opened(tmp_path)
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(200, DIM)).astype(np.float32)
    records = {
        f"e{i}": {"name": f"n{i}", "doc": "d-rare" if i % 50 == 0 else "d-common"}
        for i in range(200)
    }
    await storage.upsert(records, rows)
    query = rows[1]  # closest to a d-common record: an unfiltered top 3 holds no d-rare
    results = await storage.query(query, top_k=3, threshold=-1.0, filters={"doc": ["d-rare"]})
    unfiltered = await storage.query(query, top_k=3, threshold=-1.0)
    assert all(r["doc"] == "d-common" for r in unfiltered)  # filtering after top 3 finds none
    assert len(results) == 3
    assert {r["id"] for r in results} < {"e0", "e50", "e100", "e150"}
    everything = await storage.query(query, top_k=10, threshold=-1.0, filters={"doc": ["d-rare"]})
    assert sorted(r["id"] for r in everything) == ["e0", "e100", "e150", "e50"]
    scores = [r["score"] for r in everything]
    assert scores == sorted(scores, reverse=True)


async def test_filters_combine_fields_and_match_any_value(tmp_path: Path) -> None:
    storage = await opened(tmp_path)
    await storage.upsert(
        {
            "a": {"name": "x", "doc": "d1"},
            "b": {"name": "y", "doc": "d2"},
            "c": {"name": "x", "doc": "d3"},
        },
        np.vstack([basis(0), basis(0), basis(0)]),
    )
    hits = await storage.query(
        basis(0)[0], top_k=5, filters={"doc": ["d1", "d2", "d3"], "name": ["x"]}
    )
    assert sorted(r["id"] for r in hits) == ["a", "c"]
    assert await storage.query(basis(0)[0], top_k=5, filters={"doc": ["none"]}) == []


async def test_filter_on_a_field_that_is_not_kept_is_an_error(tmp_path: Path) -> None:
    storage = await opened(tmp_path)
    with pytest.raises(ValueError, match=r"cannot filter on 'secret'"):
        await storage.query(basis(0)[0], top_k=1, filters={"secret": ["x"]})
    with pytest.raises(ValueError, match="collection of values"):
        await storage.query(basis(0)[0], top_k=1, filters={"doc": "d1"})


async def test_reupsert_replaces_the_vector_in_the_index(tmp_path: Path) -> None:
    storage = await opened(tmp_path)
    await storage.upsert({"a": {"name": "a"}}, basis(0))
    await storage.upsert({"a": {"name": "a2"}}, basis(1))
    assert storage._index.ntotal == 1
    assert await storage.query(basis(0)[0], top_k=5, threshold=0.5) == []
    (hit,) = await storage.query(basis(1)[0], top_k=5, threshold=0.5)
    assert hit["name"] == "a2"
