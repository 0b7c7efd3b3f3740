"""What every MongoDB storage shares: params, the shared client, its collection, lifecycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, TypeVar

from lightrag.storage._params import parse_params
from lightrag.storage.mongo.client import (
    MongoClient,
    MongoConfig,
    acquire_client,
    collection_base,
    effective_workspace,
    release_client,
)
from lightrag.vocabulary.storage import StorageContext

__all__ = ["MongoStorageBase"]

T = TypeVar("T")


class MongoStorageBase:
    """Scoped by ``(workspace, namespace)`` through its collection name (``collection_base``);
    the client comes from ``ctx.clients``."""

    shared: ClassVar[bool] = True
    config_model: ClassVar[type[MongoConfig]] = MongoConfig
    backend_name: ClassVar[str] = "mongo storage"

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(MongoConfig, params, self.backend_name)
        self.workspace = effective_workspace(ctx, self.config)
        self.namespace = ctx.namespace
        self.collection_name = collection_base(self.workspace, ctx.namespace)
        self._client: MongoClient | None = None

    @property
    def client(self) -> MongoClient:
        if self._client is None:
            raise RuntimeError(
                f"{self.backend_name} {self.namespace!r} is not initialised (call initialize())"
            )
        return self._client

    @property
    def collection(self) -> Any:
        """This storage's ``AsyncCollection``."""
        return self.client.db[self.collection_name]

    async def initialize(self) -> None:
        """Connect (the shared client) and create this storage's indexes. Idempotent."""
        if self._client is not None:
            return
        client = await acquire_client(self.ctx, self.config)
        try:
            await self._create_indexes(client)
        except BaseException:
            await release_client(self.ctx, self.config)
            raise
        self._client = client

    async def _create_indexes(self, client: MongoClient) -> None:
        """Create the indexes this storage's queries need (``client.ensure_indexes``)."""

    async def finalize(self) -> None:
        """Give back the shared client. Idempotent."""
        if self._client is None:
            return
        self._client = None
        await release_client(self.ctx, self.config)

    async def index_done(self) -> None:
        """Nothing to flush: every write is on the server when it returns."""

    async def _run(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        return await self.client.run(
            f"{self.backend_name} {self.collection_name!r} {what}", operation
        )
