"""Retrieval ranking and bounds: which entities, relations and chunks a mode finds,
in which order, and how many (``top_k``, ``chunk_top_k``), on a graph with a hub.

The graph: 30 subjects, each leading its own program (relations that all share the
theme words "leadership, program"), each based in one of three places, all funded by
one hub organisation. Written through the storage APIs with the record builders the
insert pipeline uses, real file storages, the hashing embedder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lightrag.core.graph_fields import split_field
from lightrag.core.vector_records import (
    entity_vector_record,
    relation_vector_record,
    write_vectors,
)
from lightrag.vocabulary.ids import chunk_id
from lightrag.vocabulary.types import GRAPH_FIELD_SEP, QueryParam, RetrievedContext

from .query_seed import World, close_world, open_world

SUBJECTS = [f"Subject{i:02d} Person" for i in range(30)]
HUB = "Hubco Fund"
PLACES = ["Northvale", "Southport", "Eastmere"]


def program(i: int) -> str:
    return f"Program{i:02d} Initiative"


def doc_of(i: int) -> str:
    return f"doc-{i:02d}"


def chunk_of(i: int) -> str:
    return chunk_id(doc_of(i), text_of(i))


def text_of(i: int) -> str:
    return (
        f"{SUBJECTS[i]} leads {program(i)}, a program of field work. {SUBJECTS[i]} is based "
        f"in {PLACES[i % 3]}. {HUB} funds {SUBJECTS[i]}."
    )


async def _build(world: World) -> None:
    s = world.storages
    chunks: dict[str, dict[str, Any]] = {}
    for i in range(len(SUBJECTS)):
        chunks[chunk_of(i)] = {
            "content": text_of(i),
            "tokens": len(text_of(i).split()),
            "chunk_order_index": 0,
            "full_doc_id": doc_of(i),
            "file_path": f"{doc_of(i)}.txt",
        }
    await s.text_chunks.upsert(chunks)
    nodes: dict[str, dict[str, Any]] = {}
    sources: dict[str, list[str]] = {}

    def node(name: str, kind: str, description: str, source: str) -> None:
        sources.setdefault(name, []).append(source)
        nodes.setdefault(name, {"entity_id": name, "entity_type": kind, "description": ""})
        parts = split_field(nodes[name]["description"])
        nodes[name]["description"] = GRAPH_FIELD_SEP.join(dict.fromkeys([*parts, description]))

    edges: list[tuple[str, str, dict[str, Any]]] = []
    for i, subject in enumerate(SUBJECTS):
        c = chunk_of(i)
        node(subject, "person", f"{subject} is a field worker.", c)
        node(program(i), "event", f"{program(i)} is a program of field work.", c)
        node(PLACES[i % 3], "geo", f"{PLACES[i % 3]} is a place.", c)
        node(HUB, "organization", "A fund.", c)
        for target, keywords, description, weight in (
            (program(i), "leadership, program", f"{subject} leads {program(i)}.", 3.0),
            (PLACES[i % 3], "location, based in", f"{subject} works from {PLACES[i % 3]}.", 1.0),
            (HUB, "funding, grant", f"{HUB} funds {subject}.", 1.0),
        ):
            props = {
                "description": description,
                "keywords": keywords,
                "weight": weight,
                "source_id": c,
                "file_path": f"{doc_of(i)}.txt",
            }
            edges.append((subject, target, props))
    entity_records = {}
    for name, props in nodes.items():
        props["source_id"] = GRAPH_FIELD_SEP.join(dict.fromkeys(sources[name]))
        await s.graph.upsert_node(name, props)
        vector_id, record = entity_vector_record(name, props)
        entity_records[vector_id] = record
    relation_records = {}
    for source, target, props in edges:
        await s.graph.upsert_edge(source, target, props)
        vector_id, record = relation_vector_record(source, target, props)
        relation_records[vector_id] = record
    await write_vectors(
        world.ctx,
        chunks_vdb=chunks,
        entities_vdb=entity_records,
        relationships_vdb=relation_records,
    )


@pytest.fixture
async def graph_world(tmp_path: Path) -> AsyncIterator[World]:
    opened = await open_world(tmp_path)
    await _build(opened)
    yield opened
    await close_world(opened)


def pairs(context: RetrievedContext) -> list[frozenset[str]]:
    return [frozenset((r["src_id"], r["tgt_id"])) for r in context.relationships]


def names(context: RetrievedContext) -> list[str]:
    return [e["entity_name"] for e in context.entities]


async def test_global_search_finds_the_named_subjects_relation_among_same_theme_ones(
    graph_world: World,
) -> None:
    # 30 relations carry "leadership, program"; only the low-level keyword tells them apart
    param = QueryParam(
        mode="global", hl_keywords=["leadership", "program"], ll_keywords=[SUBJECTS[17]], top_k=3
    )
    context = await graph_world.queries.retrieve("Which program does it lead?", param)
    assert pairs(context)[0] == frozenset((SUBJECTS[17], program(17)))
    assert SUBJECTS[17] in names(context)
    assert context.chunks[0]["chunk_id"] == chunk_of(17)


async def test_global_search_without_low_level_keywords_still_ranks_by_theme(
    graph_world: World,
) -> None:
    param = QueryParam(mode="global", hl_keywords=["funding", "grant"], ll_keywords=[], top_k=4)
    context = await graph_world.queries.retrieve("Who gives grants?", param)
    assert len(context.relationships) == 4
    assert all(HUB in pair for pair in pairs(context))


async def test_global_endpoints_are_bounded_by_top_k(graph_world: World) -> None:
    param = QueryParam(mode="global", hl_keywords=["leadership", "program"], top_k=4)
    context = await graph_world.queries.retrieve("Who leads programs?", param)
    assert len(context.relationships) == 4  # 8 distinct endpoints among them
    assert len(context.entities) == 4
    endpoints = [n for pair in context.relationships for n in (pair["src_id"], pair["tgt_id"])]
    assert names(context) == list(dict.fromkeys(endpoints))[:4]  # in relation order


async def test_local_edges_are_bounded_by_top_k_and_a_hub_does_not_fill_them(
    graph_world: World,
) -> None:
    # the hub has 30 edges; the subject's own program edge must still make the cut
    param = QueryParam(mode="local", ll_keywords=[f"{HUB}, {SUBJECTS[5]}"], top_k=2)
    context = await graph_world.queries.retrieve("Who funds whom?", param)
    assert set(names(context)) == {HUB, SUBJECTS[5]}
    assert len(context.relationships) == 2
    assert pairs(context)[0] == frozenset((HUB, SUBJECTS[5]))  # between two hits first
    assert pairs(context)[1] in {
        frozenset((SUBJECTS[5], program(5))),  # the subject's strongest other edge
        *(frozenset((HUB, s)) for s in SUBJECTS),
    }


async def test_local_edges_of_one_entity_come_strongest_first(graph_world: World) -> None:
    param = QueryParam(mode="local", ll_keywords=[SUBJECTS[8]], top_k=1)
    one = await graph_world.queries.retrieve("What does it do?", param)
    assert names(one) == [SUBJECTS[8]]
    assert pairs(one) == [frozenset((SUBJECTS[8], program(8)))]  # weight 3 beats weight 1
    three = await graph_world.queries.retrieve(
        "What does it do?", param.model_copy(update={"top_k": 3})
    )
    assert pairs(three)[0] == frozenset((SUBJECTS[8], program(8)))


async def test_chunk_top_k_bounds_the_chunks_of_the_whole_query(graph_world: World) -> None:
    keywords = {"hl_keywords": ["leadership", "program"], "ll_keywords": [HUB, SUBJECTS[3]]}
    for mode in ("local", "global", "hybrid", "mix"):
        few = QueryParam(mode=mode, top_k=10, chunk_top_k=3, **keywords)
        context = await graph_world.queries.retrieve("Who leads what?", few)
        assert len(context.chunks) == 3, mode
    many = QueryParam(mode="mix", top_k=10, chunk_top_k=12, **keywords)
    context = await graph_world.queries.retrieve("Who leads what?", many)
    assert 3 < len(context.chunks) <= 12


async def test_mix_interleaves_graph_chunks_first_then_the_best_vector_chunk(
    graph_world: World,
) -> None:
    param = QueryParam(
        mode="mix",
        hl_keywords=["leadership", "program"],
        ll_keywords=[SUBJECTS[4]],
        top_k=5,
        chunk_top_k=2,
    )
    query = f"{SUBJECTS[21]} leads {program(21)}"  # the vector search's best chunk is 21's
    context = await graph_world.queries.retrieve(query, param)
    assert [c["chunk_id"] for c in context.chunks] == [chunk_of(4), chunk_of(21)]
