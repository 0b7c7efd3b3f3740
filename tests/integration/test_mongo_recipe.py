"""End to end through the real server process on the ``mongo`` recipe.

Every role on one MongoDB-protocol server (secantusdb, or ``LIGHTRAG_TEST_MONGO_URI``):
ingest, query in every mode, delete a document, restart the server, query again. The
vectors use ``MONGO_VECTOR_SEARCH=exact`` (an aggregation scan), since the recipe's
default ``$vectorSearch`` needs Atlas or mongot, which cannot run here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .servers.base import RunningServer
from .test_backend_recipes import _exercise, _uri

pytestmark = [pytest.mark.integration, pytest.mark.mongo]


def test_mongo_recipe_ingests_queries_deletes_and_survives_a_restart(
    tmp_path: Path, mongo_server: RunningServer | str
) -> None:
    env = {
        "MONGO_URI": _uri(mongo_server),
        "MONGO_DATABASE": "lightrag_e2e",
        "MONGO_VECTOR_SEARCH": "exact",
        "MONGO_SERVER_SELECTION_TIMEOUT": "10",
    }
    _exercise(tmp_path, ["+recipe=mongo"], env)
    # the data was the database's: every role wrote its collections there
    from pymongo import MongoClient

    client: MongoClient = MongoClient(env["MONGO_URI"], serverSelectionTimeoutMS=10_000)
    try:
        names = client["lightrag_e2e"].list_collection_names()
    finally:
        client.close()
    suffixes = {name.partition(".")[2] for name in names if name.startswith("e2e_")}
    assert {"doc_status", "full_docs", "text_chunks", "chunk_entity_relation.edges"} <= suffixes
    assert {"entities", "relationships", "chunks"} <= suffixes
