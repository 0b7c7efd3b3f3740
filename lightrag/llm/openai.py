"""OpenAI and OpenAI-compatible bindings (vLLM, LM Studio, llama.cpp server, LiteLLM, ...).

``host`` is the API base URL including its version path (``https://api.openai.com/v1``,
``http://localhost:8000/v1``). Chat uses ``/chat/completions`` (SSE when streamed);
``json_mode`` sends ``response_format: {"type": "json_object"}`` and, when a
server rejects that field, retries once without it and stops sending it.
Embeddings use ``/embeddings`` and ask for base64 vectors (smaller, exact), while
accepting plain float lists from servers that ignore ``encoding_format``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from lightrag.llm._http import HttpModelConfig, HttpModelError
from lightrag.llm._shared import (
    BatchedEmbeddingModel,
    EmbeddingHttpConfig,
    HttpBinding,
    chat_messages,
    decode_vector,
    field_at,
)
from lightrag.vocabulary.types import Message

__all__ = [
    "OpenAIChatConfig",
    "OpenAIChatModel",
    "OpenAIEmbeddingConfig",
    "OpenAIEmbeddingModel",
    "sse_data",
]

logger = logging.getLogger(__name__)

DEFAULT_HOST = "https://api.openai.com/v1"


def _rejects_field(exc: HttpModelError, field: str) -> bool:
    return exc.status_code in {400, 422} and field in exc.detail.lower()


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The ``data`` payload of each server-sent event read from ``lines``."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


class OpenAIChatConfig(HttpModelConfig):
    host: str = DEFAULT_HOST
    model: str = Field("gpt-4o-mini", min_length=1)
    temperature: float | None = Field(None, ge=0, le=2, description="null = server default")
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    json_response_format: bool = Field(True, description="send response_format for json_mode")
    extra_body: dict[str, Any] = Field(default_factory=dict, description="merged into requests")


class OpenAIChatModel(HttpBinding):
    """Chat through ``POST {host}/chat/completions``."""

    binding: ClassVar[str] = "openai"
    role: ClassVar[str] = "chat"
    config_model: ClassVar[type[OpenAIChatConfig]] = OpenAIChatConfig
    config: OpenAIChatConfig
    path: ClassVar[str] = "chat/completions"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self._json_format_supported = self.config.json_response_format

    def _params(self) -> dict[str, str] | None:
        return None

    def _body(
        self,
        prompt: str,
        system_prompt: str | None,
        history: Sequence[Message],
        *,
        stream: bool,
        max_tokens: int | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            **self.config.extra_body,
            "model": self.config.model,
            "messages": chat_messages(prompt, system_prompt, history),
            "stream": stream,
        }
        if self.config.temperature is not None:
            body["temperature"] = self.config.temperature
        if max_tokens is not None:
            body[self.config.max_tokens_field] = max_tokens
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
        body = self._body(prompt, system_prompt, history, stream=False, max_tokens=max_tokens)
        if json_mode and self._json_format_supported:
            try:
                return await self._complete({**body, "response_format": {"type": "json_object"}})
            except HttpModelError as exc:
                if not _rejects_field(exc, "response_format"):
                    raise
                logger.warning(
                    "%s rejects response_format (%s); asking for JSON by prompt only from now on",
                    self._http.describe,
                    exc.detail,
                )
                self._json_format_supported = False
        return await self._complete(body)

    async def _complete(self, body: dict[str, Any]) -> str:
        reply = await self._http.post_json(self.path, body, params=self._params())
        choice = field_at(reply, "choices", 0)
        if not isinstance(choice, dict):
            raise self._http.error("reply has no choices", detail=str(reply)[:200])
        content = field_at(choice, "message", "content")
        if not isinstance(content, str):
            reason = choice.get("finish_reason")
            raise self._http.error(f"reply has no text content (finish_reason={reason!r})")
        return content

    async def stream(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        """The answer as pieces from the SSE stream; closing it drops the connection."""
        body = self._body(prompt, system_prompt, history, stream=True, max_tokens=max_tokens)
        finished = False
        async with self._http.stream(self.path, body, params=self._params()) as response:
            async for data in sse_data(response.aiter_lines()):
                if data.strip() == "[DONE]":
                    finished = True
                    break
                try:
                    event = json.loads(data)
                except ValueError as exc:
                    raise self._http.error(
                        "stream sent an event that is not JSON", detail=data[:200]
                    ) from exc
                if not isinstance(event, dict):
                    raise self._http.error("stream sent a non-object event", detail=data[:200])
                if "error" in event:
                    error = event["error"]
                    detail = (
                        error.get("message", str(error)) if isinstance(error, dict) else str(error)
                    )
                    raise self._http.error("error in the middle of the stream", detail=detail)
                choices = field_at(event, "choices")
                for choice in choices if isinstance(choices, list) else ():
                    piece = field_at(choice, "delta", "content")
                    if piece and isinstance(piece, str):
                        yield piece
                    if field_at(choice, "finish_reason"):
                        finished = True
        if not finished:
            raise self._http.error("stream ended before the model finished")


class OpenAIEmbeddingConfig(EmbeddingHttpConfig):
    host: str = DEFAULT_HOST
    model: str = Field("text-embedding-3-small", min_length=1)
    dim: int = Field(1536, gt=0)
    use_base64: bool = Field(True, description="ask for base64 vectors (EMBEDDING_USE_BASE64)")
    send_dimensions: bool = Field(False, description="send 'dimensions' (EMBEDDING_SEND_DIM)")


class OpenAIEmbeddingModel(BatchedEmbeddingModel):
    """Embeddings through ``POST {host}/embeddings``."""

    binding: ClassVar[str] = "openai"
    config_model: ClassVar[type[OpenAIEmbeddingConfig]] = OpenAIEmbeddingConfig
    config: OpenAIEmbeddingConfig
    path: ClassVar[str] = "embeddings"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self._base64 = self.config.use_base64

    def _params(self) -> dict[str, str] | None:
        return None

    async def _embed_batch(self, texts: list[str]) -> Sequence[Any]:
        body: dict[str, Any] = {"model": self.config.model, "input": texts}
        if self.config.send_dimensions:
            body["dimensions"] = self.config.dim
        if self._base64:
            try:
                return await self._request({**body, "encoding_format": "base64"})
            except HttpModelError as exc:
                if not _rejects_field(exc, "encoding_format"):
                    raise
                logger.warning("%s rejects base64 encoding; using floats", self._http.describe)
                self._base64 = False
        return await self._request({**body, "encoding_format": "float"})

    async def _request(self, body: dict[str, Any]) -> list[Any]:
        reply = await self._http.post_json(self.path, body, params=self._params())
        items = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(items, list):
            raise self._http.error("reply has no 'data' list", detail=str(reply)[:200])
        try:
            ordered = sorted(items, key=lambda item: int(item.get("index", 0)))
            return [decode_vector(item["embedding"]) for item in ordered]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise self._http.error(f"malformed embedding in reply: {exc!r}") from exc
