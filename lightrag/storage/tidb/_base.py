"""What every TiDB storage shares: params, the pooled client, scoping, ids, lifecycle."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from lightrag.storage._params import parse_params
from lightrag.storage.tidb.client import (
    TiDBClient,
    TiDBConfig,
    effective_workspace,
    release_tidb_client,
    tidb_client,
)
from lightrag.storage.tidb.sql import MAX_ID_BYTES
from lightrag.vocabulary.storage import StorageContext

__all__ = ["IN_CHUNK", "TiDBStorageBase", "check_id", "chunks", "decode", "dumps", "text"]

T = TypeVar("T")

IN_CHUNK = 2000
"""Most values in one ``IN (...)`` list: longer lists are split into several statements."""


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def text(value: bytes | str) -> str:
    """A ``VARBINARY`` column's value as ``str`` (the bytes are UTF-8)."""
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


def decode(value: bytes | str) -> Any:
    """A JSON text column's value."""
    return json.loads(value)


def dumps(value: Any, owner: str) -> str:
    """``value`` as JSON text; ``ValueError`` naming ``owner`` when JSON cannot carry it."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: not JSON-encodable ({exc})") from None


def check_id(value: str, what: str = "key") -> str:
    """``value`` if it fits the indexed id column, else ``ValueError`` saying the limit."""
    if not isinstance(value, str) or (not value and what != "key"):
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    size = len(value.encode())
    if size > MAX_ID_BYTES:
        raise ValueError(
            f"{what} {value[:40]!r}... is {size} bytes in UTF-8; the TiDB storages index ids "
            f"of at most {MAX_ID_BYTES} bytes"
        )
    return value


class TiDBStorageBase:
    """Scoped by ``(workspace, namespace)``; the pool comes from ``ctx.clients``."""

    shared: ClassVar[bool] = True
    config_model: ClassVar[type[TiDBConfig]] = TiDBConfig
    backend_name: ClassVar[str] = "tidb storage"

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(TiDBConfig, params, self.backend_name)
        self.workspace = effective_workspace(ctx, self.config)
        self.namespace = ctx.namespace
        self._scope = (self.workspace, self.namespace)
        self._client: TiDBClient | None = None

    @property
    def client(self) -> TiDBClient:
        if self._client is None:
            raise RuntimeError(
                f"{self.backend_name} {self.namespace!r} is not initialised (call initialize())"
            )
        return self._client

    async def initialize(self) -> None:
        """Connect (the shared pool) and create the tables if missing. Idempotent."""
        if self._client is not None:
            return
        client = await tidb_client(self.ctx, self.config)
        try:
            await self._create_schema(client)
        except BaseException:
            await release_tidb_client(self.ctx, self.config)
            raise
        self._client = client

    async def _create_schema(self, client: TiDBClient) -> None:
        """Apply this storage's migrations (and check the schema fits)."""

    async def finalize(self) -> None:
        """Give back the shared pool. Idempotent."""
        if self._client is None:
            return
        self._client = None
        await release_tidb_client(self.ctx, self.config)

    async def index_done(self) -> None:
        """Nothing to flush: every write is committed when it returns."""
