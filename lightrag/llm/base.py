"""Model protocols: chat completion (optionally streamed) and batch embedding.

Bindings (Ollama, OpenAI-compatible, Azure OpenAI, LoLLMs, embedded, fake) are
classes built as ``cls(config: Mapping[str, Any])`` from their config group
values; each validates those into its own pydantic ``...Config`` model.
Bindings own their HTTP client, retries, timeout and the ``max_async``
concurrency limit shared by all their callers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from lightrag.core.types import Extraction, Message, RetrievedContext

__all__ = [
    "ChatModel",
    "ContextAnswerer",
    "EmbeddingModel",
    "GraphExtractor",
    "ModelError",
]


class ModelError(RuntimeError):
    """A model call failed for good (after retries). The message names binding, host, model."""


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
class GraphExtractor(Protocol):
    """A chat model that extracts entities and relations natively (without the prompt).

    The engine uses ``extract_graph`` instead of the extraction prompt when the
    configured chat model offers it (the embedded offline model does).
    """

    async def extract_graph(self, text: str, *, chunk_id: str, file_path: str) -> Extraction: ...


@runtime_checkable
class ContextAnswerer(Protocol):
    """A chat model that answers from retrieved context natively (extractively).

    The engine calls ``answer_from_context`` instead of the answer prompt when the
    configured chat model offers it. The answer must say that it is extractive.
    """

    async def answer_from_context(self, query: str, context: RetrievedContext) -> str: ...
