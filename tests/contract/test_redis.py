"""The contract suite run against the Redis KV and doc status storages."""

from __future__ import annotations

import pytest
from integration.servers.base import RunningServer

from lightrag.storage.redis.doc_status import RedisDocStatusStorage
from lightrag.storage.redis.kv import RedisKVStorage

from .doc_status import DocStatusStorageContract
from .kv import KVStorageContract
from .support import Backend

pytestmark = pytest.mark.redis


def redis_uri(server: RunningServer | str) -> str:
    return server if isinstance(server, str) else server.dsn


class TestRedisKVStorage(KVStorageContract):
    @pytest.fixture
    def backend(self, redis_server: RunningServer | str) -> Backend:
        return Backend(RedisKVStorage, {"uri": redis_uri(redis_server)})


class TestRedisDocStatusStorage(DocStatusStorageContract):
    @pytest.fixture
    def backend(self, redis_server: RunningServer | str) -> Backend:
        return Backend(RedisDocStatusStorage, {"uri": redis_uri(redis_server)})
