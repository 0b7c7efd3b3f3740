"""The contract suite against the pytest-docker services of
``tests/integration/docker-compose.yml``: every PostgreSQL role, both Redis roles, the
Neo4j graph and vector storages, the Gremlin graph, and the MongoDB KV, doc status, graph
and exact vector storages (on secantusdb), on servers that run in containers (marker
``docker``, with ``LIGHTRAG_TEST_DOCKER=1``); restarts go through ``docker compose restart``."""

from __future__ import annotations

from typing import Any

import pytest
from integration.servers.compose import DockerBackends
from integration.servers.gremlin import gremlin_params

from lightrag.storage.gremlin.graph import GremlinGraphStorage
from lightrag.storage.mongo.doc_status import MongoDocStatusStorage
from lightrag.storage.mongo.graph import MongoGraphStorage
from lightrag.storage.mongo.kv import MongoKVStorage
from lightrag.storage.mongo.vector import MongoVectorStorage
from lightrag.storage.neo4j.graph import Neo4jGraphStorage
from lightrag.storage.neo4j.vector import Neo4jVectorStorage
from lightrag.storage.postgres.doc_status import PostgresDocStatusStorage
from lightrag.storage.postgres.graph import PostgresGraphStorage
from lightrag.storage.postgres.kv import PostgresKVStorage
from lightrag.storage.postgres.vector import PostgresVectorStorage
from lightrag.storage.redis.doc_status import RedisDocStatusStorage
from lightrag.storage.redis.kv import RedisKVStorage

from .doc_status import DocStatusStorageContract
from .graph import GraphStorageContract
from .kv import KVStorageContract
from .support import Backend
from .vector import VectorStorageContract

pytestmark = [pytest.mark.docker, pytest.mark.integration]


class TestDockerPostgresKVStorage(KVStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        return Backend(
            PostgresKVStorage,
            dict(docker_backends.postgres),
            restart=docker_backends.restart_hook("postgres"),
        )


class TestDockerPostgresDocStatusStorage(DocStatusStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        return Backend(
            PostgresDocStatusStorage,
            dict(docker_backends.postgres),
            restart=docker_backends.restart_hook("postgres"),
        )


class TestDockerPostgresVectorStorage(VectorStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        return Backend(
            PostgresVectorStorage,
            dict(docker_backends.postgres),
            restart=docker_backends.restart_hook("postgres"),
        )


class TestDockerPostgresGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        return Backend(
            PostgresGraphStorage,
            dict(docker_backends.postgres),
            restart=docker_backends.restart_hook("postgres"),
        )


class TestDockerRedisKVStorage(KVStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        return Backend(
            RedisKVStorage,
            {"uri": docker_backends.redis_uri},
            restart=docker_backends.restart_hook("redis"),
        )


class TestDockerRedisDocStatusStorage(DocStatusStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        return Backend(
            RedisDocStatusStorage,
            {"uri": docker_backends.redis_uri},
            restart=docker_backends.restart_hook("redis"),
        )


def _service(docker_backends: DockerBackends, service: str, cls: type, **params: Any) -> Backend:
    """The backend on a compose service that may have been left out (skips, saying why)."""
    docker_backends.require(service)
    return Backend(cls, params, restart=docker_backends.restart_hook(service))


class TestDockerNeo4jGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        return _service(docker_backends, "neo4j", Neo4jGraphStorage, **docker_backends.neo4j)


class TestDockerNeo4jVectorStorage(VectorStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        return _service(docker_backends, "neo4j", Neo4jVectorStorage, **docker_backends.neo4j)


class TestDockerGremlinGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        params = gremlin_params(docker_backends.gremlin_url)
        return _service(docker_backends, "gremlin", GremlinGraphStorage, **params)


_MONGO = {"database": "lightrag_contract", "server_selection_timeout": 10.0}


class TestDockerMongoKVStorage(KVStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        uri = docker_backends.mongo_uri
        return _service(docker_backends, "mongo", MongoKVStorage, uri=uri, **_MONGO)


class TestDockerMongoDocStatusStorage(DocStatusStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        uri = docker_backends.mongo_uri
        return _service(docker_backends, "mongo", MongoDocStatusStorage, uri=uri, **_MONGO)


class TestDockerMongoGraphStorage(GraphStorageContract):
    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        uri = docker_backends.mongo_uri
        return _service(docker_backends, "mongo", MongoGraphStorage, uri=uri, **_MONGO)


class TestDockerMongoExactVectorStorage(VectorStorageContract):
    """``vector_search: exact`` (secantusdb has no ``$vectorSearch``; with
    ``LIGHTRAG_TEST_MONGO_IMAGE=mongo:8`` neither does mongod without mongot)."""

    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        uri = docker_backends.mongo_uri
        return _service(
            docker_backends, "mongo", MongoVectorStorage, uri=uri, vector_search="exact", **_MONGO
        )
