"""The coordination backends by name (see ``lightrag.vocabulary.coordination``)."""

from __future__ import annotations

from lightrag.registry import Entry, Registry

__all__ = ["coordination_registry"]

coordination_registry = Registry(
    "coordination",
    [
        Entry(
            "local",
            "lightrag.core.local_coordination:LocalCoordinator",
            description="one server process: claims and locks in memory (the default)",
        ),
        Entry(
            "postgres",
            "lightrag.storage.postgres.coordination:PostgresCoordinator",
            extra="postgres",
            description="replicas on PostgreSQL: SKIP LOCKED claims with leases, advisory locks",
        ),
        Entry(
            "redis",
            "lightrag.storage.redis.coordination:RedisCoordinator",
            extra="redis",
            description="replicas on Redis: SET NX PX leases with fencing tokens",
        ),
    ],
)
