"""The helpers the AGE and Gremlin graph storages share, and their naming of scopes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

import pytest

from lightrag.storage._graph_walk import (
    props_json,
    rank_labels,
    rank_popular,
    walk_nearest,
)
from lightrag.storage.gremlin.graph import scope_label
from lightrag.storage.postgres import age_sql

EDGES = [("hub", "a"), ("hub", "b"), ("hub", "c"), ("c", "d"), ("d", "e")]


def _adjacency() -> dict[str, set[str]]:
    adjacency: dict[str, set[str]] = {}
    for s, t in EDGES:
        adjacency.setdefault(s, set()).add(t)
        adjacency.setdefault(t, set()).add(s)
    return adjacency


class Counting:
    """Neighbour and degree look-ups over ``EDGES`` that count their calls."""

    def __init__(self) -> None:
        self.adjacency = _adjacency()
        self.neighbour_calls = 0

    async def neighbours(self, ids: Sequence[str]) -> Mapping[str, Iterable[str]]:
        self.neighbour_calls += 1
        return {n: sorted(self.adjacency.get(n, ())) for n in ids}

    async def degrees(self, ids: Sequence[str]) -> Mapping[str, int]:
        return {n: len(self.adjacency.get(n, ())) for n in ids}


async def test_walk_stops_at_max_depth_and_reports_no_truncation() -> None:
    look = Counting()
    chosen, truncated = await walk_nearest("a", 2, 100, look.neighbours, look.degrees)
    assert set(chosen) == {"a", "hub", "b", "c"}
    assert not truncated
    assert look.neighbour_calls == 2


async def test_walk_truncates_by_depth_then_degree_then_id() -> None:
    look = Counting()
    chosen, truncated = await walk_nearest("a", 5, 3, look.neighbours, look.degrees)
    # depth 0: a; depth 1: hub; depth 2: b (1), c (2) -> c has the higher degree
    assert chosen == ["a", "hub", "c"]
    assert truncated


async def test_walk_does_not_look_further_once_past_max_nodes() -> None:
    look = Counting()
    await walk_nearest("hub", 10, 2, look.neighbours, look.degrees)
    assert look.neighbour_calls == 1


def test_popular_and_search_ranking() -> None:
    assert rank_popular({"b": 2, "a": 2, "c": 5, "d": 0}, 3) == ["c", "a", "b"]
    ids = ["Big Apple", "apple pie", "Apple", "pineapple", "Banana"]
    assert rank_labels(ids, "APPLE", 2) == ["Apple", "apple pie"]
    assert rank_labels(ids, "  ", 5) == []


def test_props_json_drops_none_cleans_strings_and_rejects_non_json() -> None:
    text = props_json(
        {"a": 1, "b": None, "c": "x\x00y"}, "node", clean=lambda s: s.replace("\x00", "?")
    )
    assert json.loads(text) == {"a": 1, "c": "x?y"}
    with pytest.raises(ValueError, match="node"):
        props_json({"a": float("nan")}, "node")
    with pytest.raises(ValueError, match="not a string"):
        props_json({1: "x"}, "node")  # type: ignore[dict-item]


def test_age_names_are_identifiers_and_stay_distinct() -> None:
    assert age_sql.age_graph_name("lightrag", "") == "lightrag"
    assert age_sql.age_graph_name("lightrag", "team_a") == "lightrag_team_a"
    odd = {age_sql.age_graph_name("lightrag", w) for w in ("Team A", "team-a", "team_a", "ü")}
    assert len(odd) == 4
    for name in odd | {age_sql.identifier("x" * 200), age_sql.identifier("9lives")}:
        assert len(name) <= 63
        assert name[0].isalpha() or name[0] == "_"
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")
    labels = age_sql.label_names("chunk_entity_relation")
    assert (labels.vertex, labels.edge) == ("chunk_entity_relation", "chunk_entity_relation__rel")


def test_cypher_sql_keeps_values_out_of_the_text() -> None:
    sql = age_sql.cypher_sql("lightrag", "MATCH (n) WHERE n.id = $id RETURN n.id", ("c0",))
    assert "$1::ag_catalog.agtype" in sql
    with pytest.raises(ValueError):
        age_sql.cypher_sql("lightrag", "RETURN $$x$$", ("c0",))


def test_gremlin_scope_labels_do_not_collide() -> None:
    assert scope_label("G", "a|b", "c") != scope_label("G", "a", "b|c")
    assert scope_label("LightRAG", "", "chunk_entity_relation") == "LightRAG||chunk_entity_relation"
