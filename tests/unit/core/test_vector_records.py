"""One vector record per entity and relation, whichever part of the engine writes it.

The insert merge, document deletion and graph edits all build records with
``lightrag.core.vector_records``; these tests pin that an edit leaves exactly the
record a merge wrote (id, content, every metadata field, endpoint order).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lightrag.core.engine import LightRAG
from lightrag.core.graph_fields import (
    UNKNOWN_TYPE,
    edge_weight,
    join_field,
    join_keywords,
    split_field,
)
from lightrag.core.vector_records import entity_vector_record, relation_vector_record
from lightrag.vocabulary.ids import (
    entity_key,
    entity_vector_id,
    ordered_endpoints,
    relation_key,
    relation_vector_id,
)
from lightrag.vocabulary.types import GRAPH_FIELD_SEP

from .insert_support import open_engine

# "Zed Alpha" before "Bob Jones" in the text: the fake extracts that relation in the
# order opposite to entity-key order, so endpoint ordering is exercised.
TEXT = (
    "Zed Alpha met Bob Jones in Denmark. "
    "Acme Corp hired Zed Alpha. "
    "Bob Jones founded Orbital Labs with Acme Corp."
)
_EDGE_FORBIDDEN = ("src_id", "tgt_id", "source", "target")


async def _graph(engine: LightRAG) -> tuple[dict[str, dict[str, Any]], dict[Any, dict[str, Any]]]:
    graph = engine.storages.graph
    names = await graph.all_labels()
    nodes = await graph.get_nodes(names)
    by_node = await graph.get_nodes_edges(names)
    pairs = {relation_key(*edge): edge for found in by_node.values() for edge in found}
    return nodes, await graph.get_edges(list(pairs.values()))


async def _records(
    engine: LightRAG, nodes: dict[str, Any], edges: dict[Any, Any]
) -> tuple[list[dict[str, Any] | None], list[dict[str, Any] | None]]:
    entities = await engine.storages.entities_vdb.get([entity_vector_id(n) for n in nodes])
    relations = await engine.storages.relationships_vdb.get(
        [relation_vector_id(a, b) for a, b in edges]
    )
    return entities, relations


async def test_edits_write_the_vector_records_the_merge_wrote(tmp_path: Path) -> None:
    engine, _ = await open_engine(tmp_path)
    try:
        await engine.insert(TEXT)
        nodes, edges = await _graph(engine)
        merged_entities, merged_relations = await _records(engine, nodes, edges)
        assert len(nodes) >= 4 and len(edges) >= 3
        assert all(merged_entities) and all(merged_relations)
        assert any(entity_key(a) > entity_key(b) for a, b in edges)  # stored against key order
        # drop the merge's records: the edits must write them again, field for field
        await engine.storages.entities_vdb.delete([entity_vector_id(n) for n in nodes])
        await engine.storages.relationships_vdb.delete([relation_vector_id(*e) for e in edges])
        for name, props in nodes.items():
            await engine.edit_entity(name, {"description": props["description"]})
        for index, ((a, b), props) in enumerate(edges.items()):
            ends = (a, b) if index % 2 else (b, a)  # name the endpoints in both orders
            await engine.edit_relation(*ends, {"description": props["description"]})
        assert await _records(engine, nodes, edges) == (merged_entities, merged_relations)
    finally:
        await engine.finalize()


async def test_created_entities_and_relations_get_the_records_a_merge_gives(
    tmp_path: Path,
) -> None:
    merged, _ = await open_engine(tmp_path / "merged")
    built, _ = await open_engine(tmp_path / "built")
    try:
        await merged.insert(TEXT)
        nodes, edges = await _graph(merged)
        for name, props in nodes.items():
            await built.create_entity(name, {k: v for k, v in props.items() if k != "entity_id"})
        for (a, b), props in edges.items():
            fields = {k: v for k, v in props.items() if k not in _EDGE_FORBIDDEN}
            await built.create_relation(a, b, fields)
        assert await _records(built, nodes, edges) == await _records(merged, nodes, edges)
    finally:
        await merged.finalize()
        await built.finalize()


def test_relation_record_is_the_same_for_either_endpoint_order() -> None:
    props = {"keywords": "travel", "description": "Bob visits Denmark.", "weight": "2.5"}
    forward = relation_vector_record("Denmark", "Bob Jones", props)
    assert relation_vector_record("Bob Jones", "Denmark", props) == forward
    vector_id, record = forward
    assert vector_id == relation_vector_id("Denmark", "Bob Jones")
    assert (record["src_id"], record["tgt_id"]) == ordered_endpoints("Denmark", "Bob Jones")
    assert (record["src_id"], record["tgt_id"]) == ("Bob Jones", "Denmark")
    assert record["weight"] == 2.5
    assert record["content"] == "travel\tBob Jones\nDenmark\nBob visits Denmark."


def test_entity_record_of_a_node_without_type_names_the_unknown_type() -> None:
    vector_id, record = entity_vector_record("Acme Corp", {"description": "A firm."})
    assert vector_id == entity_vector_id("acme corp")
    assert record == {
        "entity_name": "Acme Corp",
        "entity_type": UNKNOWN_TYPE,
        "source_id": "",
        "file_path": "",
        "content": "Acme Corp\nA firm.",
    }


@pytest.mark.parametrize(("weight", "expected"), [(None, 1.0), ("", 1.0), (0, 0.0), ("3", 3.0)])
def test_edge_weight_defaults_only_when_absent(weight: Any, expected: float) -> None:
    assert edge_weight({"weight": weight}) == expected
    assert edge_weight({}) == 1.0


def test_edge_weight_that_is_not_a_number_is_an_error() -> None:
    with pytest.raises(ValueError, match="heavy"):
        edge_weight({"weight": "heavy"})


def test_joined_fields_keep_first_seen_parts_once_ignoring_case_and_spacing() -> None:
    joined = join_field([f"Alpha{GRAPH_FIELD_SEP}beta", "alpha", "  Beta ", None, "Gamma  x"])
    assert split_field(joined) == ["Alpha", "beta", "Gamma  x"]
    assert join_keywords(["travel, Trade", f"trade;visit{GRAPH_FIELD_SEP}TRAVEL"]) == (
        "travel, Trade, visit"
    )
    assert split_field(None) == [] and split_field(f" {GRAPH_FIELD_SEP}a") == ["a"]
