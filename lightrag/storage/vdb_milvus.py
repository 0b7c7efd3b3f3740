"""Vector storage on a Milvus server (or ``milvus-lite server``), through pymilvus.

Layout: one collection per workspace and namespace, named
``lightrag_<workspace>_<namespace>_<hash8>`` (sanitised; see ``_vector_server``), with
three fields: ``id`` (VARCHAR primary key, at most 512 bytes), ``vector``
(FLOAT_VECTOR of the embedding dimension, COSINE metric, ``AUTOINDEX`` unless
configured) and ``meta`` (JSON: the record's ``ctx.meta_fields``). Collections are
created with Strong consistency, so another instance sees a write as soon as it
returns. Vectors are normalised before they are stored, so a hit's distance is
its cosine similarity.

Every namespace on the same server (URI, database, user) shares one client
through ``ctx.clients``. The client is pymilvus' synchronous ``MilvusClient``, each call
run in a worker thread (``asyncio.to_thread``): its ``AsyncMilvusClient`` cannot create
an indexed collection on milvus-lite (it asks for ``AllocTimestamp``, which
milvus-lite does not implement).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from lightrag.storage._params import parse_params
from lightrag.storage._vector_server import collection_name, server_address
from lightrag.storage._vectors import checked_filters, checked_query, checked_vectors, kept_meta
from lightrag.vocabulary.errors import StorageError, StorageSchemaError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

if TYPE_CHECKING:
    from pymilvus import MilvusClient

__all__ = ["MilvusVectorConfig", "MilvusVectorStorage"]

_ID_BYTES = 512
_MAX_TOP_K = 16384  # Milvus' limit on a search's result count
_T = TypeVar("_T")


class MilvusVectorConfig(BaseModel):
    """Connection and index parameters of the Milvus vector storage."""

    model_config = ConfigDict(extra="forbid")

    uri: str = "http://localhost:19530"
    user: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    db_name: str | None = None
    index_type: str = "AUTOINDEX"
    index_params: dict[str, Any] = Field(default_factory=dict)  # e.g. {"M": 16} for HNSW
    batch_size: int = Field(default=1000, ge=1)  # rows per upsert request
    timeout: float = Field(default=30.0, gt=0)  # seconds per request
    flush_on_index_done: bool = False
    """Flush (seal and index) this namespace's new rows at ``index_done``. milvus-lite
    searches unsealed rows by brute force (10k x 1024: 1.5 s per query, 0.1 s once
    flushed); Milvus servers seal on their own, and flushing after every batch there
    makes many small segments, so it is off by default."""

    def address(self) -> str:
        return server_address(self.uri, 19530)


class _MilvusClient:
    """One ``MilvusClient`` per server, shared through the ``ClientHub``."""

    def __init__(self, config: MilvusVectorConfig) -> None:
        self.config = config
        self._client: MilvusClient | None = None

    @property
    def client(self) -> MilvusClient:
        if self._client is None:
            raise StorageError("milvus vector storage: client used before it was opened")
        return self._client

    def redact(self, text: str) -> str:
        for secret in (self.config.password, self.config.token):
            if secret is not None and secret.get_secret_value():
                text = text.replace(secret.get_secret_value(), "***")
        return text

    async def open(self) -> None:
        config = self.config
        try:
            self._client = await asyncio.to_thread(self._connect)
        except Exception as exc:
            raise StorageUnavailableError(
                f"milvus vector storage cannot reach the Milvus server at {config.address()}: "
                f"{self.redact(str(exc)) or type(exc).__name__}"
            ) from exc

    def _connect(self) -> MilvusClient:
        from pymilvus import MilvusClient

        config = self.config
        client = MilvusClient(
            uri=config.uri,
            user=config.user or "",
            password=config.password.get_secret_value() if config.password else "",
            token=config.token.get_secret_value() if config.token else "",
            db_name=config.db_name or "",
            timeout=config.timeout,
        )
        try:
            client.list_collections(timeout=config.timeout)
        except BaseException:
            _close_quietly(client)
            raise
        return client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(_close_quietly, client)


def _close_quietly(client: MilvusClient) -> None:
    try:
        client.close()
    except Exception:  # closing a client whose channel never opened
        return


def _released(exc: Exception) -> bool:
    """Whether ``exc`` says the collection is not loaded (e.g. after a server restart)."""
    text = str(exc).lower()
    return "released" in text or "not loaded" in text or "call load()" in text


def _literal(value: str) -> str:
    """A Milvus expression string literal (double quotes; backslash and quote escaped)."""
    return json.dumps(value, ensure_ascii=False)


class MilvusVectorStorage:
    """Id -> (vector, metadata) in one Milvus collection per workspace and namespace."""

    shared: ClassVar[bool] = True
    backend_name: ClassVar[str] = "milvus vector storage"
    config_model: ClassVar[type[MilvusVectorConfig]] = MilvusVectorConfig

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(MilvusVectorConfig, params, self.backend_name)
        if ctx.embedding_dim <= 0:
            raise ValueError(
                f"{self.backend_name} {ctx.namespace!r} needs embedding_dim > 0 "
                f"(the embedding model's dimension), got {ctx.embedding_dim}"
            )
        self.dim = ctx.embedding_dim
        self.collection = collection_name("lightrag", ctx.workspace, ctx.namespace, max_length=255)
        self._meta_fields = frozenset(ctx.meta_fields)
        self._key = ("milvus", self.config.uri, self.config.db_name or "", self.config.user or "")
        self._shared: _MilvusClient | None = None

    # lifecycle

    async def initialize(self) -> None:
        """Connect (shared client) and create the collection if missing. Idempotent.

        Raises ``StorageUnavailableError`` when the server does not answer and
        ``StorageSchemaError`` when the collection holds vectors of another dimension.
        """
        if self._shared is not None:
            return
        config = self.config
        shared = await self.ctx.clients.acquire(self._key, lambda: _MilvusClient(config))
        try:
            self._shared = shared
            await self._ensure_collection()
        except BaseException:
            self._shared = None
            await self.ctx.clients.release(self._key)
            raise

    async def _ensure_collection(self) -> None:
        client = self._client()
        name = self.collection
        if not await self._call("has_collection", client.has_collection, name):
            from pymilvus import DataType, MilvusClient

            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=_ID_BYTES)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
            schema.add_field("meta", DataType.JSON)
            index = MilvusClient.prepare_index_params()
            index.add_index(
                field_name="vector",
                index_type=self.config.index_type,
                metric_type="COSINE",
                params=dict(self.config.index_params),
            )
            try:
                await asyncio.to_thread(
                    partial(
                        client.create_collection,
                        name,
                        schema=schema,
                        index_params=index,
                        consistency_level="Strong",
                    )
                )
            except Exception as exc:
                # Another instance created it meanwhile: Milvus says "already exists",
                # milvus-lite may also fail with "File exists"; either way it is there now.
                if not await self._call("has_collection", client.has_collection, name):
                    raise self._failure("create_collection", exc) from exc
        described = await self._call("describe_collection", client.describe_collection, name)
        fields = {field["name"]: field for field in described.get("fields", [])}
        if set(fields) != {"id", "vector", "meta"}:
            raise StorageSchemaError(
                f"{self.backend_name}: collection {name!r} has fields {sorted(fields)}, "
                "not the id, vector and meta this storage writes; drop it or choose "
                "another workspace"
            )
        stored_dim = int(fields["vector"].get("params", {}).get("dim", 0))
        if stored_dim != self.dim:
            raise StorageSchemaError(
                f"{self.backend_name}: collection {name!r} holds {stored_dim}-dimensional "
                f"vectors but the embedding model gives {self.dim}. Configure the model that "
                "built this data, use another workspace, or drop the collection and re-index."
            )
        await self._call("load_collection", client.load_collection, name)

    async def finalize(self) -> None:
        if self._shared is None:
            return
        self._shared = None
        await self.ctx.clients.release(self._key)

    async def index_done(self) -> None:
        """Flush when ``flush_on_index_done``; otherwise nothing to do: every write is
        durable on the server when it returns."""
        if self.config.flush_on_index_done:
            client = self._client()
            await self._call("flush", client.flush, self.collection, timeout=self._timeout)

    async def drop(self) -> None:
        """Remove every vector of this namespace (the collection is dropped and recreated)."""
        client = self._client()
        await self._call("drop_collection", client.drop_collection, self.collection)
        await self._ensure_collection()

    # writes

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        """Insert or replace records (their ``ctx.meta_fields``) with their vectors."""
        client = self._client()
        if not records:
            return
        matrix = checked_vectors(vectors, len(records), self.dim, self.ctx.namespace)
        metas = kept_meta(records, self._meta_fields, self.backend_name)
        for key in records:
            if not isinstance(key, str) or not key or len(key.encode()) > _ID_BYTES:
                raise ValueError(
                    f"{self.backend_name}: ids must be non-empty strings of at most "
                    f"{_ID_BYTES} bytes, got {key!r:.80}"
                )
        rows = [
            {"id": key, "vector": vector.tolist(), "meta": meta}
            for key, vector, meta in zip(records, matrix, metas, strict=True)
        ]
        size = self.config.batch_size
        for start in range(0, len(rows), size):
            await self._call(
                "upsert",
                client.upsert,
                self.collection,
                rows[start : start + size],
                timeout=self._timeout,
            )

    async def delete(self, ids: Sequence[str]) -> None:
        """Remove records; unknown ids are ignored."""
        client = self._client()
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), self.config.batch_size):
            batch = unique[start : start + self.config.batch_size]
            await self._call(
                "delete",
                client.delete,
                self.collection,
                filter=self._ids_filter(batch),
                timeout=self._timeout,
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
        """Up to ``top_k`` matches by cosine similarity, best first, ``{"id", "score", **meta}``."""
        client = self._client()
        query = checked_query(vector, top_k, self.dim, self.ctx.namespace)
        wanted = checked_filters(filters, self._meta_fields, self.backend_name)
        if top_k == 0 or any(not values for values in wanted.values()):
            return []
        limit = self.ctx.cosine_threshold if threshold is None else threshold
        expression = " and ".join(
            "("
            + " or ".join(f"meta[{_literal(name)}] == {_literal(v)}" for v in sorted(values))
            + ")"
            for name, values in wanted.items()
        )
        result = await self._call(
            "search",
            client.search,
            self.collection,
            data=query.tolist(),
            filter=expression,
            limit=min(top_k, _MAX_TOP_K),
            output_fields=["meta"],
            search_params={"metric_type": "COSINE"},
            anns_field="vector",
            timeout=self._timeout,
        )
        hits = []
        for hit in result[0]:
            score = float(hit["distance"])
            if score >= limit:
                meta = hit.get("entity", {}).get("meta") or {}
                hits.append({**meta, "id": hit["id"], "score": score})
        return hits

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Metadata records with ``"id"``, in the order of ``ids``; ``None`` when unknown."""
        client = self._client()
        unique = list(dict.fromkeys(ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), self.config.batch_size):
            batch = unique[start : start + self.config.batch_size]
            rows = await self._call(
                "query",
                client.query,
                self.collection,
                filter=self._ids_filter(batch),
                output_fields=["id", "meta"],
                timeout=self._timeout,
            )
            for row in rows:
                found[row["id"]] = {**(row.get("meta") or {}), "id": row["id"]}
        return [dict(found[key]) if key in found else None for key in ids]

    async def count(self) -> int:
        client = self._client()
        rows = await self._call(
            "count",
            client.query,
            self.collection,
            filter="",
            output_fields=["count(*)"],
            timeout=self._timeout,
        )
        return int(rows[0]["count(*)"])

    # helpers

    @property
    def _timeout(self) -> float:
        return self.config.timeout

    def _client(self) -> MilvusClient:
        if self._shared is None:
            raise StorageError(f"{self.backend_name} {self.ctx.namespace!r} is not initialised")
        return self._shared.client

    @staticmethod
    def _ids_filter(ids: Sequence[str]) -> str:
        return "id in [" + ", ".join(_literal(key) for key in ids) + "]"

    async def _call(
        self, operation: str, method: Callable[..., _T], *args: Any, **kwargs: Any
    ) -> _T:
        """``method(*args, **kwargs)`` in a worker thread; failures name the operation.

        A server that restarted has released its collections (not loaded in memory):
        the collection is loaded again and the call retried once.
        """
        call = partial(method, *args, **kwargs)
        try:
            try:
                return await asyncio.to_thread(call)
            except Exception as exc:
                if not _released(exc) or operation == "load_collection":
                    raise
                await asyncio.to_thread(self._client().load_collection, self.collection)
                return await asyncio.to_thread(call)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise self._failure(operation, exc) from exc

    def _failure(self, operation: str, exc: Exception) -> StorageError:
        detail = str(exc) or type(exc).__name__
        if self._shared is not None:
            detail = self._shared.redact(detail)
        return StorageError(
            f"{self.backend_name} {operation} on collection {self.collection!r} at "
            f"{self.config.address()} failed: {detail}"
        )
