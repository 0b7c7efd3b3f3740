"""Redis connection settings and the pool shared by every namespace on one server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from lightrag.vocabulary.errors import StorageError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

__all__ = ["RedisClient", "RedisConfig", "acquire_client", "key_base"]

_SAFE_POLICIES = {"noeviction", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}


class RedisConfig(BaseModel):
    """Parameters of the Redis storages (one set per server; secrets never printed)."""

    model_config = ConfigDict(extra="forbid")

    uri: SecretStr = SecretStr("redis://localhost:6379")
    """``redis://[user:password@]host:port[/db]`` (``rediss://`` for TLS); may hold a password."""
    max_connections: int = Field(100, ge=1)
    """Size of the connection pool shared by every namespace on this server."""
    socket_timeout: float = Field(30.0, gt=0)
    """Seconds to wait for a reply."""
    connect_timeout: float = Field(10.0, gt=0)
    """Seconds to wait for a connection."""
    retry_attempts: int = Field(3, ge=0)
    """Retries (with backoff) of a command that failed on a connection error."""
    allow_eviction: bool = False
    """Accept a server whose ``maxmemory-policy`` may evict keys without a TTL (data loss)."""

    def endpoint(self) -> str:
        """``host:port`` (or the socket path) of the server: safe to print."""
        parts = urlsplit(self.uri.get_secret_value())
        if parts.scheme == "unix":
            return parts.path
        return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"

    def pool_key(self) -> tuple[Any, ...]:
        """The hub key: namespaces with the same settings share one pool."""
        return ("redis", *(getattr(self, name) for name in type(self).model_fields))


def key_base(ctx: StorageContext) -> str:
    """``lightrag:{<workspace>:<namespace>}``: the prefix of every key of one storage.

    Both parts are percent-encoded (``:``, ``{``, ``}``, ``%``, ...), so no two
    (workspace, namespace) pairs share a prefix; the braces are a Redis Cluster
    hash tag, so every key of one storage lives in one slot (scripts and MULTI work).
    """
    return f"lightrag:{{{quote(ctx.workspace, safe='')}:{quote(ctx.namespace, safe='')}}}"


class RedisClient:
    """One ``redis.asyncio.Redis`` with its pool; a ``SharedClient`` for ``ClientHub``."""

    def __init__(self, config: RedisConfig) -> None:
        self.config = config
        self._redis: Any = None

    @property
    def redis(self) -> Any:
        if self._redis is None:
            raise RuntimeError(f"redis client for {self.config.endpoint()} is not open")
        return self._redis

    async def open(self) -> None:
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff

        pool = BlockingConnectionPool.from_url(
            self.config.uri.get_secret_value(),
            max_connections=self.config.max_connections,
            socket_timeout=self.config.socket_timeout,
            socket_connect_timeout=self.config.connect_timeout,
            timeout=self.config.connect_timeout,
            decode_responses=True,
            # per connection: a command that meets a dropped connection reconnects and retries
            retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), self.config.retry_attempts),
        )
        client = Redis(connection_pool=pool)
        try:
            async with self.guard("connect"):
                await client.ping()
                await self._check_eviction(client)
        except BaseException:
            await client.aclose()
            await pool.disconnect()
            raise
        self._redis = client

    async def _check_eviction(self, client: Any) -> None:
        from redis.exceptions import ResponseError

        if self.config.allow_eviction:
            return
        try:
            policy = (await client.config_get("maxmemory-policy")).get("maxmemory-policy")
        except ResponseError:  # CONFIG disabled (managed services): nothing to check
            return
        if policy and policy not in _SAFE_POLICIES:
            raise StorageError(
                f"redis at {self.config.endpoint()} has maxmemory-policy {policy!r}, which may "
                "evict stored records; set it to noeviction, or allow_eviction: true "
                "(REDIS_ALLOW_EVICTION_POLICY) to accept the risk"
            )

    async def close(self) -> None:
        client, self._redis = self._redis, None
        if client is not None:
            await client.aclose()
            await client.connection_pool.disconnect()

    @asynccontextmanager
    async def guard(self, what: str) -> AsyncIterator[None]:
        """Turn connection failures into ``StorageUnavailableError`` naming host and port."""
        from redis.exceptions import AuthenticationError
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        try:
            yield
        except AuthenticationError as exc:
            raise StorageUnavailableError(
                f"redis at {self.config.endpoint()} refused the credentials ({what})"
            ) from exc
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            reason = _redact(str(exc), self.config.uri.get_secret_value())
            raise StorageUnavailableError(
                f"redis at {self.config.endpoint()} is unavailable ({what}): {reason}"
            ) from exc


def _redact(message: str, uri: str) -> str:
    password = urlsplit(uri).password
    return message.replace(password, "***") if password else message


async def acquire_client(ctx: StorageContext, config: RedisConfig) -> RedisClient:
    """The shared client of ``config``'s server, opened by the first namespace to ask."""
    return await ctx.clients.acquire(config.pool_key(), lambda: RedisClient(config))
