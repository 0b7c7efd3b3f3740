"""Model protocols: chat completion (optionally streamed) and batch embedding.

Bindings (Ollama, OpenAI-compatible, Azure OpenAI, LoLLMs, embedded, fake) are
classes built as ``cls(config: Mapping[str, Any])`` from their config group
values; each validates those into its own pydantic ``...Config`` model.
Bindings own their HTTP client, retries, timeout and the ``max_async``
concurrency limit shared by all their callers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from lightrag.vocabulary.types import Extraction, Message, RetrievedContext

__all__ = [
    "ChatModel",
    "EmbeddingModel",
    "ModelError",
    "ModelUnavailableError",
    "NativeRagModel",
]


class ModelError(RuntimeError):
    """A model call failed for good (after retries). The message names binding, host, model."""


class ModelUnavailableError(ModelError):
    """The model backend could not be reached, or did not answer in time, after retries
    (down, overloaded, too slow): the same call may succeed later. The server answers
    such failures 503 and other model failures (a reply it cannot use) 502."""


@runtime_checkable
class ChatModel(Protocol):
    """A chat LLM."""

    @property
    def identity(self) -> str:
        """Stable ``"binding:model"`` string; part of every LLM cache key."""

    async def complete(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> str:
        """The whole answer to ``prompt`` (the last user turn) after ``history``.

        ``json_mode`` asks the backend for a JSON object where it supports that.
        Raises ``ModelError`` when the call fails after retries.
        """

    def stream(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        """The answer as text pieces. Closing the iterator cancels the request."""

    async def aclose(self) -> None: ...


@runtime_checkable
class EmbeddingModel(Protocol):
    """A text embedding model."""

    @property
    def identity(self) -> str: ...

    @property
    def dim(self) -> int:
        """Length of every vector returned."""

    @property
    def max_tokens(self) -> int:
        """Longest input (in the model's own tokens) embedded without loss."""

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of shape ``(len(texts), dim)``, float32, in the order of ``texts``.

        Batching and concurrency are the binding's business. Raises ``ModelError``.
        """

    async def aclose(self) -> None: ...


@runtime_checkable
class NativeRagModel(Protocol):
    """A chat model that performs the RAG steps itself instead of through prompts.

    The embedded offline model does (spaCy extraction, extractive answers). When
    the configured chat model satisfies this protocol, the engine calls these
    methods where it would otherwise send the extraction, keyword, summary and
    answer prompts. Its ``complete``/``stream`` still serve bypass requests.
    """

    async def extract_graph(self, text: str, *, chunk_id: str, file_path: str) -> Extraction:
        """Entities and relations of one chunk (same shape as LLM extraction)."""

    async def extract_keywords(self, query: str) -> tuple[list[str], list[str]]:
        """``(high_level, low_level)`` keywords of a query."""

    async def summarize_descriptions(self, name: str, descriptions: Sequence[str]) -> str:
        """One description out of many for an entity or relation named ``name``."""

    async def answer_from_context(self, query: str, context: RetrievedContext) -> str:
        """An answer built from the retrieved context; it must say it is extractive."""
