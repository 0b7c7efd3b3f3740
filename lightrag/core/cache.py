"""The LLM response cache: answers, keywords, extraction and summary results by content.

Keys are ``"{mode}:{cache_type}:{digest}"`` where the digest covers every input
that changes the result (each part length-prefixed, so ``("ab", "c")`` and
``("a", "bc")`` differ). Records are ``{"return": str, "cache_type", "mode",
"created_at"}`` in a KV storage, so any KV backend can hold the cache.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from lightrag.vocabulary.storage import KVStorage

__all__ = ["LLMCache", "cache_digest"]


def cache_digest(parts: Iterable[Any]) -> str:
    """A stable hex digest over ``parts`` (each JSON-encoded and length-prefixed)."""
    digest = hashlib.sha256()
    for part in parts:
        encoded = json.dumps(part, sort_keys=True, ensure_ascii=False, default=str).encode()
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return digest.hexdigest()[:40]


class LLMCache:
    """Get and put LLM results by key; a disabled cache misses and stores nothing."""

    def __init__(self, kv: KVStorage, *, enabled: bool = True) -> None:
        self.kv = kv
        self.enabled = enabled

    @staticmethod
    def key(cache_type: str, mode: str, parts: Sequence[Any]) -> str:
        return f"{mode}:{cache_type}:{cache_digest(parts)}"

    async def get(self, key: str) -> str | None:
        if not self.enabled:
            return None
        record = await self.kv.get(key)
        return None if record is None else str(record["return"])

    async def put(self, key: str, value: str) -> None:
        if not self.enabled:
            return
        mode, cache_type, _ = key.split(":", 2)
        await self.kv.upsert(
            {
                key: {
                    "return": value,
                    "cache_type": cache_type,
                    "mode": mode,
                    "created_at": int(time.time()),
                }
            }
        )

    async def clear(self, modes: Sequence[str] | None = None) -> int:
        """Delete every entry (or those of ``modes``); returns how many went."""
        keys = await self.kv.keys()
        if modes is not None:
            wanted = {f"{mode}:" for mode in modes}
            keys = [key for key in keys if any(key.startswith(prefix) for prefix in wanted)]
        await self.kv.delete(keys)
        await self.kv.index_done()
        return len(keys)
