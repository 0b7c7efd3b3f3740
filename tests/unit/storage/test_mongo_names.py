"""MongoDB storages without a server: collection names and prefix ranges."""

from __future__ import annotations

import pytest

pytest.importorskip("pymongo", reason="extra `mongo` not installed")

from lightrag.storage.mongo._writes import prefix_filter, prefix_upper_bound
from lightrag.storage.mongo.client import MongoConfig, collection_base

WORDS = ["local", "local:", "local:a", "local;", "localz", "loca", "", "é", "\U0010ffff", "a\ud7ff"]


@pytest.mark.parametrize("prefix", ["local:", "a", "é", "x\U0010ffff", "\ud7ff", "%_.*["])
def test_prefix_range_holds_exactly_the_strings_with_that_prefix(prefix: str) -> None:
    bound = prefix_upper_bound(prefix)
    candidates = [*WORDS, prefix, prefix + "x", prefix + "\U0010ffff", prefix[:-1]]
    for text in candidates:
        inside = text >= prefix and (bound is None or text < bound)
        assert inside == text.startswith(prefix), (prefix, text, bound)
    if bound is not None:
        bound.encode()  # never a surrogate: BSON (UTF-8) can hold it


def test_prefix_of_only_the_last_code_point_has_no_upper_bound() -> None:
    assert prefix_upper_bound("\U0010ffff") is None
    assert prefix_filter("_id", "\U0010ffff") == {"_id": {"$gte": "\U0010ffff"}}
    assert prefix_filter("_id", "") == {"_id": {"$gte": ""}}  # every key


def test_collection_names_keep_workspaces_and_namespaces_apart() -> None:
    assert collection_base("", "full_docs") == "full_docs"
    assert collection_base("team_a", "full_docs") == "team_a.full_docs"
    # "_" may be in both parts; "." separates them, so these cannot meet
    assert collection_base("x_text", "chunks") != collection_base("x", "text_chunks")
    with pytest.raises(ValueError, match="namespace"):
        collection_base("ws", "a.b")
    with pytest.raises(ValueError, match="workspace"):
        collection_base("w.s", "ns")


def test_endpoint_never_shows_credentials() -> None:
    config = MongoConfig(uri="mongodb://root:hunter2@db1:27017,db2:27018/?replicaSet=rs0")
    assert config.endpoint() == "mongodb://db1:27017,db2:27018/LightRAG"
    assert "hunter2" not in repr(config)
