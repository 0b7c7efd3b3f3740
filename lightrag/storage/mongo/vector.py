"""Vector storage in MongoDB: one collection per namespace (and workspace).

Each record is ``{"_id": id, "vector": [unit-length floats], "meta": {...}}`` with the
``ctx.meta_fields`` of the record under ``meta``. Two ways to search, chosen by
``vector_search`` (``MONGO_VECTOR_SEARCH``), never switched silently:

- ``atlas``: the ``$vectorSearch`` stage on a vector search index (cosine, one
  ``filter`` field per meta field), created at ``initialize`` if missing. It needs
  MongoDB Atlas or a mongod with mongot (Atlas Search); such an index is updated
  asynchronously, so a record can take a moment to become searchable after its write.
- ``exact``: every cosine computed in an aggregation (``$zip`` + ``$reduce``) on the
  records that pass the filters, then sorted: exact and read-your-writes on any
  server (secantusdb included), but a scan of the namespace per query, so for small
  collections (thousands of records) and for tests.

The vectors' dimension is checked at ``initialize`` against the stored records (and
the search index): a mismatch is a ``StorageSchemaError`` naming both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from lightrag.storage._vectors import checked_filters, checked_query, checked_vectors, kept_meta
from lightrag.storage.mongo._base import MongoStorageBase
from lightrag.storage.mongo._writes import bulk_write, delete_each
from lightrag.storage.mongo.client import MongoClient
from lightrag.vocabulary.errors import StorageError, StorageSchemaError
from lightrag.vocabulary.storage import StorageContext

__all__ = ["MongoVectorStorage"]

_INDEX_READY_SECONDS = 120.0
_CANDIDATES_PER_RESULT = 20
_MAX_CANDIDATES = 10_000


class MongoVectorStorage(MongoStorageBase):
    """Id -> (vector, metadata) with cosine search by ``$vectorSearch`` or an exact scan."""

    backend_name: ClassVar[str] = "mongo vector storage"

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        super().__init__(ctx, params)
        if ctx.embedding_dim <= 0:
            raise ValueError(
                f"{self.backend_name} {ctx.namespace!r} needs embedding_dim > 0 "
                f"(the embedding model's dimension), got {ctx.embedding_dim}"
            )
        self.dim = ctx.embedding_dim
        self._meta_fields = frozenset(ctx.meta_fields)

    async def _create_indexes(self, client: MongoClient) -> None:
        collection = client.db[self.collection_name]
        stored = await client.run(
            f"{self.backend_name} check dimension",
            lambda: collection.find_one({}, {"vector": 1}),
        )
        if stored is not None and len(stored["vector"]) != self.dim:
            raise self._dimension_error(len(stored["vector"]))
        if self.config.vector_search == "atlas":
            await self._ensure_search_index(client)

    def _dimension_error(self, stored: int) -> StorageSchemaError:
        return StorageSchemaError(
            f"{self.backend_name}: collection {self.collection_name!r} in "
            f"{self.config.endpoint()} holds vectors of dimension {stored}, but the embedding "
            f"model gives {self.dim}. Use another MONGO_WORKSPACE or database for this model, "
            "or drop the collection to re-embed."
        )

    def _index_definition(self) -> dict[str, Any]:
        fields: list[dict[str, Any]] = [
            {"type": "vector", "path": "vector", "numDimensions": self.dim, "similarity": "cosine"}
        ]
        fields += [{"type": "filter", "path": f"meta.{name}"} for name in sorted(self._meta_fields)]
        return {"fields": fields}

    async def _ensure_search_index(self, client: MongoClient) -> None:
        """Create the vector search index once (another replica may be creating it too)
        and wait until it answers queries."""
        from pymongo.errors import CollectionInvalid, OperationFailure
        from pymongo.operations import SearchIndexModel

        db, name = client.db, self.config.vector_index
        collection = db[self.collection_name]
        what = f"{self.backend_name} {self.collection_name!r} search index"
        try:
            await client.run(what, lambda: db.create_collection(self.collection_name))
        except CollectionInvalid:
            pass  # exists already
        except OperationFailure as exc:
            if exc.code != 48:  # NamespaceExists
                raise
        try:
            found = await self._search_indexes(client, name)
            if not found:
                model = SearchIndexModel(
                    definition=self._index_definition(), name=name, type="vectorSearch"
                )
                try:
                    await client.run(what, lambda: collection.create_search_index(model))
                except OperationFailure as exc:
                    if exc.code != 68:  # IndexAlreadyExists: another replica was first
                        raise
            deadline = time.monotonic() + _INDEX_READY_SECONDS
            while True:
                found = await self._search_indexes(client, name)
                if found:
                    self._check_index(found[0])
                    if found[0].get("queryable"):
                        return
                if time.monotonic() > deadline:
                    raise StorageError(
                        f"{what} {name!r} is not queryable after {_INDEX_READY_SECONDS:.0f} s"
                    )
                await asyncio.sleep(1.0)
        except OperationFailure as exc:
            raise StorageError(
                f"{what}: the server at {self.config.endpoint()} has no vector search "
                f"({exc}). vector_search: atlas needs MongoDB Atlas or mongod with mongot; "
                "set MONGO_VECTOR_SEARCH=exact to search by an exact scan on any server"
            ) from exc

    async def _search_indexes(self, client: MongoClient, name: str) -> list[dict[str, Any]]:
        collection = client.db[self.collection_name]

        async def op() -> list[dict[str, Any]]:
            return list(await (await collection.list_search_indexes(name)).to_list())

        return await client.run(f"{self.backend_name} list search indexes", op)

    def _check_index(self, index: dict[str, Any]) -> None:
        definition = index.get("latestDefinition") or index.get("definition") or {}
        for field in definition.get("fields", []):
            if field.get("type") == "vector" and field.get("path") == "vector":
                dims = int(field.get("numDimensions", self.dim))
                if dims != self.dim:
                    raise self._dimension_error(dims)

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        if not records:
            return
        from pymongo import ReplaceOne

        array = checked_vectors(vectors, len(records), self.dim, self.namespace)
        metas = kept_meta(records, self._meta_fields, self.backend_name)
        requests = [
            ReplaceOne(
                {"_id": key},
                {"_id": key, "vector": [float(x) for x in row], "meta": meta},
                upsert=True,
            )
            for key, row, meta in zip(records, array, metas, strict=True)
        ]
        await bulk_write(self, "upsert", requests)

    async def query(
        self,
        vector: np.ndarray,
        top_k: int,
        *,
        threshold: float | None = None,
        filters: Mapping[str, Collection[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Best first, ``{"id", "score", **meta}``; raises ``ValueError`` for a query of the
        wrong dimension, a negative ``top_k`` or a filter that ``checked_filters`` refuses."""
        query = [float(x) for x in checked_query(vector, top_k, self.dim, self.namespace)[0]]
        wanted = checked_filters(filters, self._meta_fields, self.backend_name)
        limit = self.ctx.cosine_threshold if threshold is None else threshold
        if top_k == 0:
            return []
        match = {f"meta.{name}": {"$in": sorted(values)} for name, values in wanted.items()}
        if self.config.vector_search == "atlas":
            pipeline = self._atlas_pipeline(query, top_k, match)
        else:
            pipeline = self._exact_pipeline(query, top_k, match, limit)

        async def op() -> list[dict[str, Any]]:
            return list(await (await self.collection.aggregate(pipeline)).to_list())

        rows = await self._run("query", op)
        hits = [{**row["meta"], "id": row["_id"], "score": float(row["score"])} for row in rows]
        return [hit for hit in hits if hit["score"] >= limit]

    def _exact_pipeline(
        self, query: list[float], top_k: int, match: dict[str, Any], threshold: float
    ) -> list[dict[str, Any]]:
        # both sides are unit length, so the dot product is the cosine
        dot = {
            "$reduce": {
                "input": {"$zip": {"inputs": ["$vector", {"$literal": query}]}},
                "initialValue": 0.0,
                "in": {
                    "$add": [
                        "$$value",
                        {
                            "$multiply": [
                                {"$arrayElemAt": ["$$this", 0]},
                                {"$arrayElemAt": ["$$this", 1]},
                            ]
                        },
                    ]
                },
            }
        }
        return [
            *([{"$match": match}] if match else []),
            {"$project": {"meta": 1, "score": dot}},
            {"$match": {"score": {"$gte": threshold}}},
            {"$sort": {"score": -1, "_id": 1}},
            {"$limit": top_k},
        ]

    def _atlas_pipeline(
        self, query: list[float], top_k: int, match: dict[str, Any]
    ) -> list[dict[str, Any]]:
        search: dict[str, Any] = {
            "index": self.config.vector_index,
            "path": "vector",
            "queryVector": query,
            "numCandidates": min(_MAX_CANDIDATES, max(100, top_k * _CANDIDATES_PER_RESULT)),
            "limit": top_k,
        }
        if match:
            search["filter"] = match  # a pre-filter: top_k is taken among the records that pass
        return [
            {"$vectorSearch": search},
            # Atlas scores cosine as (1 + cos) / 2: back to the cosine
            {
                "$project": {
                    "meta": 1,
                    "score": {"$subtract": [{"$multiply": [2, {"$meta": "vectorSearchScore"}]}, 1]},
                }
            },
        ]

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        if not ids:
            return []
        wanted = list(set(ids))

        async def op() -> dict[str, Any]:
            cursor = self.collection.find({"_id": {"$in": wanted}}, {"meta": 1})
            return {doc["_id"]: doc["meta"] async for doc in cursor}

        found = await self._run("get", op)
        return [{**found[key], "id": key} if key in found else None for key in ids]

    async def delete(self, ids: Sequence[str]) -> None:
        await delete_each(self, "delete", "_id", list(set(ids)), many=False)

    async def count(self) -> int:
        return int(await self._run("count", lambda: self.collection.count_documents({})))

    async def drop(self) -> None:
        # delete, not drop the collection: the search index stays for the next writes
        await self._run("drop", lambda: self.collection.delete_many({}))
