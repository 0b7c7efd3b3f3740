"""The contract suite run against the Redis KV and doc status storages."""

from __future__ import annotations

import pytest
from integration.servers.base import RunningServer
from integration.servers.redis import RedisLauncher

from lightrag.storage.redis.doc_status import RedisDocStatusStorage
from lightrag.storage.redis.kv import RedisKVStorage

from . import support
from .doc_status import DocStatusStorageContract
from .kv import KVStorageContract
from .support import Backend

pytestmark = pytest.mark.redis


def redis_backend(cls: type, server: RunningServer | str) -> Backend:
    """The backend on ``server``; with the launcher's restart hook when the server was
    started here (not an env URI)."""
    if isinstance(server, str):
        return Backend(cls, {"uri": server})
    restart = support.launcher_restart(RedisLauncher(), server)
    return Backend(cls, {"uri": server.dsn}, restart=restart)


class TestRedisKVStorage(KVStorageContract):
    @pytest.fixture
    def backend(self, redis_server: RunningServer | str) -> Backend:
        return redis_backend(RedisKVStorage, redis_server)


class TestRedisDocStatusStorage(DocStatusStorageContract):
    @pytest.fixture
    def backend(self, redis_server: RunningServer | str) -> Backend:
        return redis_backend(RedisDocStatusStorage, redis_server)
