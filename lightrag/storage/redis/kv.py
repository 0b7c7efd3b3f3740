"""Key-value storage in Redis: one hash per namespace plus a lexicographic key index.

Layout, with ``B = lightrag:{<workspace>:<namespace>}`` (see ``key_base``):

- ``B:data``: hash, key -> the record as JSON;
- ``B:keys``: sorted set of every key at score 0, ordered by key, so that
  ``delete_prefix`` reads only the matching keys (``ZRANGEBYLEX``).

``keys`` is one ``HKEYS``, ``is_empty`` one ``EXISTS``, ``drop`` one ``UNLINK``.
Every batch is one round trip; writes touching both keys run in ``MULTI``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightrag.storage._params import parse_params
from lightrag.storage.redis.client import RedisClient, RedisConfig, acquire_client, key_base
from lightrag.vocabulary.storage import StorageContext

__all__ = ["RedisKVStorage", "decode", "encode", "prefix_range"]

PREFIX_CHUNK = 1000
"""Keys removed per script call by ``delete_prefix`` (each call is atomic)."""

# KEYS: data, keys. ARGV: min, max, limit. Removes up to ``limit`` keys in the range.
_DELETE_RANGE = """
local ids = redis.call('ZRANGEBYLEX', KEYS[2], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
if #ids > 0 then
  redis.call('HDEL', KEYS[1], unpack(ids))
  redis.call('ZREM', KEYS[2], unpack(ids))
end
return #ids
"""


def encode(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def decode(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    value = json.loads(raw)
    return value if isinstance(value, dict) else None


def prefix_range(prefix: str) -> tuple[bytes, bytes]:
    """``ZRANGEBYLEX`` bounds of every member starting with ``prefix``.

    Members are UTF-8, which never holds byte 0xFF, so ``(prefix\\xff`` is above them all.
    """
    if not prefix:
        return b"-", b"+"
    raw = prefix.encode()
    return b"[" + raw, b"(" + raw + b"\xff"


class RedisKVStorage:
    """Key -> JSON object store in Redis; another instance sees writes at once."""

    shared: ClassVar[bool] = True
    backend_name: ClassVar[str] = "redis kv storage"
    config_model: ClassVar[type[RedisConfig]] = RedisConfig

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(RedisConfig, params, self.backend_name)
        self.base = key_base(ctx)
        self.data_key = f"{self.base}:data"
        self.keys_key = f"{self.base}:keys"
        self._client: RedisClient | None = None

    # lifecycle -------------------------------------------------------------

    async def initialize(self) -> None:
        if self._client is None:
            self._client = await acquire_client(self.ctx, self.config)

    async def finalize(self) -> None:
        if self._client is not None:
            self._client = None
            await self.ctx.clients.release(self.config.pool_key())

    async def index_done(self) -> None:
        """Nothing to do: every write is on the server when it returns."""

    async def drop(self) -> None:
        async with self._guard("drop"):
            await self._redis.unlink(self.data_key, self.keys_key)

    # reads -------------------------------------------------------------------

    async def get(self, key: str) -> dict[str, Any] | None:
        async with self._guard("get"):
            return decode(await self._redis.hget(self.data_key, key))

    async def get_many(self, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        if not keys:
            return []
        async with self._guard("get_many"):
            raw = await self._redis.hmget(self.data_key, list(keys))
        return [decode(item) for item in raw]

    async def missing_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        wanted = list(dict.fromkeys(keys))
        async with self._guard("missing_keys"):
            present = await self._redis.zmscore(self.keys_key, wanted)
        return {key for key, score in zip(wanted, present, strict=True) if score is None}

    async def keys(self) -> list[str]:
        async with self._guard("keys"):
            return list(await self._redis.hkeys(self.data_key))

    async def is_empty(self) -> bool:
        async with self._guard("is_empty"):
            return not await self._redis.exists(self.data_key)

    # writes ------------------------------------------------------------------

    async def upsert(self, data: Mapping[str, dict[str, Any]]) -> None:
        if not data:
            return
        mapping = {key: encode(record) for key, record in data.items()}
        async with self._guard("upsert"), self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.data_key, mapping=mapping)
            pipe.zadd(self.keys_key, dict.fromkeys(mapping, 0))
            await pipe.execute()

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        unique = list(dict.fromkeys(keys))
        async with self._guard("delete"), self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self.data_key, *unique)
            pipe.zrem(self.keys_key, *unique)
            await pipe.execute()

    async def delete_prefix(self, prefix: str) -> int:
        """Remove keys starting with ``prefix`` in atomic chunks of ``PREFIX_CHUNK``."""
        low, high = prefix_range(prefix)
        script = self._redis.register_script(_DELETE_RANGE)
        removed = 0
        async with self._guard("delete_prefix"):
            while True:
                count = int(
                    await script(
                        keys=[self.data_key, self.keys_key], args=[low, high, PREFIX_CHUNK]
                    )
                )
                removed += count
                if count < PREFIX_CHUNK:
                    return removed

    # helpers -----------------------------------------------------------------

    @property
    def _redis(self) -> Any:
        if self._client is None:
            raise RuntimeError(f"{self.backend_name} {self.ctx.namespace!r} is not initialized")
        return self._client.redis

    def _guard(self, what: str) -> Any:
        if self._client is None:
            raise RuntimeError(f"{self.backend_name} {self.ctx.namespace!r} is not initialized")
        return self._client.guard(f"{self.backend_name} {self.ctx.namespace!r} {what}")
