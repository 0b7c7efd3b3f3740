"""Deterministic fakes for tests: a hashing embedder and a prompt-aware chat model.

Selectable as ``embedding=fake`` / ``llm=fake`` once ``lightrag.testing.register_fakes()``
has run; the product registries do not list them.

``FakeChatModel`` recognises the prompt it gets through a dispatch table
(``DEFAULT_HANDLERS``: first match wins, else a generic answer) and answers in
that prompt's format. To teach it a new prompt, add a ``FakeHandler`` to the
table (or pass ``handlers=`` when building one in a test).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from lightrag.core import extraction_prompts as xp
from lightrag.core import query_prompts as qp
from lightrag.core.tokenizer import get_tokenizer
from lightrag.testing.fake_text import SENTENCE_END, FakeGraph, fake_graph_of, fake_keywords_of
from lightrag.vocabulary.models import ModelError
from lightrag.vocabulary.types import Message

__all__ = [
    "DEFAULT_HANDLERS",
    "FakeChatConfig",
    "FakeChatModel",
    "FakeHandler",
    "FakeRequest",
    "HashingEmbeddingConfig",
    "HashingEmbeddingModel",
    "fake_graph_of",
    "fake_keywords_of",
]

_WORD = re.compile(r"\w+", re.UNICODE)
_FEATURE_CACHE_SIZE = 200_000
_TOKEN_COUNT_CACHE_SIZE = 4096


_WORK_UNIT_DATA = bytes(1 << 20)


def _work_unit() -> None:
    """One unit of the fake chat model's CPU work: a few milliseconds of hashing."""
    hashlib.sha256(_WORK_UNIT_DATA).digest()


class HashingEmbeddingConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dim: int = Field(64, gt=0)
    max_tokens: int = Field(8192, gt=0)


class HashingEmbeddingModel:
    """Bag-of-words feature hashing: texts sharing words get similar vectors.

    Deterministic across processes (sha1, not ``hash()``); L2-normalised.
    Counts every call and text in ``calls`` / ``texts_embedded`` for tests.
    """

    config_model: ClassVar[type[HashingEmbeddingConfig]] = HashingEmbeddingConfig

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = HashingEmbeddingConfig.model_validate(dict(config or {}))
        self.calls = 0
        self.texts_embedded = 0
        self._features: dict[str, tuple[int, float]] = {}  # word -> (index, sign), bounded

    @property
    def identity(self) -> str:
        return f"fake:hashing-{self.config.dim}"

    @property
    def dim(self) -> int:
        return self.config.dim

    @property
    def max_tokens(self) -> int:
        return self.config.max_tokens

    def _feature(self, word: str) -> tuple[int, float]:
        feature = self._features.get(word)
        if feature is None:
            digest = hashlib.sha1(word.encode()).digest()
            feature = (int.from_bytes(digest[:4], "big") % self.dim, 1.0 if digest[4] & 1 else -1.0)
            if len(self._features) < _FEATURE_CACHE_SIZE:
                self._features[word] = feature
        return feature

    def embed_one(self, text: str) -> np.ndarray:
        features = [self._feature(word) for word in _WORD.findall(text.lower())]
        if features:
            indices, signs = zip(*features, strict=True)
            sums = np.bincount(indices, weights=signs, minlength=self.dim)
            vector = sums.astype(np.float32)
        else:
            vector = np.zeros(self.dim, dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0] = 1.0
            return vector
        return vector / norm

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.embed_one(text) for text in texts])

    async def aclose(self) -> None:
        return None


# ---------------------------------------------------------------------------
# chat model


class FakeChatConfig(BaseModel):
    """Options of ``FakeChatModel`` (all optional)."""

    model_config = ConfigDict(extra="ignore")

    model: str = "fake-chat"
    latency_ms: float = Field(0.0, ge=0.0, description="simulated time per call")
    work_units: int = Field(
        0,
        ge=0,
        description="units of CPU work per call (a unit hashes 1 MiB in a worker thread), "
        "counted in ``work_done``: a cancelled call stops between units",
    )
    fail_kinds: list[str] = Field(
        default_factory=list, description="prompt kinds whose calls raise ModelError"
    )
    fail_on_text: str | None = Field(
        None, description="calls whose prompt or history contains this raise ModelError"
    )
    malformed_kinds: list[str] = Field(
        default_factory=list,
        description="prompt kinds answered in a damaged (but recoverable) shape",
    )
    max_entities_per_answer: int | None = Field(
        None, ge=0, description="extraction lists this many entities; gleaning adds the rest"
    )
    summary_max_words: int = Field(60, gt=0)
    stream_piece_chars: int = Field(16, gt=0)
    count_tokens: bool = True
    calls_log: str | None = Field(
        None, description="file to append '<kind> <md5 of history and prompt>' to, per call"
    )


@dataclass(frozen=True, slots=True)
class FakeRequest:
    """One call as the fake sees it."""

    prompt: str
    system_prompt: str | None
    history: tuple[Message, ...]
    json_mode: bool


@dataclass(frozen=True, slots=True)
class FakeHandler:
    """A prompt kind: how to recognise it and how to answer it."""

    kind: str
    matches: Callable[[FakeRequest], bool]
    respond: Callable[[FakeChatModel, FakeRequest], str]


class FakeChatModel:
    """Deterministic chat model that answers each known prompt in that prompt's format.

    Counts calls, input and output tokens per prompt kind (``calls``,
    ``input_tokens``, ``output_tokens``), the peak number of concurrent calls
    (``max_in_flight``) and the units of simulated CPU work done (``work_done``). Raises ``ModelError`` when configured to fail.
    """

    config_model: ClassVar[type[FakeChatConfig]] = FakeChatConfig

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        handlers: Sequence[FakeHandler] | None = None,
    ) -> None:
        self.config = FakeChatConfig.model_validate(dict(config or {}))
        self.handlers: list[FakeHandler] = list(DEFAULT_HANDLERS if handlers is None else handlers)
        self.calls: Counter[str] = Counter()
        self.input_tokens: Counter[str] = Counter()
        self.output_tokens: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.cpu_seconds = 0.0  # thread CPU spent producing answers (benchmarks subtract it)
        self.work_done = 0  # units of ``work_units`` done, over all calls
        self._token_counts: dict[str, int] = {}

    @property
    def identity(self) -> str:
        return f"fake:{self.config.model}"

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def classify(self, request: FakeRequest) -> FakeHandler | None:
        """The first handler that recognises ``request`` (``None``: generic)."""
        return next((h for h in self.handlers if h.matches(request)), None)

    async def complete(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> str:
        request = FakeRequest(prompt, system_prompt, tuple(history), json_mode)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.config.latency_ms:
                await asyncio.sleep(self.config.latency_ms / 1000)
            for _ in range(self.config.work_units):
                self.work_done += 1
                await asyncio.to_thread(_work_unit)
            started = time.thread_time()
            try:
                return self._answer(request)
            finally:
                self.cpu_seconds += time.thread_time() - started
        finally:
            self.in_flight -= 1

    async def stream(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        answer = await self.complete(prompt, system_prompt=system_prompt, history=history)
        size = self.config.stream_piece_chars
        for start in range(0, len(answer), size):
            yield answer[start : start + size]
            await asyncio.sleep(0)

    async def aclose(self) -> None:
        return None

    def _count(self, text: str) -> int:
        """Tokens in ``text``; remembered, since gleaning resends the extraction exchange."""
        count = self._token_counts.get(text)
        if count is None:
            count = get_tokenizer().count(text)
            if len(self._token_counts) >= _TOKEN_COUNT_CACHE_SIZE:
                self._token_counts.clear()
            self._token_counts[text] = count
        return count

    def _answer(self, request: FakeRequest) -> str:
        handler = self.classify(request)
        kind = handler.kind if handler else "generic"
        self.calls[kind] += 1
        if self.config.calls_log:
            exchange = "\x00".join([*(m["content"] for m in request.history), request.prompt])
            digest = hashlib.md5(exchange.encode(), usedforsecurity=False).hexdigest()
            with open(self.config.calls_log, "a", encoding="utf-8") as log:
                log.write(f"{kind} {digest}\n")  # one short append: whole lines across processes
        if kind in self.config.fail_kinds:
            raise ModelError(f"{self.identity}: configured to fail on {kind!r} prompts")
        marker = self.config.fail_on_text
        if marker and (
            marker in request.prompt or any(marker in m["content"] for m in request.history)
        ):
            raise ModelError(f"{self.identity}: configured to fail on text containing {marker!r}")
        answer = handler.respond(self, request) if handler else _answer_generic(self, request)
        if kind in self.config.malformed_kinds:
            answer = _damage(answer)
        if self.config.count_tokens:
            seen = [request.prompt, request.system_prompt or ""]
            seen += [m["content"] for m in request.history]
            self.input_tokens[kind] += sum(self._count(part) for part in seen)
            self.output_tokens[kind] += self._count(answer)
        return answer


# ---------------------------------------------------------------------------
# prompt handlers


def _between(text: str, start: str, end: str) -> str:
    _, found, rest = text.partition(start)
    if not found:
        return ""
    body, _, _ = rest.partition(end)
    return body.strip("\n")


def _records(graph: FakeGraph, entity_names: set[str] | None, skip: set[str]) -> str:
    t, r = xp.TUPLE_DELIMITER, xp.RECORD_DELIMITER
    rows = [
        f'("entity"{t}{name}{t}{etype}{t}{desc})'
        for name, etype, desc in graph.entities
        if (entity_names is None or name in entity_names) and name not in skip
    ]
    for src, tgt, desc, keywords, weight in graph.relations:
        inside = entity_names is None or (src in entity_names and tgt in entity_names)
        if inside and not (src in skip and tgt in skip):
            rows.append(f'("relationship"{t}{src}{t}{tgt}{t}{desc}{t}{keywords}{t}{weight:g})')
    return f"{r}\n".join(rows) + ("\n" if rows else "") + xp.COMPLETION_DELIMITER


def _limit(model: FakeChatModel, graph: FakeGraph) -> set[str] | None:
    cap = model.config.max_entities_per_answer
    return None if cap is None else {name for name, _, _ in graph.entities[:cap]}


def _is_extraction(request: FakeRequest) -> bool:
    return request.prompt.startswith(xp.EXTRACTION_HEADING)


def _answer_extraction(model: FakeChatModel, request: FakeRequest) -> str:
    graph = fake_graph_of(_between(request.prompt, xp.TEXT_HEADING, xp.TEXT_END))
    return _records(graph, _limit(model, graph), set())


def _is_gleaning(request: FakeRequest) -> bool:
    return request.prompt.startswith(xp.GLEANING_HEADING)


def _answer_gleaning(model: FakeChatModel, request: FakeRequest) -> str:
    first = next((m["content"] for m in request.history if m["role"] == "user"), "")
    graph = fake_graph_of(_between(first, xp.TEXT_HEADING, xp.TEXT_END))
    given = _limit(model, graph)
    if given is None:
        return xp.COMPLETION_DELIMITER
    return _records(graph, None, given)


def _is_summary(request: FakeRequest) -> bool:
    return request.prompt.startswith(xp.SUMMARY_HEADING)


def _answer_summary(model: FakeChatModel, request: FakeRequest) -> str:
    body = _between(request.prompt, xp.DESCRIPTIONS_HEADING, xp.DESCRIPTIONS_END)
    firsts: list[str] = []
    for line in body.splitlines():
        if line.strip():
            text = str(json.loads(line).get("description", ""))
            first = SENTENCE_END.split(text.strip(), maxsplit=1)[0]
            if first and first not in firsts:
                firsts.append(first)
    words = " ".join(firsts).split()
    return " ".join(words[: model.config.summary_max_words])


def _answer_generic(model: FakeChatModel, request: FakeRequest) -> str:
    if request.json_mode:
        return "{}"
    words = request.prompt.split()
    return f"Fake answer from {model.identity} to a prompt of {len(words)} words."


def _damage(answer: str) -> str:
    """A recoverable mangling: fenced, parentheses and quotes dropped, spaces added."""
    damaged = answer.replace('("entity"', "entity").replace('("relationship"', " relationship ")
    damaged = damaged.replace(")" + xp.RECORD_DELIMITER, xp.RECORD_DELIMITER + "  ")
    damaged = damaged.replace(xp.TUPLE_DELIMITER, " " + xp.TUPLE_DELIMITER + " ")
    return f"```text\n{damaged}\n```"


def _is_keywords(request: FakeRequest) -> bool:
    return (request.system_prompt or "").startswith(qp.KEYWORDS_MARKER)


def _answer_keywords(model: FakeChatModel, request: FakeRequest) -> str:
    _, _, after = request.prompt.rpartition("Question:\n")
    query, _, _ = after.rpartition("\n\nJSON:")
    high, low = fake_keywords_of(query)
    return json.dumps({"high_level_keywords": high, "low_level_keywords": low})


def _is_answer(request: FakeRequest) -> bool:
    return (request.system_prompt or "").startswith(qp.ANSWER_MARKER)


def _answer_from_context(model: FakeChatModel, request: FakeRequest) -> str:
    """Quotes what the answer prompt carried, so tests can check the context the model saw."""
    entities: list[str] = []
    relations: list[str] = []
    chunks: list[str] = []
    extras: list[str] = []
    for line in (request.system_prompt or "").splitlines():
        if line.startswith("4. Form and length of the answer:"):
            extras.append("response type: " + line.partition(":")[2].strip().rstrip("."))
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if "entity" in record:
            entities.append(str(record["entity"]))
        elif "entity1" in record:
            relations.append(f"{record['entity1']} -- {record['entity2']}")
        elif "reference_id" in record:
            chunks.append(f"[{record['reference_id']}] {record['content']}")
    if "6. Additional instructions from the user:" in (request.system_prompt or ""):
        instructions = (request.system_prompt or "").partition(
            "6. Additional instructions from the user:\n"
        )[2]
        extras.append("instructions: " + instructions.partition("\n")[0])
    return "\n".join(
        [
            f"Answer to: {request.prompt}",
            f"history messages: {len(request.history)}",
            *extras,
            "entities: " + "; ".join(entities),
            "relations: " + "; ".join(relations),
            "chunks:",
            *chunks,
        ]
    )


DEFAULT_HANDLERS: tuple[FakeHandler, ...] = (
    FakeHandler("extract", _is_extraction, _answer_extraction),
    FakeHandler("glean", _is_gleaning, _answer_gleaning),
    FakeHandler("summary", _is_summary, _answer_summary),
    FakeHandler("keywords", _is_keywords, _answer_keywords),
    FakeHandler("answer", _is_answer, _answer_from_context),
)
"""Prompt kinds the fake knows, first match wins; unmatched prompts get a generic answer."""
