"""``EmbeddedChatModel``: the RAG steps without a generative LLM, fully offline.

It satisfies ``ChatModel`` and ``NativeRagModel``: graph extraction with spaCy
(named entities, recurring noun phrases, sentence co-occurrence and the
dependency parse), keywords from the parse, extractive summaries and
extractive answers ranked with the embedded MiniLM model. ``complete`` and
``stream`` (bypass mode) say honestly that no generative model is configured
and how to configure one. spaCy and onnxruntime load lazily, once; spaCy parses
run in worker processes (``parse_processes.py``; or threads), the rest in threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from lightrag.llm.embedded.answer import (
    Candidate,
    collect_candidates,
    format_answer,
    lexical_scores,
)
from lightrag.llm.embedded.cpu import cpu_slots
from lightrag.llm.embedded.embedding import EmbeddedEmbeddingModel
from lightrag.llm.embedded.entity_types import EntityTypeMapper
from lightrag.llm.embedded.extractive import pick_sentences, summarize
from lightrag.llm.embedded.keywords import keywords_from_doc
from lightrag.llm.embedded.ner import GraphExtractionSettings, extract_graph_from_doc
from lightrag.llm.embedded.nlp import DEFAULT_SPACY_MODEL, SpacyPipeline
from lightrag.llm.embedded.parse_processes import ParseProcesses, ParseSpec
from lightrag.vocabulary.priority import PrioritySlots
from lightrag.vocabulary.types import Extraction, Message, RetrievedContext

__all__ = ["BYPASS_MESSAGE", "EmbeddedChatConfig", "EmbeddedChatModel"]

_ALGORITHM_VERSION = "1"  # bump when extraction or answer logic changes (LLM cache key)
_T = TypeVar("_T")

BYPASS_MESSAGE = (
    "No generative language model is configured: this server runs the embedded offline "
    "recipe, which builds the knowledge graph and answers with sentences quoted from your "
    "documents, but cannot write free text or chat.\n\n"
    "To generate answers, point it at any OpenAI-compatible server (vLLM, llama.cpp server, "
    "LM Studio, Ollama's /v1, ...):\n\n"
    "    LLM_BINDING_HOST=http://localhost:8080/v1 LLM_MODEL=<model> "
    "lightrag-server +recipe=embedded llm=openai\n\n"
    "or use a recipe with an LLM (for example +recipe=ollama-local). Queries in the modes "
    "local, global, hybrid, naive and mix return extractive answers meanwhile."
)


class EmbeddedChatConfig(BaseModel):
    """Parameters of the embedded chat model (``conf/llm/embedded.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    spacy_model: str = Field(DEFAULT_SPACY_MODEL, min_length=1)
    entity_types: list[str] = Field(
        default_factory=lambda: ["organization", "person", "geo", "event", "category"],
        min_length=1,
    )
    label_types: dict[str, str] = Field(
        default_factory=dict, description="spaCy label -> entity type, overriding the defaults"
    )
    include_concepts: bool = True
    resolve_pronouns: bool = True
    min_concept_mentions: int = Field(2, ge=1)
    max_concepts: int = Field(15, ge=0)
    cooccurrence_window: int = Field(3, ge=1)
    max_relations: int = Field(40, ge=0, description="best-supported relations kept per chunk")
    max_description_sentences: int = Field(3, ge=1)
    max_description_chars: int = Field(1200, ge=80)
    summary_max_chars: int = Field(1500, ge=80)
    answer_max_sentences: int = Field(6, ge=1)
    answer_max_chars: int = Field(2000, ge=80)
    answer_min_relative_score: float = Field(0.5, ge=0.0, le=1.0)
    answer_min_similarity: float = Field(
        0.4,
        ge=-1.0,
        le=1.0,
        description="least cosine similarity of a quoted sentence to the question (with "
        "rank_with_embeddings); none reaching it: the answer says nothing matched",
    )
    answer_min_coverage: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="without embeddings: least idf-weighted share of the question's words "
        "a quoted sentence must contain",
    )
    answer_shortlist: int = Field(64, ge=1, description="sentences ranked with embeddings")
    rank_with_embeddings: bool = True
    max_async: int = Field(
        1, ge=1, description="chunk parses at once (a question's short parse needs only a core)"
    )
    parse_processes: bool = Field(
        True,
        description="spaCy parses in worker processes, off the server's interpreter lock: "
        "chunks in max_async processes, questions in one more (false: in threads of the "
        "server process, behind the spaCy and core slots)",
    )
    chunk_nice: int = Field(
        5,
        ge=0,
        le=19,
        description="OS niceness added to the chunk-parse processes: under a query load the "
        "kernel gives the cores to the server process first",
    )
    chunk_worker_parses: int = Field(
        1000,
        ge=0,
        description="chunk parses a worker process makes before a fresh one replaces it "
        "(spaCy's string store grows with every new word; 0 = never replaced)",
    )


class EmbeddedChatModel:
    """A ``ChatModel`` + ``NativeRagModel`` that needs no LLM, no network, no API key."""

    config_model: ClassVar[type[EmbeddedChatConfig]] = EmbeddedChatConfig

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = EmbeddedChatConfig.model_validate(dict(config or {}))
        self._mapper = EntityTypeMapper(self.config.entity_types, self.config.label_types)
        self._settings = GraphExtractionSettings(
            include_concepts=self.config.include_concepts,
            resolve_pronouns=self.config.resolve_pronouns,
            min_concept_mentions=self.config.min_concept_mentions,
            max_concepts=self.config.max_concepts,
            cooccurrence_window=self.config.cooccurrence_window,
            max_relations=self.config.max_relations,
            max_description_sentences=self.config.max_description_sentences,
            max_description_chars=self.config.max_description_chars,
        )
        self._pipeline = SpacyPipeline(self.config.spacy_model)
        self._processes: ParseProcesses | None = None
        if self.config.parse_processes:
            spec = ParseSpec(
                spacy_model=self.config.spacy_model,
                entity_types=tuple(self.config.entity_types),
                label_types=tuple(sorted(self.config.label_types.items())),
                settings=self._settings,
            )
            self._processes = ParseProcesses(
                spec,
                chunk_processes=self.config.max_async,
                chunk_nice=self.config.chunk_nice,
                chunk_tasks=self.config.chunk_worker_parses,
            )
        self._slots = PrioritySlots(self.config.max_async)
        # The ranking runs have a pool of their own (not the spaCy runs'): a query's
        # keyword parse does not wait behind other queries' ranking. Both go through the
        # cores' pool (``cpu_slots``), where queries are served before ingestion.
        self._embedder = EmbeddedEmbeddingModel() if self.config.rank_with_embeddings else None

    @property
    def identity(self) -> str:
        return f"embedded:{self.config.spacy_model}+extractive-v{_ALGORITHM_VERSION}"

    async def load(self) -> None:
        """Load spaCy (and the ranking embedder) now instead of on first use (idempotent)."""
        if self._processes is not None:
            await self._processes.start()
        else:
            await asyncio.to_thread(self._pipeline.get)
        if self._embedder is not None:
            await self._embedder.load()

    async def _in_thread(self, work: Callable[[], _T]) -> _T:
        # Query first: a query's run goes next, here and on the cores shared with the
        # engine's embedder (``cpu_slots``).
        async with self._slots.slot(), cpu_slots().slot():
            return await asyncio.to_thread(work)

    async def _on_a_core(self, work: Callable[[], _T]) -> _T:
        # A run that takes only a core (query first), no spaCy slot. A question's parse (a few ms: max_query_length bounds it) queues only for a
        # core, where it goes first, not behind the chunk parses of ``max_async``: with
        # one spaCy slot, parses of 20 concurrent questions and extraction kept it busy
        # 97% of the time and questions waited 0.6 s there (benchmarks/query_under_load.py).
        async with cpu_slots().slot():
            return await asyncio.to_thread(work)

    # ChatModel ---------------------------------------------------------------------

    async def complete(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> str:
        """Always the ``BYPASS_MESSAGE``: there is no generative model to complete ``prompt``."""
        return BYPASS_MESSAGE

    async def stream(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        """The ``BYPASS_MESSAGE``, one paragraph per piece."""
        paragraphs = BYPASS_MESSAGE.split("\n\n")
        for index, paragraph in enumerate(paragraphs):
            yield paragraph if index == len(paragraphs) - 1 else paragraph + "\n\n"

    async def aclose(self) -> None:
        if self._processes is not None:
            await self._processes.aclose()
        if self._embedder is not None:
            await self._embedder.aclose()

    # NativeRagModel ------------------------------------------------------------------

    async def extract_graph(self, text: str, *, chunk_id: str, file_path: str) -> Extraction:
        """Entities and relations of one chunk; empty for a chunk with no text."""
        if not text.strip():
            return Extraction()
        if self._processes is not None:
            return await self._processes.extract_graph(text, chunk_id, file_path)

        def work() -> Extraction:
            doc = self._pipeline.parse(text)
            return extract_graph_from_doc(
                doc,
                chunk_id=chunk_id,
                file_path=file_path,
                mapper=self._mapper,
                settings=self._settings,
            )

        return await self._in_thread(work)

    async def extract_keywords(self, query: str) -> tuple[list[str], list[str]]:
        """``(high_level, low_level)``: noun phrases; named entities and key nouns."""
        if not query.strip():
            return [], []
        if self._processes is not None:
            return await self._processes.keywords(query)
        return await self._on_a_core(lambda: keywords_from_doc(self._pipeline.parse(query)))

    async def summarize_descriptions(self, name: str, descriptions: Sequence[str]) -> str:
        """The most central, non-redundant sentences of ``descriptions`` (extractive)."""
        limit = self.config.summary_max_chars
        # ingestion work (no spaCy parse): it yields the cores to queries
        return await self._on_a_core(lambda: summarize(name, list(descriptions), max_chars=limit))

    async def answer_from_context(self, query: str, context: RetrievedContext) -> str:
        """The context's sentences that best match ``query``, with reference numbers,
        under a first line saying the answer is extractive (no generative model)."""
        candidates = collect_candidates(context)
        if not candidates:
            return format_answer([], [], context)
        lexical, coverage, model = await asyncio.to_thread(lexical_scores, query, candidates)
        shortlist = [int(i) for i in np.argsort(-lexical, kind="stable")]
        shortlist = shortlist[: self.config.answer_shortlist]
        chosen = [candidates[i] for i in shortlist]
        scores = lexical[shortlist]
        if self._embedder is not None:
            vectors = await self._embedder.embed([query, *(c.text for c in chosen)])
            semantic = vectors[1:] @ vectors[0]
            relevant = semantic >= self.config.answer_min_similarity
            scores = semantic + 0.5 * scores
            similarity = vectors[1:] @ vectors[1:].T
        else:
            relevant = coverage[shortlist] >= self.config.answer_min_coverage
            rows = model.dense([i + 1 for i in shortlist])  # the shortlist's TF-IDF only
            similarity = rows @ rows.T
        scores = scores + np.array([0.05 / (1 + c.rank) for c in chosen])
        order = [i for i in self._select(chosen, scores, similarity) if relevant[i]]
        return format_answer(chosen, order, context)

    # helpers -----------------------------------------------------------------------

    def _select(
        self, candidates: Sequence[Candidate], scores: np.ndarray, similarity: np.ndarray
    ) -> list[int]:
        if len(candidates) == 0 or float(scores.max()) <= 0.0:
            return []
        floor = self.config.answer_min_relative_score * float(scores.max())
        order = pick_sentences(
            scores,
            similarity,
            [len(c.text) for c in candidates],
            max_chars=self.config.answer_max_chars,
            max_count=self.config.answer_max_sentences,
            redundancy=0.9,
        )
        return [i for i in order if scores[i] >= floor]
