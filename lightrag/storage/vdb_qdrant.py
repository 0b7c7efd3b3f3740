"""Vector storage on Qdrant: a server at ``url``, or local mode in the working directory.

Layout: one collection per namespace, ``<collection_prefix><namespace>``, cosine
distance, created with the embedding dimension; every point carries the workspace
in its payload field ``workspace_id`` (a keyword index on a server), so workspaces
share a collection and never see each other's points. Point ids are
``uuid5(workspace + "\\x1f" + record id)``; the record id is kept in the payload
(``record_id``), the metadata fields under ``meta`` (so ``filters`` become
``FieldCondition("meta.<field>", MatchAny(values))``).

Local mode (``url`` empty): the data lives in ``<working_dir>/<path>`` (default
``qdrant``), one directory for every workspace and namespace, opened by one client
per process (see ``_qdrant_client``). ``shared`` is True for a server and False in
local mode: read it on the instance (``storage.shared``); the class attribute
says what a server-mode instance does.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from qdrant_client import AsyncQdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import UnexpectedResponse

from lightrag.storage._files import check_name
from lightrag.storage._params import parse_params
from lightrag.storage._qdrant_client import QdrantConnection, connection_key
from lightrag.storage._vectors import checked_filters, checked_query, checked_vectors, kept_meta
from lightrag.vocabulary.errors import StorageSchemaError
from lightrag.vocabulary.storage import StorageContext

__all__ = ["QdrantVectorConfig", "QdrantVectorStorage", "point_id"]

_POINT_NAMESPACE = uuid.UUID("6f1c7e52-5d0a-4a51-9d5e-2c3b8f0e7a41")
_WORKSPACE = "workspace_id"
_RECORD_ID = "record_id"
_META = "meta"


def point_id(workspace: str, record_id: str) -> str:
    """The Qdrant point id of a record: a UUID derived from workspace and id."""
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{workspace}\x1f{record_id}"))


class QdrantVectorConfig(BaseModel):
    """Parameters of the Qdrant storage."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    """Server URL (``QDRANT_URL``); empty or unset = local mode in the working directory."""
    api_key: SecretStr | None = None
    """Server API key (``QDRANT_API_KEY``)."""
    path: str = "qdrant"
    """Local-mode directory, relative to the working directory unless absolute."""
    workspace: str = ""
    """Workspace used when the server's own workspace is empty (``QDRANT_WORKSPACE``)."""
    collection_prefix: str = Field("lightrag_vdb_", pattern=r"^[A-Za-z0-9_\-]*$")
    timeout: int = Field(30, ge=1)
    """Seconds per request to a server."""
    upsert_batch_size: int = Field(128, ge=1)
    """Points per upsert request."""

    @field_validator("url", mode="before")
    @classmethod
    def _empty_url_is_local(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value


class QdrantVectorStorage:
    """Id -> (vector, metadata) store on a Qdrant collection with cosine distance."""

    shared: ClassVar[bool] = True  # server mode; a local-mode instance sets False
    backend_name: ClassVar[str] = "qdrant vector storage"
    config_model: ClassVar[type[QdrantVectorConfig]] = QdrantVectorConfig

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(QdrantVectorConfig, params, self.backend_name)
        if ctx.embedding_dim <= 0:
            raise ValueError(
                f"{self.backend_name} {ctx.namespace!r} needs embedding_dim > 0 "
                f"(the embedding model's dimension), got {ctx.embedding_dim}"
            )
        check_name(ctx.namespace, "namespace", allow_empty=False)
        self.dim = ctx.embedding_dim
        self.workspace = ctx.workspace or self.config.workspace
        self.collection = f"{self.config.collection_prefix}{ctx.namespace}"
        path = Path(self.config.path)
        self.path = path if path.is_absolute() else Path(ctx.working_dir) / path
        if not self.config.url:
            self.shared = False  # type: ignore[misc]  # per instance: local mode is one process
        key = self.config.api_key.get_secret_value() if self.config.api_key else None
        self._key = connection_key(self.config.url, key, self.path)
        self._api_key = key
        self._meta_fields = frozenset(ctx.meta_fields)
        self._conn: QdrantConnection | None = None

    def _factory(self) -> QdrantConnection:
        return QdrantConnection(
            url=self.config.url, api_key=self._api_key, path=self.path, timeout=self.config.timeout
        )

    @property
    def conn(self) -> QdrantConnection:
        if self._conn is None:
            raise RuntimeError(
                f"{self.backend_name} {self.ctx.namespace!r} is not open: await initialize() first"
            )
        return self._conn

    # lifecycle

    async def initialize(self) -> None:
        """Get the shared client and create the collection if missing. Idempotent.

        Raises ``StorageUnavailableError`` (naming the URL) when the server cannot be
        reached and ``StorageSchemaError`` when the collection has another dimension.
        """
        if self._conn is not None:
            return
        conn = await self.ctx.clients.acquire(self._key, self._factory)
        try:
            await self._ensure_collection(conn)
        except BaseException:
            await self.ctx.clients.release(self._key)
            raise
        self._conn = conn

    async def _ensure_collection(self, conn: QdrantConnection) -> None:
        name = self.collection

        async def create(client: AsyncQdrantClient) -> None:
            if await client.collection_exists(name):
                return
            try:
                await client.create_collection(
                    name, vectors_config=qm.VectorParams(size=self.dim, distance=qm.Distance.COSINE)
                )
            except (UnexpectedResponse, ValueError) as exc:  # created meanwhile by another
                if not await client.collection_exists(name):
                    raise exc
            if not conn.local:  # payload indexes do nothing in local mode
                await client.create_payload_index(
                    name, _WORKSPACE, field_schema=qm.PayloadSchemaType.KEYWORD
                )

        await conn.run(create)
        info = await conn.run(lambda client: client.get_collection(name))
        vectors = info.config.params.vectors
        size = vectors.size if isinstance(vectors, qm.VectorParams) else None
        if size != self.dim:
            raise StorageSchemaError(
                f"{self.backend_name}: collection {name!r} at {conn.where()} holds "
                f"{size}-dimensional vectors but the embedding model gives {self.dim}. Configure "
                "the model that built this data, set another collection_prefix, or drop the "
                "collection and re-index."
            )

    async def finalize(self) -> None:
        """Release the shared client (closed when its last user leaves). Idempotent."""
        if self._conn is None:
            return
        self._conn = None
        await self.ctx.clients.release(self._key)

    async def index_done(self) -> None:
        """Nothing to flush: every write is stored when it returns (local mode too)."""
        _ = self.conn

    async def drop(self) -> None:
        """Remove every point of this workspace from the namespace's collection."""
        selector = qm.FilterSelector(filter=self._scope())
        await self.conn.run(
            lambda client: client.delete(self.collection, points_selector=selector, wait=True)
        )

    def _scope(self, *extra: qm.FieldCondition) -> qm.Filter:
        workspace = qm.FieldCondition(key=_WORKSPACE, match=qm.MatchValue(value=self.workspace))
        return qm.Filter(must=[workspace, *extra])

    # writes

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        """Insert or replace records; ``vectors[i]`` belongs to the i-th key of ``records``."""
        conn = self.conn
        if not records:
            return
        matrix = checked_vectors(vectors, len(records), self.dim, self.ctx.namespace)
        metas = kept_meta(records, self._meta_fields, self.backend_name)
        keys = list(records)
        size = self.config.upsert_batch_size
        for start in range(0, len(keys), size):
            batch = qm.Batch(
                ids=[point_id(self.workspace, key) for key in keys[start : start + size]],
                vectors=matrix[start : start + size].tolist(),
                payloads=[
                    {_WORKSPACE: self.workspace, _RECORD_ID: key, _META: meta}
                    for key, meta in zip(
                        keys[start : start + size], metas[start : start + size], strict=True
                    )
                ],
            )
            await conn.run(self._upsert_call(batch))

    def _upsert_call(self, batch: qm.Batch) -> Callable[[AsyncQdrantClient], Awaitable[Any]]:
        return lambda client: client.upsert(self.collection, points=batch, wait=True)

    async def delete(self, ids: Sequence[str]) -> None:
        """Remove records; unknown ids are ignored."""
        conn = self.conn
        if not ids:
            return
        selector = qm.PointIdsList(points=[point_id(self.workspace, key) for key in set(ids)])
        await conn.run(
            lambda client: client.delete(self.collection, points_selector=selector, wait=True)
        )

    # reads

    async def query(
        self,
        vector: np.ndarray,
        top_k: int,
        *,
        threshold: float | None = None,
        filters: Mapping[str, Collection[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Up to ``top_k`` matches by cosine similarity, best first, ``{"id", "score", **meta}``.

        ``filters`` go into the Qdrant query filter, so the ``top_k`` are the best of
        the passing records.
        """
        conn = self.conn
        query = checked_query(vector, top_k, self.dim, self.ctx.namespace)[0].tolist()
        wanted = checked_filters(filters, self._meta_fields, self.backend_name)
        limit = self.ctx.cosine_threshold if threshold is None else threshold
        if top_k == 0 or any(not values for values in wanted.values()):
            return []
        conditions = [
            qm.FieldCondition(key=f"{_META}.{name}", match=qm.MatchAny(any=sorted(values)))
            for name, values in wanted.items()
        ]
        scope = self._scope(*conditions)
        response = await conn.run(
            lambda client: client.query_points(
                self.collection,
                query=query,
                limit=top_k,
                query_filter=scope,
                score_threshold=limit,
                with_payload=True,
            )
        )
        results = []
        for point in response.points:
            payload = point.payload or {}
            results.append(
                {**payload.get(_META, {}), "id": payload[_RECORD_ID], "score": point.score}
            )
        return results

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Metadata records with ``"id"``, in the order of ``ids``; ``None`` when unknown."""
        conn = self.conn
        if not ids:
            return []
        wanted = list(dict.fromkeys(point_id(self.workspace, key) for key in ids))
        points = await conn.run(
            lambda client: client.retrieve(self.collection, ids=wanted, with_payload=True)
        )
        found: dict[str, dict[str, Any]] = {}
        for point in points:
            payload = point.payload or {}
            if payload.get(_WORKSPACE) == self.workspace:
                found[payload[_RECORD_ID]] = {**payload.get(_META, {}), "id": payload[_RECORD_ID]}
        return [dict(found[key]) if key in found else None for key in ids]

    async def count(self) -> int:
        result = await self.conn.run(
            lambda client: client.count(self.collection, count_filter=self._scope(), exact=True)
        )
        return result.count
