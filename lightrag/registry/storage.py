"""The storage backends by role and name (see ``lightrag.registry``).

Adding a backend: one module under ``lightrag/storage/``, one ``Entry`` line
here, one YAML under ``conf/storage/<role>/``, and a recipe.
"""

from __future__ import annotations

from typing import Literal

from lightrag.registry import Entry, Registry

__all__ = ["ROLES", "StorageRole", "storage_registry"]

StorageRole = Literal["kv", "vector", "graph", "doc_status"]
ROLES: tuple[StorageRole, ...] = ("kv", "vector", "graph", "doc_status")

_REGISTRIES: dict[str, Registry] = {
    "kv": Registry(
        "kv storage",
        [
            Entry(
                "json",
                "lightrag.storage.kv_json:JsonKVStorage",
                aliases=("JsonKVStorage",),
                description="JSON file per namespace in the working directory",
            ),
            Entry(
                "redis",
                "lightrag.storage.redis.kv:RedisKVStorage",
                extra="redis",
                aliases=("RedisKVStorage",),
                description="Redis hash per namespace (REDIS_URI)",
            ),
            Entry(
                "postgres",
                "lightrag.storage.postgres.kv:PostgresKVStorage",
                aliases=("PGKVStorage",),
                extra="postgres",
                description="PostgreSQL table lightrag_kv (JSONB values), shared pool",
            ),
            Entry(
                "tidb",
                "lightrag.storage.tidb.kv:TiDBKVStorage",
                aliases=("TiDBKVStorage",),
                extra="tidb",
                description="TiDB (or MySQL/MariaDB) table lightrag_kv, shared pool",
            ),
            Entry(
                "mongo",
                "lightrag.storage.mongo.kv:MongoKVStorage",
                aliases=("MongoKVStorage",),
                extra="mongo",
                description="MongoDB collection per namespace (MONGO_URI, MONGO_DATABASE)",
            ),
            Entry(
                "oracle",
                "lightrag.storage.oracle.kv:OracleKVStorage",
                aliases=("OracleKVStorage",),
                extra="oracle",
                description="Oracle table lightrag_kv (JSON in CLOB), oracledb thin pool",
            ),
        ],
    ),
    "vector": Registry(
        "vector storage",
        [
            Entry(
                "nano",
                "lightrag.storage.vdb_nano:NanoVectorStorage",
                aliases=("NanoVectorDBStorage", "nanovectordb"),
                description="nano-vectordb file per namespace in the working directory",
            ),
            Entry(
                "postgres",
                "lightrag.storage.postgres.vector:PostgresVectorStorage",
                aliases=("PGVectorStorage",),
                extra="postgres",
                description="PostgreSQL + pgvector (HNSW, cosine), shared pool",
            ),
            Entry(
                "milvus",
                "lightrag.storage.vdb_milvus:MilvusVectorStorage",
                extra="milvus",
                aliases=("MilvusVectorDBStorage",),
                description="Milvus server (or milvus-lite server), one collection per namespace",
            ),
            Entry(
                "chroma",
                "lightrag.storage.vdb_chroma:ChromaVectorStorage",
                extra="chroma",
                aliases=("ChromaVectorDBStorage",),
                description="Chroma server (chroma run) or a local Chroma directory",
            ),
            Entry(
                "faiss",
                "lightrag.storage.vdb_faiss:FaissVectorStorage",
                aliases=("FaissVectorDBStorage",),
                extra="faiss",
                description="Faiss flat inner-product index per namespace in the working directory",
            ),
            Entry(
                "qdrant",
                "lightrag.storage.vdb_qdrant:QdrantVectorStorage",
                aliases=("QdrantVectorDBStorage",),
                extra="qdrant",
                description="Qdrant collection per namespace (server at QDRANT_URL, else local)",
            ),
            Entry(
                "neo4j",
                "lightrag.storage.neo4j.vector:Neo4jVectorStorage",
                extra="neo4j",
                description="Neo4j 5.13+ vector index (HNSW, cosine), one label per namespace",
            ),
            Entry(
                "tidb",
                "lightrag.storage.tidb.vector:TiDBVectorStorage",
                aliases=("TiDBVectorDBStorage",),
                extra="tidb",
                description="TiDB VECTOR column, exact cosine search (no TiFlash index)",
            ),
            Entry(
                "mongo",
                "lightrag.storage.mongo.vector:MongoVectorStorage",
                aliases=("MongoVectorDBStorage",),
                extra="mongo",
                description="MongoDB collection per namespace; $vectorSearch (Atlas/mongot) or exact",
            ),
            Entry(
                "oracle",
                "lightrag.storage.oracle.vector:OracleVectorStorage",
                aliases=("OracleVectorDBStorage",),
                extra="oracle",
                description="Oracle 23ai VECTOR column, exact cosine (VECTOR_DISTANCE)",
            ),
        ],
    ),
    "graph": Registry(
        "graph storage",
        [
            Entry(
                "networkx",
                "lightrag.storage.graph_networkx:NetworkXGraphStorage",
                aliases=("NetworkXStorage",),
                description="NetworkX graph persisted as GraphML in the working directory",
            ),
            Entry(
                "postgres",
                "lightrag.storage.postgres.graph:PostgresGraphStorage",
                aliases=("PGTableGraphStorage",),
                extra="postgres",
                description="plain PostgreSQL tables (no Apache AGE needed)",
            ),
            Entry(
                "neo4j",
                "lightrag.storage.neo4j.graph:Neo4jGraphStorage",
                aliases=("Neo4JStorage",),
                extra="neo4j",
                description="Neo4j 5 (Community or Enterprise), workspace as a node property",
            ),
            Entry(
                "mongo",
                "lightrag.storage.mongo.graph:MongoGraphStorage",
                aliases=("MongoGraphStorage",),
                extra="mongo",
                description="MongoDB nodes and edges collections, $graphLookup subgraphs",
            ),
            Entry(
                "tidb",
                "lightrag.storage.tidb.graph:TiDBGraphStorage",
                aliases=("TiDBGraphStorage",),
                extra="tidb",
                description="TiDB (or MySQL/MariaDB) node and edge tables",
            ),
            Entry(
                "age",
                "lightrag.storage.postgres.age_graph:AgeGraphStorage",
                # upstream's PGGraphStorage is the AGE graph (PGTableGraphStorage the tables)
                aliases=("PGGraphStorage", "AGEStorage"),
                extra="age",
                description="Apache AGE (openCypher) on PostgreSQL, one AGE graph per workspace",
            ),
            Entry(
                "gremlin",
                "lightrag.storage.gremlin.graph:GremlinGraphStorage",
                aliases=("GremlinStorage",),
                extra="gremlin",
                description="Gremlin Server (Apache TinkerPop) over gremlinpython bytecode",
            ),
            Entry(
                "oracle",
                "lightrag.storage.oracle.graph:OracleGraphStorage",
                aliases=("OracleGraphStorage",),
                extra="oracle",
                description="plain Oracle tables lightrag_graph_nodes / lightrag_graph_edges",
            ),
        ],
    ),
    "doc_status": Registry(
        "doc status storage",
        [
            Entry(
                "json",
                "lightrag.storage.docstatus_json:JsonDocStatusStorage",
                aliases=("JsonDocStatusStorage",),
                description="JSON file in the working directory",
            ),
            Entry(
                "redis",
                "lightrag.storage.redis.doc_status:RedisDocStatusStorage",
                extra="redis",
                aliases=("RedisDocStatusStorage",),
                description="Redis hash with status, track and sort indexes (REDIS_URI)",
            ),
            Entry(
                "postgres",
                "lightrag.storage.postgres.doc_status:PostgresDocStatusStorage",
                aliases=("PGDocStatusStorage",),
                extra="postgres",
                description="PostgreSQL table lightrag_doc_status, shared pool",
            ),
            Entry(
                "tidb",
                "lightrag.storage.tidb.doc_status:TiDBDocStatusStorage",
                aliases=("TiDBDocStatusStorage",),
                extra="tidb",
                description="TiDB (or MySQL/MariaDB) table lightrag_doc_status, shared pool",
            ),
            Entry(
                "mongo",
                "lightrag.storage.mongo.doc_status:MongoDocStatusStorage",
                aliases=("MongoDocStatusStorage",),
                extra="mongo",
                description="MongoDB collection with status, track and time indexes",
            ),
            Entry(
                "oracle",
                "lightrag.storage.oracle.doc_status:OracleDocStatusStorage",
                aliases=("OracleDocStatusStorage",),
                extra="oracle",
                description="Oracle table lightrag_doc_status, oracledb thin pool",
            ),
        ],
    ),
}


def storage_registry(role: StorageRole) -> Registry:
    """The registry of backends for one storage role."""
    try:
        return _REGISTRIES[role]
    except KeyError:
        raise ValueError(
            f"unknown storage role {role!r}; choose one of: {', '.join(ROLES)}"
        ) from None
