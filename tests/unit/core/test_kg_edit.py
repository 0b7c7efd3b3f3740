"""Knowledge-graph edits keep the graph, the entity/relation vectors and the
per-document indexes in sync."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lightrag.core.kg_edit import (
    GraphConflictError,
    GraphEditError,
    GraphEditor,
    GraphNotFoundError,
)
from lightrag.core.local_coordination import LocalCoordinator
from lightrag.vocabulary.ids import entity_vector_id, relation_vector_id
from lightrag.vocabulary.types import GRAPH_FIELD_SEP, QueryParam

from .query_seed import C_WIND, World, close_world, open_world, seed


async def entity_vector(world: World, name: str) -> dict | None:
    (record,) = await world.storages.entities_vdb.get([entity_vector_id(name)])
    return record


async def relation_vector(world: World, a: str, b: str) -> dict | None:
    (record,) = await world.storages.relationships_vdb.get([relation_vector_id(a, b)])
    return record


async def neighbours(world: World, name: str) -> set[str]:
    return {b if a == name else a for a, b in await world.storages.graph.get_node_edges(name)}


async def test_entity_exists_matches_names_case_insensitively(world: World) -> None:
    assert await world.editor.entity_exists("acme corp")
    assert await world.editor.entity_exists('  "Acme Corp" ')
    assert not await world.editor.entity_exists("Umbrella Corp")


async def test_create_entity_adds_node_and_searchable_vector(world: World) -> None:
    info = await world.editor.create_entity(
        "Umbrella Corp", {"entity_type": "organization", "description": "Makes umbrellas."}
    )
    assert info["entity_name"] == "Umbrella Corp" and info["entity_type"] == "organization"
    node = await world.storages.graph.get_node("Umbrella Corp")
    assert node is not None and node["entity_id"] == "Umbrella Corp"
    vector = await entity_vector(world, "Umbrella Corp")
    assert vector is not None and vector["content"] == "Umbrella Corp\nMakes umbrellas."
    hits = await world.storages.entities_vdb.query(
        (await world.ctx.embed(["umbrellas Umbrella Corp"]))[0], 1
    )
    assert hits[0]["entity_name"] == "Umbrella Corp"


async def test_create_entity_that_exists_in_another_case_conflicts(world: World) -> None:
    with pytest.raises(GraphConflictError, match="already exists"):
        await world.editor.create_entity("ACME CORP", {"description": "dup"})
    with pytest.raises(GraphEditError, match="non-empty"):
        await world.editor.create_entity("  ", {})
    with pytest.raises(GraphEditError, match="'tags'"):
        await world.editor.create_entity("Tagged", {"tags": ["a", "b"]})


async def test_edit_entity_description_re_embeds_it(world: World) -> None:
    info = await world.editor.edit_entity("denmark", {"description": "A Nordic country."})
    assert info["entity_name"] == "Denmark"
    assert (await world.storages.graph.get_node("Denmark"))["description"] == "A Nordic country."
    vector = await entity_vector(world, "Denmark")
    assert vector is not None and vector["content"] == "Denmark\nA Nordic country."


async def test_rename_moves_relations_vectors_and_document_index(world: World) -> None:
    before = await neighbours(world, "Acme Corp")
    await world.editor.edit_entity("Acme Corp", {"entity_name": "Acme Energy"})
    graph = world.storages.graph
    assert not await graph.has_node("Acme Corp")
    assert (await graph.get_node("Acme Energy"))["entity_id"] == "Acme Energy"
    assert await neighbours(world, "Acme Energy") == before
    assert await entity_vector(world, "Acme Corp") is None
    assert (await entity_vector(world, "Acme Energy"))["entity_name"] == "Acme Energy"
    for other in before:
        assert await relation_vector(world, "Acme Corp", other) is None
        moved = await relation_vector(world, "Acme Energy", other)
        assert moved is not None and {moved["src_id"], moved["tgt_id"]} == {"Acme Energy", other}
        assert "Acme Energy" in moved["content"]
    energy = await world.storages.full_entities.get("doc-energy")
    assert "Acme Energy" in energy["entity_names"] and "Acme Corp" not in energy["entity_names"]
    pairs = (await world.storages.full_relations.get("doc-space"))["relation_pairs"]
    assert ["Orbital Labs", "Acme Energy"] in pairs


async def test_renamed_entity_is_found_by_queries_under_its_new_name(world: World) -> None:
    await world.editor.edit_entity("Denmark", {"entity_name": "Kingdom of Denmark"})
    param = QueryParam(mode="local", ll_keywords=["Kingdom of Denmark"])
    context = await world.queries.retrieve("Where is the factory?", param)
    assert context.entities[0]["entity_name"] == "Kingdom of Denmark"
    assert C_WIND in [c["chunk_id"] for c in context.chunks]


async def test_rename_needs_permission_and_a_free_name(world: World) -> None:
    with pytest.raises(GraphEditError, match="allow_rename"):
        await world.editor.edit_entity("Denmark", {"entity_name": "DK"}, allow_rename=False)
    with pytest.raises(GraphConflictError, match="Orbital Labs"):
        await world.editor.edit_entity("Denmark", {"entity_name": "orbital labs"})
    with pytest.raises(GraphNotFoundError):
        await world.editor.edit_entity("Atlantis", {"description": "x"})


async def test_rename_that_only_changes_case_is_allowed(world: World) -> None:
    await world.editor.edit_entity("Denmark", {"entity_name": "DENMARK"})
    assert await world.storages.graph.has_node("DENMARK")
    assert not await world.storages.graph.has_node("Denmark")
    assert await neighbours(world, "DENMARK") == {"Acme Corp"}
    assert (await entity_vector(world, "DENMARK"))["entity_name"] == "DENMARK"
    assert (await relation_vector(world, "Acme Corp", "DENMARK"))["tgt_id"] in {
        "DENMARK",
        "Acme Corp",
    }


async def test_delete_entity_removes_node_relations_and_vectors(world: World) -> None:
    assert await world.editor.delete_entity("orbital labs")
    assert not await world.storages.graph.has_node("Orbital Labs")
    assert await entity_vector(world, "Orbital Labs") is None
    assert await relation_vector(world, "Bob Jones", "Orbital Labs") is None
    assert await relation_vector(world, "Orbital Labs", "Acme Corp") is None
    assert await relation_vector(world, "Acme Corp", "Denmark") is not None
    assert not await world.editor.delete_entity("Orbital Labs")


async def test_create_relation_needs_both_entities_and_adds_a_vector(world: World) -> None:
    with pytest.raises(GraphNotFoundError, match="Atlantis"):
        await world.editor.create_relation("Denmark", "Atlantis", {})
    with pytest.raises(GraphConflictError):
        await world.editor.create_relation("denmark", "ACME CORP", {})
    with pytest.raises(GraphEditError, match="weight"):
        await world.editor.create_relation("Denmark", "Bob Jones", {"weight": "heavy"})
    info = await world.editor.create_relation(
        "Denmark", "Bob Jones", {"description": "Bob visits Denmark.", "keywords": "travel"}
    )
    assert info["weight"] == 1.0
    edge = await world.storages.graph.get_edge("Denmark", "Bob Jones")
    assert edge is not None and edge["description"] == "Bob visits Denmark."
    vector = await relation_vector(world, "Bob Jones", "Denmark")
    # endpoints in entity-key order whichever order the edit named them in, as a merge has them
    assert vector is not None
    assert (vector["src_id"], vector["tgt_id"]) == ("Bob Jones", "Denmark")
    assert vector["content"] == "travel\tBob Jones\nDenmark\nBob visits Denmark."


async def test_edit_relation_updates_and_re_embeds_but_keeps_endpoints(world: World) -> None:
    info = await world.editor.edit_relation(
        "denmark", "acme corp", {"description": "Factory site.", "weight": "4"}
    )
    assert info["weight"] == 4.0 and info["description"] == "Factory site."
    vector = await relation_vector(world, "Acme Corp", "Denmark")
    assert vector is not None and vector["description"] == "Factory site."
    assert vector["weight"] == 4.0
    with pytest.raises(GraphEditError, match="src_id"):
        await world.editor.edit_relation("Denmark", "Acme Corp", {"src_id": "Bob Jones"})
    with pytest.raises(GraphNotFoundError, match="relation"):
        await world.editor.edit_relation("Denmark", "Bob Jones", {"description": "x"})


async def test_delete_relation_removes_edge_and_vector(world: World) -> None:
    assert await world.editor.delete_relation("Bob Jones", "orbital labs")
    assert not await world.storages.graph.has_edge("Bob Jones", "Orbital Labs")
    assert await relation_vector(world, "Bob Jones", "Orbital Labs") is None
    assert await world.storages.graph.has_node("Bob Jones")
    assert not await world.editor.delete_relation("Bob Jones", "Orbital Labs")


async def test_merge_repoints_relations_and_unites_descriptions(world: World) -> None:
    await world.editor.create_entity(
        "ACME Corporation", {"entity_type": "organization", "description": "Acme's legal name."}
    )
    await world.editor.create_relation(
        "ACME Corporation", "Denmark", {"description": "Registered in Denmark.", "weight": 2.0}
    )
    await world.editor.create_relation(
        "ACME Corporation", "Bob Jones", {"description": "Employs Bob as adviser."}
    )
    await world.editor.create_relation("ACME Corporation", "Acme Corp", {"description": "same"})
    result = await world.editor.merge_entities(["ACME Corporation"], "acme corp")
    assert result["entity_name"] == "Acme Corp"
    assert result["merged_entities"] == ["ACME Corporation"]
    graph = world.storages.graph
    assert not await graph.has_node("ACME Corporation")
    assert await neighbours(world, "Acme Corp") == {
        "Alice Smith",
        "Denmark",
        "Orbital Labs",
        "Bob Jones",
    }
    node = await graph.get_node("Acme Corp")
    assert node["entity_type"] == "organization"
    assert node["description"].split(GRAPH_FIELD_SEP) == [
        "Acme Corp is an energy company building solar and wind equipment.",
        "Acme's legal name.",
    ]
    denmark = await graph.get_edge("Acme Corp", "Denmark")
    assert denmark["weight"] == 3.0
    assert "Registered in Denmark." in denmark["description"].split(GRAPH_FIELD_SEP)
    assert await entity_vector(world, "ACME Corporation") is None
    assert await relation_vector(world, "ACME Corporation", "Denmark") is None
    merged_vector = await relation_vector(world, "Acme Corp", "Denmark")
    assert merged_vector is not None and "Registered in Denmark." in merged_vector["content"]
    assert await relation_vector(world, "Acme Corp", "Bob Jones") is not None
    assert "Acme's legal name." in (await entity_vector(world, "Acme Corp"))["content"]


async def test_merge_into_a_new_name_creates_it(world: World) -> None:
    result = await world.editor.merge_entities(["Alice Smith", "Bob Jones"], "Staff")
    assert result["merged_entities"] == ["Alice Smith", "Bob Jones"]
    assert await neighbours(world, "Staff") == {"Acme Corp", "Orbital Labs"}
    assert (await world.storages.graph.get_node("Staff"))["entity_type"] == "person"
    energy = await world.storages.full_entities.get("doc-energy")
    assert "Staff" in energy["entity_names"] and "Alice Smith" not in energy["entity_names"]


async def test_merge_rejects_missing_sources_and_empty_merges(world: World) -> None:
    with pytest.raises(GraphNotFoundError, match="Atlantis"):
        await world.editor.merge_entities(["Denmark", "Atlantis"], "Acme Corp")
    with pytest.raises(GraphEditError, match="nothing to merge"):
        await world.editor.merge_entities(["acme corp"], "Acme Corp")
    assert await world.storages.graph.has_node("Denmark")


async def test_edits_are_persisted_for_the_next_start(tmp_path: Path) -> None:
    first = await open_world(tmp_path)
    await seed(first)
    await first.storages.index_done()
    await first.editor.edit_entity("Denmark", {"entity_name": "Danmark"})
    # simulate a crash: no finalize, a fresh instance reads what the edit persisted
    second = await open_world(tmp_path)
    assert await second.storages.graph.has_node("Danmark")
    assert not await second.storages.graph.has_node("Denmark")
    assert await entity_vector(second, "Danmark") is not None
    await close_world(second)


async def test_edit_waits_for_a_merge_holding_the_entity_lock(world: World) -> None:
    locks = LocalCoordinator()
    editor = GraphEditor(world.ctx, locks=locks)
    async with locks.hold(["denmark"]):
        edit = asyncio.create_task(editor.edit_entity("Denmark", {"description": "later"}))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not edit.done()
        assert (await world.storages.graph.get_node("Denmark"))["description"] != "later"
    await edit
    assert (await world.storages.graph.get_node("Denmark"))["description"] == "later"


async def test_entity_lookup_ignores_case_even_without_its_vector(world: World) -> None:
    await world.storages.entities_vdb.delete([entity_vector_id("Orbital Labs")])
    assert await world.editor.resolve("ORBITAL LABS") == "Orbital Labs"
    info = await world.editor.edit_entity("orbital labs", {"description": "Rebuilt."})
    assert info["entity_name"] == "Orbital Labs"
    assert (await entity_vector(world, "Orbital Labs"))["content"] == "Orbital Labs\nRebuilt."
