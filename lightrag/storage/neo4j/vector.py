"""Vector storage on Neo4j's vector index (``db.index.vector.queryNodes``, Neo4j 5.13+).

Each namespace gets its own label, ``<vector_label_prefix>_<namespace>_<hash>``, with
a vector index (HNSW, cosine, no quantization, of the dimension it was created with)
and a uniqueness constraint on ``(_workspace, _id)``; the workspace is a property.
The ``ctx.meta_fields`` of each record are node properties (``properties``).

A query without filters asks the index for more neighbours than ``top_k`` and keeps
this workspace's, asking again for more while too few passed (other workspaces share
the index); a query with filters (``{"full_doc_id": [...]}``, usually few records)
scans this workspace's nodes that pass the filters and computes their cosine exactly,
so the top ``top_k`` are always taken after filtering. Neo4j's cosine score is
``(1 + cos) / 2``: results carry the cosine itself, like every other vector backend.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from lightrag.storage._params import parse_params
from lightrag.storage._vector_server import collection_name
from lightrag.storage._vectors import checked_filters, checked_query, checked_vectors, kept_meta
from lightrag.storage.neo4j.client import (
    Neo4jClient,
    Neo4jConfig,
    effective_workspace,
    neo4j_client,
    release_neo4j_client,
)
from lightrag.storage.neo4j.properties import decode_properties, encode_properties
from lightrag.vocabulary.errors import StorageSchemaError
from lightrag.vocabulary.storage import StorageContext

__all__ = ["Neo4jVectorStorage"]

_EMBEDDING = "embedding"
RESERVED = frozenset({"_workspace", "_id", _EMBEDDING})
_DROP_BATCH = 5000
_FIRST_CANDIDATES = 4  # the index is first asked for 4 x top_k neighbours (at least 40),
_MORE_CANDIDATES = 4  # then 4 times as many each round, for up to 3 rounds,
_ROUNDS = 3  # before the exact scan takes over


class Neo4jVectorStorage:
    """Id -> (vector, metadata) with cosine search on a Neo4j vector index."""

    shared: ClassVar[bool] = True
    backend_name: ClassVar[str] = "neo4j vector storage"
    config_model: ClassVar[type[Neo4jConfig]] = Neo4jConfig

    def __init__(self, ctx: StorageContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.config = parse_params(Neo4jConfig, params, self.backend_name)
        if ctx.embedding_dim <= 0:
            raise ValueError(
                f"{self.backend_name} {ctx.namespace!r} needs embedding_dim > 0 "
                f"(the embedding model's dimension), got {ctx.embedding_dim}"
            )
        clash = sorted(RESERVED & ctx.meta_fields)
        if clash:
            raise ValueError(
                f"{self.backend_name}: meta field names {clash} are the storage's own "
                f"properties ({', '.join(sorted(RESERVED))}); rename them"
            )
        self.dim = ctx.embedding_dim
        self.workspace = effective_workspace(ctx, self.config)
        self.namespace = ctx.namespace
        self.label = collection_name(
            self.config.vector_label_prefix, "", ctx.namespace, max_length=120
        )
        self.index = f"{self.label}_embedding"
        self._meta_fields = frozenset(ctx.meta_fields)
        self._client: Neo4jClient | None = None
        node = f"(n:`{self.label}` {{_workspace: $ws, _id: %s}})"
        self._cypher = {
            "upsert": f"UNWIND $rows AS row MERGE {node % 'row.id'} SET n = row.props"
            " WITH n, row CALL db.create.setNodeVectorProperty(n, 'embedding', row.vector)",
            "get": f"UNWIND $ids AS id MATCH {node % 'id'}"
            " RETURN id, n {.*, embedding: null} AS props",
            "delete": f"UNWIND $ids AS id MATCH {node % 'id'} DELETE n",
            "count": f"MATCH (n:`{self.label}` {{_workspace: $ws}}) WHERE n._id IS NOT NULL"
            " RETURN count(n) AS count",
            "drop": f"MATCH (n:`{self.label}` {{_workspace: $ws}}) WHERE n._id IS NOT NULL"
            " WITH n LIMIT $limit DELETE n RETURN count(*) AS deleted",
            "nearest": "CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score"
            " RETURN node._workspace = $ws AS mine, 2 * score - 1 AS score,"
            " CASE WHEN node._workspace = $ws THEN node {.*, embedding: null} END AS props",
            "scan": f"MATCH (n:`{self.label}` {{_workspace: $ws}}) WHERE n._id IS NOT NULL"
            " AND all(f IN $filters WHERE n[f.field] IN f.values)"
            " WITH n, 2 * vector.similarity.cosine(n.embedding, $vector) - 1 AS score"
            " WHERE score >= $threshold"
            " RETURN n {.*, embedding: null} AS props, score ORDER BY score DESC LIMIT $k",
        }

    @property
    def _scope(self) -> dict[str, str]:
        return {"ws": self.workspace}

    @property
    def _db(self) -> Neo4jClient:
        if self._client is None:
            raise RuntimeError(f"{self.backend_name} is not initialised: await initialize()")
        return self._client

    # lifecycle

    async def initialize(self) -> None:
        """Share the server's driver, create the namespace's constraint and vector index
        once, and check the index's dimension. Idempotent.

        Raises ``StorageSchemaError`` naming both dimensions when the index was made
        for another embedding dimension, ``StorageUnavailableError`` when the server
        cannot be reached.
        """
        if self._client is not None:
            return
        client = await neo4j_client(self.ctx, self.config)
        try:
            await client.ensure_schema(f"vector:{self.label}", self._schema(), self._indexes())
            await self._check_dimension(client)
        except BaseException:
            await release_neo4j_client(self.ctx, self.config)
            raise
        self._client = client

    def _indexes(self) -> tuple[str, str]:
        return (f"{self.label}_id", self.index)

    def _schema(self) -> tuple[str, str]:
        constraint, index = self._indexes()
        return (
            f"CREATE CONSTRAINT `{constraint}` IF NOT EXISTS FOR (n:`{self.label}`)"
            " REQUIRE (n._workspace, n._id) IS UNIQUE",
            f"CREATE VECTOR INDEX `{index}` IF NOT EXISTS FOR (n:`{self.label}`) ON n.embedding"
            f" OPTIONS {{indexConfig: {{`vector.dimensions`: {int(self.dim)},"
            " `vector.similarity_function`: 'cosine', `vector.quantization.enabled`: false}}",
        )

    async def _check_dimension(self, client: Neo4jClient) -> None:
        records = await client.fetch(
            "SHOW VECTOR INDEXES YIELD name, options WHERE name = $name RETURN options",
            "check the vector index",
            name=self.index,
        )
        config = (records[0]["options"] or {}).get("indexConfig", {}) if records else {}
        existing = config.get("vector.dimensions")
        if existing is not None and int(existing) != self.dim:
            raise StorageSchemaError(
                f"{self.backend_name}: vector index {self.index!r} on {self.config.address()} "
                f"holds vectors of dimension {existing}, but the embedding model gives "
                f"{self.dim}. Set another vector_label_prefix (NEO4J_VECTOR_LABEL_PREFIX) for "
                f"this model, or drop index {self.index} and the {self.label} nodes to re-embed."
            )

    async def finalize(self) -> None:
        """Give back the shared driver. Idempotent."""
        if self._client is None:
            return
        self._client = None
        await release_neo4j_client(self.ctx, self.config)

    async def index_done(self) -> None:
        """Nothing to flush: every write is committed (and indexed) when it returns."""

    async def drop(self) -> None:
        """Remove every record of this namespace and workspace (in bounded transactions)."""
        statement, scope = self._cypher["drop"], self._scope

        async def work(tx: Any) -> int:
            record = await (await tx.run(statement, {"limit": _DROP_BATCH, **scope})).single()
            return 0 if record is None else int(record["deleted"])

        while await self._db.write(work, "drop vectors"):
            pass

    # writes and reads

    async def upsert(self, records: Mapping[str, dict[str, Any]], vectors: np.ndarray) -> None:
        """Insert or replace records in one transaction (raises ``ValueError`` for vectors
        of the wrong shape or metadata that is not JSON)."""
        if not records:
            return
        array = checked_vectors(vectors, len(records), self.dim, self.namespace)
        metas = kept_meta(records, self._meta_fields, self.backend_name)
        rows = []
        for (record_id, meta), vector in zip(zip(records, metas, strict=True), array, strict=True):
            props = encode_properties(meta, RESERVED, f"record {record_id!r}")
            props.update(_workspace=self.workspace, _id=record_id)
            rows.append({"id": record_id, "props": props, "vector": vector.tolist()})
        rows.sort(key=lambda row: row["id"])  # concurrent batches lock in one order
        statement, scope, size = self._cypher["upsert"], self._scope, self.config.batch_size

        async def work(tx: Any) -> None:
            for start in range(0, len(rows), size):
                params = {"rows": rows[start : start + size], **scope}
                await (await tx.run(statement, params)).consume()

        await self._db.write(work, "upsert vectors")

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
        query = checked_query(vector, top_k, self.dim, self.namespace)[0].tolist()
        wanted = checked_filters(filters, self._meta_fields, self.backend_name)
        limit = self.ctx.cosine_threshold if threshold is None else threshold
        if top_k == 0:
            return []
        if wanted:
            return await self._scan(query, top_k, limit, wanted)
        k = max(_FIRST_CANDIDATES * top_k, 40)
        for _ in range(_ROUNDS):
            records = await self._db.fetch(
                self._cypher["nearest"],
                "vector query",
                index=self.index,
                k=k,
                vector=query,
                **self._scope,
            )
            hits = [r for r in records if r["mine"] and r["score"] >= limit]
            # enough of ours; or the index has no more; or the rest score below the threshold
            if len(hits) >= top_k or len(records) < k or records[-1]["score"] < limit:
                return [self._hit(r) for r in hits[:top_k]]
            k *= _MORE_CANDIDATES
        return await self._scan(query, top_k, limit, {})

    async def _scan(
        self, query: list[float], top_k: int, threshold: float, wanted: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Exact search among this workspace's records that pass the filters."""
        records = await self._db.fetch(
            self._cypher["scan"],
            "vector query (exact, filtered)",
            vector=query,
            k=top_k,
            threshold=threshold,
            filters=[{"field": name, "values": sorted(values)} for name, values in wanted.items()],
            **self._scope,
        )
        return [self._hit(r) for r in records]

    def _hit(self, record: Any) -> dict[str, Any]:
        props = record["props"]
        return {**decode_properties(props, RESERVED), "id": props["_id"], "score": record["score"]}

    async def get(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        if not ids:
            return []
        records = await self._db.fetch(
            self._cypher["get"], "get vectors", ids=list(dict.fromkeys(ids)), **self._scope
        )
        found = {r["id"]: decode_properties(r["props"], RESERVED) for r in records}
        return [{**found[key], "id": key} if key in found else None for key in ids]

    async def delete(self, ids: Sequence[str]) -> None:
        if ids:
            await self._db.execute(
                self._cypher["delete"], "delete vectors", ids=sorted(set(ids)), **self._scope
            )

    async def count(self) -> int:
        records = await self._db.fetch(self._cypher["count"], "count vectors", **self._scope)
        return int(records[0]["count"])
