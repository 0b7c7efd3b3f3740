"""Errors every layer may raise or catch about storages."""

from __future__ import annotations

__all__ = ["StorageError", "StorageSchemaError", "StorageUnavailableError"]


class StorageError(RuntimeError):
    """A storage backend failed; the message says which backend and what happened."""


class StorageUnavailableError(StorageError):
    """A storage cannot reach its server. The message names the backend, host and port,
    never a password; the cause is chained."""


class StorageSchemaError(StorageError):
    """Stored data does not fit the configuration, e.g. a vector table made for another
    embedding dimension (the message names both dimensions and what to do)."""
