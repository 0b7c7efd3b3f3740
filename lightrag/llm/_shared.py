"""Pieces the HTTP bindings share: construction, chat message lists, batched embedding.

``HttpBinding`` builds a binding from its config group values: it validates them
into the class's ``config_model`` and opens one pooled ``HttpClient`` (bearer
key by default; Azure overrides ``_client``).

``BatchedEmbeddingModel`` splits texts into batches of ``batch_size``, sends the
batches concurrently (bounded by the binding's ``max_async``), and checks that
every vector has the configured dimension, so a model/dimension mismatch fails
loudly at the first call instead of corrupting a vector store.
"""

from __future__ import annotations

import asyncio
import base64
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np
from pydantic import Field

from lightrag.llm._http import HttpClient, HttpModelConfig
from lightrag.vocabulary.types import Message

__all__ = [
    "BatchedEmbeddingModel",
    "EmbeddingHttpConfig",
    "HttpBinding",
    "bearer_headers",
    "chat_messages",
    "decode_vector",
    "field_at",
    "gather_or_cancel",
]

_ROLES = frozenset({"system", "user", "assistant"})
T = TypeVar("T")


def chat_messages(
    prompt: str, system_prompt: str | None, history: Sequence[Message]
) -> list[dict[str, str]]:
    """``[system?] + history + [user prompt]`` as role/content dicts.

    Raises ``ValueError`` naming the turn when a history item is malformed.
    """
    if not isinstance(prompt, str):
        raise ValueError(f"prompt must be a string, got {type(prompt).__name__}")
    messages: list[dict[str, str]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    for index, turn in enumerate(history):
        role = turn.get("role") if isinstance(turn, dict) else None
        content = turn.get("content") if isinstance(turn, dict) else None
        if role not in _ROLES or not isinstance(content, str):
            raise ValueError(
                f"history[{index}] must be {{'role': 'system'|'user'|'assistant', "
                f"'content': str}}, got {turn!r:.120}"
            )
        messages.append({"role": role, "content": content})
    messages.append({"role": "user", "content": prompt})
    return messages


def field_at(value: Any, *path: str | int) -> Any:
    """``value[path[0]][path[1]]...`` of a decoded JSON reply, or ``None`` where a key or
    index is missing or a step is not an object/list (a reply of the wrong shape)."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(value, list) or not -len(value) <= key < len(value):
                return None
            value = value[key]
        elif isinstance(value, dict):
            value = value.get(key)
        else:
            return None
    return value


def decode_vector(value: Any) -> list[float] | np.ndarray:
    """A vector given as a list of numbers or as base64 little-endian float32 bytes."""
    if isinstance(value, str):
        return np.frombuffer(base64.b64decode(value), dtype="<f4")
    if isinstance(value, list):
        return value
    raise ValueError(f"expected a list of floats or a base64 string, got {type(value).__name__}")


async def gather_or_cancel(awaitables: Sequence[Awaitable[T]]) -> list[T]:
    """Await all; on the first failure (or cancellation) cancel the rest, then re-raise."""
    tasks = [asyncio.ensure_future(item) for item in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


def bearer_headers(config: HttpModelConfig) -> dict[str, str]:
    """``Authorization: Bearer <api_key>`` when a key is configured, else no header."""
    if config.api_key is None:
        return {}
    return {"Authorization": f"Bearer {config.api_key.get_secret_value()}"}


class HttpBinding:
    """Base of the HTTP bindings: validated config, one pooled client, identity, close."""

    binding: ClassVar[str]
    role: ClassVar[str]
    config_model: ClassVar[type[HttpModelConfig]]
    config: HttpModelConfig

    def __init__(self, config: Mapping[str, Any]) -> None:
        """Validate ``config`` into ``config_model``; raises pydantic's ``ValidationError``."""
        self.config = self.config_model.model_validate(dict(config))
        self._http = self._client()

    def _client(self) -> HttpClient:
        return HttpClient(
            binding=self.binding,
            role=self.role,
            config=self.config,
            auth_headers=bearer_headers(self.config),
        )

    @property
    def identity(self) -> str:
        return f"{self.binding}:{self.config.model}"

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()


class EmbeddingHttpConfig(HttpModelConfig):
    """Parameters shared by HTTP embedding bindings."""

    dim: int = Field(1024, gt=0, description="length of every vector (EMBEDDING_DIM)")
    max_tokens: int = Field(8192, gt=0, description="longest input (MAX_EMBED_TOKENS)")
    batch_size: int = Field(32, ge=1, description="texts per request")
    max_async: int = Field(8, ge=1)


class BatchedEmbeddingModel(HttpBinding, ABC):
    """Base of the HTTP embedding bindings: batching, concurrency and shape checks."""

    role: ClassVar[str] = "embedding"
    config: EmbeddingHttpConfig

    @property
    def dim(self) -> int:
        return self.config.dim

    @property
    def max_tokens(self) -> int:
        return self.config.max_tokens

    @abstractmethod
    async def _embed_batch(self, texts: list[str]) -> Sequence[Any]:
        """The raw vectors of one batch, in order (lists of floats or arrays)."""

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of shape ``(len(texts), dim)``, float32, in the order of ``texts``.

        Raises ``ValueError`` for a non-string input and ``ModelError`` when the
        server fails or returns vectors of the wrong number or dimension.
        """
        if isinstance(texts, str):
            raise ValueError("embed() takes a sequence of strings, not one string")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"texts[{index}] must be a string, got {type(text).__name__}")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        size = self.config.batch_size
        batches = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        results = await gather_or_cancel([self._checked_batch(batch) for batch in batches])
        return np.vstack(results)

    async def _checked_batch(self, texts: list[str]) -> np.ndarray:
        vectors = await self._embed_batch(texts)
        if len(vectors) != len(texts):
            raise self._http.error(f"returned {len(vectors)} vectors for {len(texts)} texts")
        rows = []
        for vector in vectors:
            row = np.asarray(vector, dtype=np.float32)
            if row.ndim != 1 or row.shape[0] != self.dim:
                got = row.shape[0] if row.ndim == 1 else f"shape {row.shape}"
                raise self._http.error(
                    f"returned vectors of dimension {got}, expected {self.dim}; set "
                    f"EMBEDDING_DIM (the embedding 'dim' setting) to the model's dimension. "
                    f"Existing vector stores built with another dimension must be rebuilt"
                )
            if not np.all(np.isfinite(row)):
                raise self._http.error("returned a vector with NaN or infinite values")
            rows.append(row)
        return np.stack(rows)
