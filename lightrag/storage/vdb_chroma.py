"""Vector storage on Chroma: a ``chroma run`` server over HTTP, or a local Chroma directory.

Layout: one collection per workspace and namespace, named
``lightrag_<workspace>_<namespace>_<hash8>`` (sanitised, at most 63 characters; see
``_vector_server``), created with the cosine space and no embedding function
(vectors always come from the engine; Chroma's default function would download
a model). The collection's metadata records ``lightrag_dim``, the embedding
dimension, so a collection made for another model is refused at start-up.

Record metadata: each string, number or boolean field of ``ctx.meta_fields`` is a
Chroma metadata field (so ``where`` filters reach it); ``None``, lists and objects,
which Chroma metadata cannot hold, travel JSON-encoded in the field ``__lr_json``
(always present: Chroma refuses an empty metadata dict). A hit's score is
``1 - distance``, the cosine similarity.

Mode: ``local_path`` set = ``chromadb.PersistentClient`` on that directory (relative
paths under the working directory); otherwise ``chromadb.HttpClient`` on ``url``.
The chromadb client is synchronous: every call runs in a worker thread. Every
namespace on one server (or directory) shares one client through ``ctx.clients``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from lightrag.storage._params import parse_params
from lightrag.storage._vector_server import collection_name, server_address
from lightrag.storage._vectors import checked_filters, checked_query, checked_vectors, kept_meta
from lightrag.vocabulary.errors import StorageError, StorageSchemaError, StorageUnavailableError
from lightrag.vocabulary.storage import StorageContext

__all__ = ["ChromaVectorConfig", "ChromaVectorStorage"]

_JSON = "__lr_json"
_DIM_KEY = "lightrag_dim"
_T = TypeVar("_T")


class ChromaVectorConfig(BaseModel):
    """Where the Chroma data lives: a server URL, or a local directory."""

    model_config = ConfigDict(extra="forbid")

    url: str = "http://localhost:8000"
    auth_token: SecretStr | None = None  # sent as "Authorization: Bearer <token>"
    local_path: str | None = None  # set = local persistent client instead of the server
    tenant: str = "default_tenant"
    database: str = "default_database"
    batch_size: int = Field(default=1000, ge=1)  # records per upsert request

    def address(self) -> str:
        return server_address(self.url, 8000)


class _ChromaClient:
    """One chromadb client per server URL (or local directory), shared through the hub."""

    def __init__(self, config: ChromaVectorConfig, local_path: Path | None) -> None:
        self.config = config
        self.local_path = local_path
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            raise StorageError("chroma vector storage: client used before it was opened")
        return self._client

    def where(self) -> str:
        return str(self.local_path) if self.local_path else self.config.address()

    async def open(self) -> None:
        try:
            self._client = await asyncio.to_thread(self._connect)
        except Exception as exc:
            detail = str(exc) or type(exc).__name__
            token = self.config.auth_token
            if token is not None and token.get_secret_value():
                detail = detail.replace(token.get_secret_value(), "***")
            if self.local_path is not None:
                raise StorageError(
                    f"chroma vector storage cannot open the local Chroma directory "
                    f"{str(self.local_path)!r}: {detail}"
                ) from exc
            raise StorageUnavailableError(
                f"chroma vector storage cannot reach the Chroma server at "
                f"{self.config.address()}: {detail}"
            ) from exc

    def _connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        config = self.config
        settings = Settings(anonymized_telemetry=False)
        if self.local_path is not None:
            self.local_path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(
                path=str(self.local_path),
                settings=settings,
                tenant=config.tenant,
                database=config.database,
            )
        parts = urlsplit(config.url if "://" in config.url else f"http://{config.url}")
        headers = {}
        if config.auth_token is not None:
            headers["Authorization"] = f"Bearer {config.auth_token.get_secret_value()}"
        client = chromadb.HttpClient(  # checks the server with a heartbeat
            host=parts.hostname or "localhost",
            port=parts.port or (443 if parts.scheme == "https" else 8000),
            ssl=parts.scheme == "https",
            headers=headers,
            settings=settings,
            tenant=config.tenant,
            database=config.database,
        )
        client.heartbeat()
        return client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self.local_path is None:
            await asyncio.to_thread(client.close)


class ChromaVectorStorage:
    """Id -> (vector, metadata) in one Chroma collection per workspace and namespace."""

    shared: ClassVar[bool] = True
    backend_name: ClassVar[str] = "chroma vector storage"
    config_model: ClassVar[type[ChromaVectorConfig]] = ChromaVectorConfig

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(ChromaVectorConfig, params, self.backend_name)
        if ctx.embedding_dim <= 0:
            raise ValueError(
                f"{self.backend_name} {ctx.namespace!r} needs embedding_dim > 0 "
                f"(the embedding model's dimension), got {ctx.embedding_dim}"
            )
        self.dim = ctx.embedding_dim
        self.collection_name = collection_name(
            "lightrag", ctx.workspace, ctx.namespace, max_length=63
        )
        self._meta_fields = frozenset(ctx.meta_fields)
        self._local_path: Path | None = None
        if self.config.local_path:
            path = Path(self.config.local_path).expanduser()
            self._local_path = (path if path.is_absolute() else ctx.working_dir / path).resolve()
            self._key: tuple[str, ...] = ("chroma", "local", str(self._local_path))
        else:
            config = self.config
            self._key = ("chroma", config.url, config.tenant, config.database)
        self._shared: _ChromaClient | None = None
        self._collection: Any = None

    # lifecycle

    async def initialize(self) -> None:
        """Connect (shared client) and create the collection if missing. Idempotent.

        Raises ``StorageUnavailableError`` when the server does not answer and
        ``StorageSchemaError`` when the collection holds vectors of another dimension
        or another distance.
        """
        if self._shared is not None:
            return
        config, local = self.config, self._local_path
        shared = await self.ctx.clients.acquire(self._key, lambda: _ChromaClient(config, local))
        try:
            self._shared = shared
            self._collection = await self._ensure_collection()
        except BaseException:
            self._shared = None
            await self.ctx.clients.release(self._key)
            raise

    async def _ensure_collection(self) -> Any:
        client = self._client()
        collection = await self._call(
            "get_or_create_collection",
            client.get_or_create_collection,
            self.collection_name,
            embedding_function=None,
            metadata={"hnsw:space": "cosine", _DIM_KEY: self.dim},
        )
        metadata = collection.metadata or {}
        space = metadata.get("hnsw:space", "l2")
        stored_dim = metadata.get(_DIM_KEY)
        if space != "cosine":
            raise StorageSchemaError(
                f"{self.backend_name}: collection {self.collection_name!r} uses the {space!r} "
                "distance, not cosine; drop it or choose another workspace"
            )
        if stored_dim is not None and int(stored_dim) != self.dim:
            raise StorageSchemaError(
                f"{self.backend_name}: collection {self.collection_name!r} holds "
                f"{stored_dim}-dimensional vectors but the embedding model gives {self.dim}. "
                "Configure the model that built this data, use another workspace, or drop "
                "the collection and re-index."
            )
        return collection

    async def finalize(self) -> None:
        if self._shared is None:
            return
        self._shared = None
        self._collection = None
        await self.ctx.clients.release(self._key)

    async def index_done(self) -> None:
        """Nothing to do: every write is durable when it returns."""

    async def drop(self) -> None:
        """Remove every vector of this namespace (the collection is deleted and recreated)."""
        client = self._client()
        try:
            await asyncio.to_thread(client.delete_collection, self.collection_name)
        except Exception as exc:  # already gone (another instance dropped it)
            if "not exist" not in str(exc).lower() and "not found" not in str(exc).lower():
                raise self._failure("delete_collection", exc) from exc
        self._collection = await self._ensure_collection()

    # writes

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        """Insert or replace records (their ``ctx.meta_fields``) with their vectors."""
        self._client()
        if not records:
            return
        matrix = checked_vectors(vectors, len(records), self.dim, self.ctx.namespace)
        metas = [
            _to_chroma(meta) for meta in kept_meta(records, self._meta_fields, self.backend_name)
        ]
        ids = list(records)
        if any(not isinstance(key, str) or not key for key in ids):
            raise ValueError(f"{self.backend_name}: ids must be non-empty strings")
        size = self.config.batch_size
        for start in range(0, len(ids), size):
            end = start + size
            await self._call(
                "upsert",
                self._collection.upsert,
                ids=ids[start:end],
                embeddings=matrix[start:end],
                metadatas=metas[start:end],
            )

    async def delete(self, ids: Sequence[str]) -> None:
        """Remove records; unknown ids are ignored."""
        self._client()
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), self.config.batch_size):
            batch = unique[start : start + self.config.batch_size]
            await self._call("delete", self._collection.delete, ids=batch)

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
        self._client()
        query = checked_query(vector, top_k, self.dim, self.ctx.namespace)
        wanted = checked_filters(filters, self._meta_fields, self.backend_name)
        if top_k == 0 or any(not values for values in wanted.values()):
            return []
        limit = self.ctx.cosine_threshold if threshold is None else threshold
        clauses = [{name: {"$in": sorted(values)}} for name, values in wanted.items()]
        where: dict[str, Any] | None = None
        if len(clauses) == 1:
            where = clauses[0]
        elif clauses:
            where = {"$and": clauses}
        result = await self._call(
            "query",
            self._collection.query,
            query_embeddings=query.reshape(1, -1),
            n_results=top_k,
            where=where,
            include=["metadatas", "distances"],
        )
        ids = result["ids"][0]
        distances = result["distances"][0]
        metadatas = result["metadatas"][0]
        hits = []
        for key, distance, meta in zip(ids, distances, metadatas, strict=True):
            score = 1.0 - float(distance)
            if score >= limit:
                hits.append({**_from_chroma(meta), "id": key, "score": score})
        hits.sort(key=lambda hit: -hit["score"])
        return hits

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Metadata records with ``"id"``, in the order of ``ids``; ``None`` when unknown."""
        self._client()
        unique = list(dict.fromkeys(ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), self.config.batch_size):
            batch = unique[start : start + self.config.batch_size]
            result = await self._call("get", self._collection.get, ids=batch, include=["metadatas"])
            for key, meta in zip(result["ids"], result["metadatas"], strict=True):
                found[key] = {**_from_chroma(meta), "id": key}
        return [dict(found[key]) if key in found else None for key in ids]

    async def count(self) -> int:
        self._client()
        return int(await self._call("count", self._collection.count))

    # helpers

    def _client(self) -> Any:
        if self._shared is None:
            raise StorageError(f"{self.backend_name} {self.ctx.namespace!r} is not initialised")
        return self._shared.client

    async def _call(
        self, operation: str, method: Callable[..., _T], *args: Any, **kwargs: Any
    ) -> _T:
        """``method(*args, **kwargs)`` in a worker thread; failures name the operation."""
        try:
            return await asyncio.to_thread(partial(method, *args, **kwargs))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise self._failure(operation, exc) from exc

    def _failure(self, operation: str, exc: Exception) -> StorageError:
        where = self._shared.where() if self._shared else self.config.address()
        return StorageError(
            f"{self.backend_name} {operation} on collection {self.collection_name!r} at "
            f"{where} failed: {str(exc) or type(exc).__name__}"
        )


def _to_chroma(meta: dict[str, Any]) -> dict[str, Any]:
    """Scalars as Chroma metadata fields; the rest JSON-encoded under ``__lr_json``."""
    scalars: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in meta.items():
        if isinstance(value, str | int | float | bool):
            scalars[key] = value
        else:
            rest[key] = value
    scalars[_JSON] = json.dumps(rest, ensure_ascii=False)
    return scalars


def _from_chroma(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    if not meta:
        return {}
    record = {key: value for key, value in meta.items() if key != _JSON}
    encoded = meta.get(_JSON)
    if isinstance(encoded, str) and encoded:
        record.update(json.loads(encoded))
    return record
