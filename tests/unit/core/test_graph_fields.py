"""Joined graph properties: the cached incremental join equals the plain one."""

from __future__ import annotations

import random

from lightrag.core import graph_fields
from lightrag.core.graph_fields import field_parts, join_field, join_field_onto
from lightrag.vocabulary.types import GRAPH_FIELD_SEP


def random_part(rng: random.Random) -> str:
    name = f"chunk-{rng.randrange(60)}"
    if rng.random() < 0.1:
        name = name.upper()  # a case variant: the same part for de-duplication
    if rng.random() < 0.1:
        name = f"  {name} "  # surrounding spaces are stripped
    return name


def test_join_onto_equals_join_field_over_a_long_history() -> None:
    rng = random.Random(4)
    plain = incremental = ""
    for _ in range(400):
        batch = [random_part(rng) for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.2:
            batch.append(GRAPH_FIELD_SEP.join(random_part(rng) for _ in range(3)))
        plain = join_field([plain, *batch])
        incremental = join_field_onto(incremental, batch)
        assert incremental == plain
    assert len(field_parts(plain).parts) >= graph_fields._CACHE_MIN_PARTS  # the cached path ran


def test_join_onto_a_value_that_is_not_canonical_canonicalises_it() -> None:
    base = GRAPH_FIELD_SEP.join([f"c{i}" for i in range(30)] + [" c1 ", "C2", "", "c30"])
    assert join_field_onto(base, ["c31", "c0"]) == join_field([base, "c31", "c0"])
    assert join_field_onto(base, []) == join_field([base])


def test_an_older_value_still_parses_after_its_cache_entry_moved_on() -> None:
    base = GRAPH_FIELD_SEP.join(f"x{i}" for i in range(20))
    first = join_field_onto(base, ["x20"])
    second = join_field_onto(first, ["x21"])
    # ``first`` was superseded in the cache; asking again must still be right
    assert join_field_onto(first, ["x22"]) == join_field([first, "x22"])
    assert field_parts(second).parts == [f"x{i}" for i in range(22)]
    assert "x21" in field_parts(second).members and "x21" not in field_parts(first).members


def test_the_cache_stays_bounded() -> None:
    for n in range(graph_fields._CACHE_SIZE + 50):
        field_parts(GRAPH_FIELD_SEP.join(f"v{n}-{i}" for i in range(20)))
    assert len(graph_fields._cache) <= graph_fields._CACHE_SIZE
