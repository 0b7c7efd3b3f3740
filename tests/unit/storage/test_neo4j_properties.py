"""Records to Neo4j properties and back (``lightrag.storage.neo4j.properties``), no server:
what Neo4j stores as given stays a property of its own name, the rest travels as JSON."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from lightrag.storage.neo4j.client import Neo4jConfig
from lightrag.storage.neo4j.properties import EXTRA, decode_properties, encode_properties

RESERVED = frozenset({"_workspace", "_id"})


def round_trip(data: dict[str, Any]) -> dict[str, Any]:
    return decode_properties(encode_properties(data, RESERVED, "node 'x'"), RESERVED)


def test_scalars_and_uniform_lists_are_plain_properties() -> None:
    data = {"s": "Zoë", "i": 3, "f": 0.5, "b": True, "tags": ["a", "b"], "ns": [1, 2]}
    assert encode_properties(data, RESERVED, "n") == data
    assert round_trip(data) == data


def test_what_neo4j_cannot_hold_goes_to_json_and_comes_back() -> None:
    data = {
        "nested": {"a": [1, {"b": None}]},
        "mixed": [1, "two"],
        "ints_and_floats": [1, 2.5],
        "empty": [],
        "huge": 2**70,
        "plain": "kept",
    }
    stored = encode_properties(data, RESERVED, "n")
    assert stored["plain"] == "kept"
    assert set(json.loads(stored[EXTRA])) == set(data) - {"plain"}
    assert round_trip(data) == data


def test_a_property_named_like_the_storage_s_own_is_kept_apart() -> None:
    data = {"_workspace": "theirs", "_id": 7, EXTRA: "x", "entity_id": "A"}
    stored = encode_properties(data, RESERVED, "n")
    assert "_workspace" not in stored and "_id" not in stored
    assert round_trip(data) == data


def test_none_values_are_dropped_and_numpy_scalars_become_python() -> None:
    stored = encode_properties({"a": None, "w": np.float32(0.5), "n": np.int64(4)}, RESERVED, "n")
    assert stored == {"w": 0.5, "n": 4}
    assert type(stored["w"]) is float and type(stored["n"]) is int


def test_values_that_are_not_json_are_refused_naming_the_owner() -> None:
    with pytest.raises(ValueError, match=r"node 'x'.*not JSON"):
        encode_properties({"when": object()}, RESERVED, "node 'x'")
    with pytest.raises(ValueError, match="must be a mapping"):
        encode_properties(["a"], RESERVED, "node 'x'")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="property name 1"):
        encode_properties({1: "a"}, RESERVED, "node 'x'")  # type: ignore[dict-item]


def test_config_refuses_a_uri_that_is_not_neo4j_s() -> None:
    with pytest.raises(ValueError, match="scheme must be one of"):
        Neo4jConfig(uri="http://localhost:7474")
    config = Neo4jConfig(uri="neo4j+s://user@db.example:7688", password="pw")  # type: ignore[arg-type]
    assert config.address() == "db.example:7688"
    assert "pw" not in repr(config)
    assert Neo4jConfig(database="").database_name() is None
