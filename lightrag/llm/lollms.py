"""LoLLMs bindings: ``/lollms_generate`` (plain text, streamed or not) and ``/lollms_embed``.

LoLLMs takes one prompt string, so the system prompt and history are laid out
as ``role: content`` lines before the prompt. It has no JSON mode: ``json_mode``
relies on the prompt alone. ``/lollms_embed`` embeds one text per request with
the server's configured vectorizer; batches become concurrent requests bounded
by ``max_async``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from pydantic import Field

from lightrag.llm._http import HttpModelConfig
from lightrag.llm._shared import (
    BatchedEmbeddingModel,
    EmbeddingHttpConfig,
    HttpBinding,
    chat_messages,
    gather_or_cancel,
)
from lightrag.vocabulary.types import Message

__all__ = [
    "LollmsChatConfig",
    "LollmsChatModel",
    "LollmsEmbeddingConfig",
    "LollmsEmbeddingModel",
]

DEFAULT_HOST = "http://localhost:9600"


class LollmsChatConfig(HttpModelConfig):
    host: str = DEFAULT_HOST
    model: str = Field("mistral-nemo:latest", min_length=1)
    personality: int = -1
    temperature: float = Field(0.1, ge=0)
    top_k: int = Field(50, ge=0)
    top_p: float = Field(0.95, ge=0, le=1)
    repeat_penalty: float = 0.8
    repeat_last_n: int = 40
    seed: int | None = None
    n_threads: int = Field(8, ge=1)


class LollmsChatModel(HttpBinding):
    """Chat through LoLLMs' ``/lollms_generate``."""

    binding: ClassVar[str] = "lollms"
    role: ClassVar[str] = "chat"
    config_model: ClassVar[type[LollmsChatConfig]] = LollmsChatConfig
    config: LollmsChatConfig

    def _body(
        self,
        prompt: str,
        system_prompt: str | None,
        history: Sequence[Message],
        *,
        stream: bool,
        max_tokens: int | None,
    ) -> dict[str, Any]:
        messages = chat_messages(prompt, system_prompt, history)
        lines = [f"{m['role']}: {m['content']}" for m in messages[:-1]]
        if system_prompt:
            lines[0] = system_prompt  # the system prompt leads without a role label
        c = self.config
        return {
            "prompt": "\n".join([*lines, prompt]),
            "model_name": c.model,
            "personality": c.personality,
            "n_predict": max_tokens,
            "stream": stream,
            "temperature": c.temperature,
            "top_k": c.top_k,
            "top_p": c.top_p,
            "repeat_penalty": c.repeat_penalty,
            "repeat_last_n": c.repeat_last_n,
            "seed": c.seed,
            "n_threads": c.n_threads,
        }

    async def complete(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> str:
        """The whole generated text. ``json_mode`` has no LoLLMs equivalent and is ignored."""
        body = self._body(prompt, system_prompt, history, stream=False, max_tokens=max_tokens)
        response = await self._http.post("lollms_generate", body)
        return response.text

    async def stream(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        """The generated text as it arrives; closing the iterator drops the connection."""
        body = self._body(prompt, system_prompt, history, stream=True, max_tokens=max_tokens)
        async with self._http.stream("lollms_generate", body) as response:
            async for piece in response.aiter_text():
                if piece:
                    yield piece


class LollmsEmbeddingConfig(EmbeddingHttpConfig):
    host: str = DEFAULT_HOST
    model: str = Field("lollms-vectorizer", min_length=1, description="label only")


class LollmsEmbeddingModel(BatchedEmbeddingModel):
    """Embeddings through LoLLMs' ``/lollms_embed`` (one text per request)."""

    binding: ClassVar[str] = "lollms"
    config_model: ClassVar[type[LollmsEmbeddingConfig]] = LollmsEmbeddingConfig
    config: LollmsEmbeddingConfig

    async def _embed_batch(self, texts: list[str]) -> Sequence[Any]:
        return await gather_or_cancel([self._embed_one(text) for text in texts])

    async def _embed_one(self, text: str) -> list[float]:
        reply = await self._http.post_json("lollms_embed", {"text": text})
        vector = reply.get("vector") if isinstance(reply, dict) else None
        if not isinstance(vector, list):
            raise self._http.error("reply has no 'vector' list", detail=str(reply)[:200])
        return vector
