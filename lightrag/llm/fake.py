"""Deterministic fakes for tests: a hashing embedder and (below) a prompt-aware chat model.

Selectable as ``embedding=fake`` / ``llm=fake``; not offered in user recipes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["HashingEmbeddingConfig", "HashingEmbeddingModel"]

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbeddingConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dim: int = Field(64, gt=0)
    max_tokens: int = Field(8192, gt=0)


class HashingEmbeddingModel:
    """Bag-of-words feature hashing: texts sharing words get similar vectors.

    Deterministic across processes (sha1, not ``hash()``); L2-normalised.
    Counts every call and text in ``calls`` / ``texts_embedded`` for tests.
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = HashingEmbeddingConfig.model_validate(dict(config or {}))
        self.calls = 0
        self.texts_embedded = 0

    @property
    def identity(self) -> str:
        return f"fake:hashing-{self.config.dim}"

    @property
    def dim(self) -> int:
        return self.config.dim

    @property
    def max_tokens(self) -> int:
        return self.config.max_tokens

    def embed_one(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            digest = hashlib.sha1(word.encode()).digest()
            index = int.from_bytes(digest[:4], "big") % self.dim
            vector[index] += 1.0 if digest[4] & 1 else -1.0
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
