"""The contract suite against the pytest-docker services of
``tests/integration/docker-compose.yml``: every PostgreSQL role and both Redis roles
on servers that run in containers (marker ``docker``, with ``LIGHTRAG_TEST_DOCKER=1``)."""

from __future__ import annotations

import pytest
from integration.servers.compose import DockerBackends

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
