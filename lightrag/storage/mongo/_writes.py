"""Write helpers shared by the MongoDB storages: bulk writes and prefix ranges."""

from __future__ import annotations

from typing import Any

__all__ = ["bulk_write", "delete_each", "prefix_filter", "prefix_upper_bound"]

_DUPLICATE_KEY = 11000
_UPSERT_RACE_RETRIES = 5


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (``None``: no bound).

    MongoDB compares strings by their UTF-8 bytes, that is by code point, as Python
    does; so ``prefix <= s < bound`` holds exactly for the ``s`` starting with
    ``prefix``. Surrogate code points are skipped (they cannot be stored).
    """
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None


def prefix_filter(field: str, prefix: str) -> dict[str, Any]:
    """A query matching documents whose string ``field`` starts with ``prefix`` (an index
    range: wildcard-looking characters are plain characters here)."""
    bound = prefix_upper_bound(prefix)
    condition: dict[str, Any] = {"$gte": prefix}
    if bound is not None:
        condition["$lt"] = bound
    return {field: condition}


async def bulk_write(storage: Any, what: str, requests: list[Any]) -> None:
    """One unordered ``bulkWrite`` of idempotent replacements/upserts on ``storage``.

    Two writers upserting one new ``_id`` at once can make the second fail with a
    duplicate key error (the other insert won); the write is then run again, now as
    a replacement. Any other write error is raised. Raises ``ValueError`` for a
    record BSON cannot hold (a NUL in a field name, an integer above 2**63 - 1).
    """
    from bson.errors import InvalidDocument
    from pymongo.errors import BulkWriteError

    def write(batch: list[Any]) -> Any:
        return lambda: storage.collection.bulk_write(batch, ordered=False)

    for attempt in range(_UPSERT_RACE_RETRIES):
        try:
            await storage._run(what, write(requests))
            return
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            only_races = errors and all(e.get("code") == _DUPLICATE_KEY for e in errors)
            if not only_races or attempt == _UPSERT_RACE_RETRIES - 1:
                raise
            requests = [requests[e["index"]] for e in errors]
        except (InvalidDocument, OverflowError) as exc:
            raise ValueError(f"{storage.backend_name}: a record cannot be stored: {exc}") from exc


async def delete_each(
    storage: Any, what: str, field: str, values: list[Any], *, many: bool
) -> None:
    """Delete the documents whose ``field`` equals one of ``values``: one unordered
    ``bulkWrite`` of equality deletes (``DeleteOne`` by key, ``DeleteMany`` otherwise).

    One round trip, like ``delete_many({field: {"$in": values}})``, but each delete is
    an index lookup on every server (secantusdb evaluates ``$in`` by a scan per value).
    """
    if not values:
        return
    from pymongo import DeleteMany, DeleteOne

    kind = DeleteMany if many else DeleteOne
    requests = [kind({field: value}) for value in values]
    await storage._run(what, lambda: storage.collection.bulk_write(requests, ordered=False))
