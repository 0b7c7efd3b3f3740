"""Ollama bindings: ``/api/chat`` (NDJSON streaming or not) and ``/api/embed``.

``OllamaChatModel`` sends ``options.num_ctx`` (the seed's ``MAX_TOKENS``) so
long prompts are not silently cut to Ollama's small default context, and
``format: "json"`` when JSON output is asked for. ``OllamaEmbeddingModel``
posts batches to ``/api/embed`` with ``truncate: false`` by default (an over-long
input is an error, not a silently shortened vector) and falls back to the old
one-text ``/api/embeddings`` endpoint when the server predates ``/api/embed``.
An API key, when given, is sent as ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field

from lightrag.llm._http import HttpModelConfig, HttpModelError
from lightrag.llm._shared import (
    BatchedEmbeddingModel,
    EmbeddingHttpConfig,
    HttpBinding,
    chat_messages,
    field_at,
    gather_or_cancel,
)
from lightrag.vocabulary.types import Message

__all__ = [
    "OllamaChatConfig",
    "OllamaChatModel",
    "OllamaEmbeddingConfig",
    "OllamaEmbeddingModel",
]

DEFAULT_HOST = "http://localhost:11434"


class OllamaChatConfig(HttpModelConfig):
    host: str = DEFAULT_HOST
    model: str = Field("mistral-nemo:latest", min_length=1)
    num_ctx: int = Field(32768, gt=0, description="context window (the seed's MAX_TOKENS)")
    keep_alive: str | int | None = Field(None, description="e.g. '5m', 3600, -1; null = server's")
    options: dict[str, Any] = Field(default_factory=dict, description="extra Ollama options")


class OllamaChatModel(HttpBinding):
    """Chat through Ollama's ``/api/chat``."""

    binding: ClassVar[str] = "ollama"
    role: ClassVar[str] = "chat"
    config_model: ClassVar[type[OllamaChatConfig]] = OllamaChatConfig
    config: OllamaChatConfig

    def _body(
        self,
        prompt: str,
        system_prompt: str | None,
        history: Sequence[Message],
        *,
        stream: bool,
        json_mode: bool,
        max_tokens: int | None,
    ) -> dict[str, Any]:
        options: dict[str, Any] = {"num_ctx": self.config.num_ctx, **self.config.options}
        if max_tokens is not None:
            options["num_predict"] = max_tokens
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": chat_messages(prompt, system_prompt, history),
            "stream": stream,
            "options": options,
        }
        if json_mode:
            body["format"] = "json"
        if self.config.keep_alive is not None:
            body["keep_alive"] = self.config.keep_alive
        return body

    async def complete(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> str:
        """The whole answer. Raises ``ModelError`` (naming binding, host, model) on failure."""
        body = self._body(
            prompt, system_prompt, history, stream=False, json_mode=json_mode, max_tokens=max_tokens
        )
        reply = await self._http.post_json("api/chat", body)
        if isinstance(reply, dict) and "error" in reply:
            raise self._http.error("the server reported an error", detail=str(reply["error"]))
        content = field_at(reply, "message", "content")
        if not isinstance(content, str):
            raise self._http.error("reply has no message.content", detail=str(reply)[:200])
        return content

    async def stream(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        """The answer as pieces from the NDJSON stream; closing it drops the connection."""
        body = self._body(
            prompt, system_prompt, history, stream=True, json_mode=False, max_tokens=max_tokens
        )
        finished = False
        async with self._http.stream("api/chat", body) as response:
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except ValueError as exc:
                    raise self._http.error(
                        "stream sent a line that is not JSON", detail=line[:200]
                    ) from exc
                if not isinstance(event, dict):
                    raise self._http.error("stream sent a non-object line", detail=line[:200])
                if "error" in event:
                    raise self._http.error(
                        "error in the middle of the stream", detail=str(event["error"])
                    )
                piece = field_at(event, "message", "content")
                if piece and isinstance(piece, str):
                    yield piece
                if event.get("done"):
                    finished = True
                    break
        if not finished:
            raise self._http.error("stream ended before the model said it was done")


class OllamaEmbeddingConfig(EmbeddingHttpConfig):
    host: str = DEFAULT_HOST
    model: str = Field("bge-m3:latest", min_length=1)
    keep_alive: str | int | None = None
    truncate: bool = Field(False, description="let Ollama cut over-long inputs silently")
    options: dict[str, Any] = Field(default_factory=dict)


class OllamaEmbeddingModel(BatchedEmbeddingModel):
    """Embeddings through ``/api/embed`` (batched), or ``/api/embeddings`` on old servers."""

    binding: ClassVar[str] = "ollama"
    config_model: ClassVar[type[OllamaEmbeddingConfig]] = OllamaEmbeddingConfig
    config: OllamaEmbeddingConfig

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self._legacy_endpoint = False

    def _common(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.config.model,
            "options": {"num_ctx": self.config.max_tokens, **self.config.options},
        }
        if self.config.keep_alive is not None:
            body["keep_alive"] = self.config.keep_alive
        return body

    async def _embed_batch(self, texts: list[str]) -> Sequence[Any]:
        if not self._legacy_endpoint:
            body = {**self._common(), "input": texts, "truncate": self.config.truncate}
            try:
                reply = await self._http.post_json("api/embed", body)
            except HttpModelError as exc:
                if not _is_missing_endpoint(exc):
                    raise
                self._legacy_endpoint = True
            else:
                vectors = reply.get("embeddings") if isinstance(reply, dict) else None
                if not isinstance(vectors, list):
                    raise self._http.error(
                        "reply has no 'embeddings' list", detail=str(reply)[:200]
                    )
                return vectors
        return await gather_or_cancel([self._embed_legacy(text) for text in texts])

    async def _embed_legacy(self, text: str) -> list[float]:
        reply = await self._http.post_json("api/embeddings", {**self._common(), "prompt": text})
        vector = reply.get("embedding") if isinstance(reply, dict) else None
        if not isinstance(vector, list):
            raise self._http.error("reply has no 'embedding' list", detail=str(reply)[:200])
        return vector


def _is_missing_endpoint(exc: HttpModelError) -> bool:
    """A 404 for the route itself (old server), not Ollama's JSON 'model not found'."""
    return exc.status_code in {404, 405} and "model" not in exc.detail.lower()
