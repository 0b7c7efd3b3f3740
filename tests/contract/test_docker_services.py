"""The contract suite against the pytest-docker services of
``tests/integration/docker-compose.yml``: every PostgreSQL role, both Redis roles, the
Neo4j graph and vector storages, the Gremlin graph, and the MongoDB KV, doc status, graph
and exact vector storages (on secantusdb), on servers that run in containers (marker
``docker``, with ``LIGHTRAG_TEST_DOCKER=1``); restarts go through ``docker compose restart``."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from integration.servers.compose import DockerBackends, builds_here
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


_BULK = "10k-item bulk test"


def _launcher_tier_only(
    test: Callable[..., Awaitable[None]], service: str, what: str = _BULK
) -> Any:
    """``test`` skipped when ``service`` runs the image built here, since the launcher tier
    already runs it on the same server build (``scripts/test-backends.sh <service>``: the
    same Neo4j jars, Gremlin distribution, secantusdb pin): the 10k-item bulk tests (minutes
    on secantusdb) and a second restart of the slow-starting Neo4j container. What the
    docker tier adds, the containerised server and restarts through compose, the rest of
    the suite covers. With an official image it runs."""

    @functools.wraps(test)
    async def run(self: Any, *args: Any, **kwargs: Any) -> None:
        await test(self, *args, **kwargs)

    return pytest.mark.skipif(
        builds_here(service),
        reason=f"{what}: run by the launcher tier on the same {service} server "
        f"(scripts/test-backends.sh {service}); left out of the docker tier to keep CI short",
    )(run)


def _service(docker_backends: DockerBackends, service: str, cls: type, **params: Any) -> Backend:
    """The backend on a compose service that may have been left out (skips, saying why)."""
    docker_backends.require(service)
    return Backend(cls, params, restart=docker_backends.restart_hook(service))


class TestDockerNeo4jGraphStorage(GraphStorageContract):
    test_ten_thousand_nodes_and_edges_through_the_batch_methods = _launcher_tier_only(
        GraphStorageContract.test_ten_thousand_nodes_and_edges_through_the_batch_methods, "neo4j"
    )

    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        return _service(docker_backends, "neo4j", Neo4jGraphStorage, **docker_backends.neo4j)


class TestDockerNeo4jVectorStorage(VectorStorageContract):
    test_ten_thousand_records_in_one_upsert = _launcher_tier_only(
        VectorStorageContract.test_ten_thousand_records_in_one_upsert, "neo4j"
    )
    test_reconnects_after_the_server_restarts = _launcher_tier_only(
        VectorStorageContract.test_reconnects_after_the_server_restarts,
        "neo4j",
        "the Neo4j container's restart (~40 s) is tested by TestDockerNeo4jGraphStorage; "
        "the vector storage's reconnect",
    )

    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        return _service(docker_backends, "neo4j", Neo4jVectorStorage, **docker_backends.neo4j)


class TestDockerGremlinGraphStorage(GraphStorageContract):
    test_ten_thousand_nodes_and_edges_through_the_batch_methods = _launcher_tier_only(
        GraphStorageContract.test_ten_thousand_nodes_and_edges_through_the_batch_methods, "gremlin"
    )

    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        params = gremlin_params(docker_backends.gremlin_url)
        return _service(docker_backends, "gremlin", GremlinGraphStorage, **params)


_MONGO = {"database": "lightrag_contract", "server_selection_timeout": 10.0}


class TestDockerMongoKVStorage(KVStorageContract):
    test_ten_thousand_records_in_one_upsert = _launcher_tier_only(
        KVStorageContract.test_ten_thousand_records_in_one_upsert, "mongo"
    )

    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        uri = docker_backends.mongo_uri
        return _service(docker_backends, "mongo", MongoKVStorage, uri=uri, **_MONGO)


class TestDockerMongoDocStatusStorage(DocStatusStorageContract):
    test_ten_thousand_records_in_one_upsert = _launcher_tier_only(
        DocStatusStorageContract.test_ten_thousand_records_in_one_upsert, "mongo"
    )
    test_ten_thousand_status_records_in_one_upsert_page_through = _launcher_tier_only(
        DocStatusStorageContract.test_ten_thousand_status_records_in_one_upsert_page_through,
        "mongo",
    )

    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        uri = docker_backends.mongo_uri
        return _service(docker_backends, "mongo", MongoDocStatusStorage, uri=uri, **_MONGO)


class TestDockerMongoGraphStorage(GraphStorageContract):
    test_ten_thousand_nodes_and_edges_through_the_batch_methods = _launcher_tier_only(
        GraphStorageContract.test_ten_thousand_nodes_and_edges_through_the_batch_methods, "mongo"
    )

    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        uri = docker_backends.mongo_uri
        return _service(docker_backends, "mongo", MongoGraphStorage, uri=uri, **_MONGO)


class TestDockerMongoExactVectorStorage(VectorStorageContract):
    """``vector_search: exact`` (secantusdb has no ``$vectorSearch``; with
    ``LIGHTRAG_TEST_MONGO_IMAGE=mongo:8`` neither does mongod without mongot)."""

    test_ten_thousand_records_in_one_upsert = _launcher_tier_only(
        VectorStorageContract.test_ten_thousand_records_in_one_upsert, "mongo"
    )

    @pytest.fixture
    def backend(self, docker_backends: DockerBackends) -> Backend:
        uri = docker_backends.mongo_uri
        return _service(
            docker_backends, "mongo", MongoVectorStorage, uri=uri, vector_search="exact", **_MONGO
        )
