"""Merge rules: identity, types, descriptions, weights, sources, summaries, concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from lightrag.core.engine import LightRAG
from lightrag.testing.fakes import FakeChatModel, FakeHandler
from lightrag.vocabulary import ids
from lightrag.vocabulary.locks import KeyedLocks
from lightrag.vocabulary.models import ModelError
from lightrag.vocabulary.types import (
    GRAPH_FIELD_SEP,
    ExtractedEntity,
    ExtractedRelation,
    Extraction,
)

from .insert_support import open_engine, wait_until


def entity(name: str, kind: str, text: str, chunk: str, path: str = "a.txt") -> ExtractedEntity:
    return ExtractedEntity(name, kind, text, chunk, path)


def relation(
    src: str, tgt: str, text: str, chunk: str, weight: float = 1.0, keywords: str = "link"
) -> ExtractedRelation:
    return ExtractedRelation(src, tgt, text, keywords, weight, chunk, "a.txt")


@pytest.fixture
async def engine(tmp_path: Path) -> Any:
    rag, _ = await open_engine(tmp_path)
    yield rag
    await rag.finalize()


async def merge(rag: LightRAG, *extractions: Extraction) -> None:
    await rag.pipeline.merger.merge(list(extractions))


async def node(rag: LightRAG, name: str) -> dict[str, Any]:
    found = await rag.storages.graph.get_node(name)
    assert found is not None, f"no node {name!r}"
    return found


async def test_entity_type_is_the_majority_across_chunks(engine: LightRAG) -> None:
    await merge(
        engine,
        Extraction(entities=[entity("Acme", "organization", "A firm.", "c1")]),
        Extraction(entities=[entity("Acme", "geo", "A town.", "c2")]),
        Extraction(entities=[entity("Acme", "organization", "A company.", "c3")]),
    )
    assert (await node(engine, "Acme"))["entity_type"] == "organization"


async def test_stored_type_counts_once_per_existing_source(engine: LightRAG) -> None:
    await merge(
        engine,
        Extraction(entities=[entity("Acme", "organization", "A firm.", "c1")]),
        Extraction(entities=[entity("Acme", "organization", "A company.", "c2")]),
    )
    await merge(engine, Extraction(entities=[entity("Acme", "geo", "A town.", "c3")]))
    assert (await node(engine, "Acme"))["entity_type"] == "organization"


async def test_descriptions_are_deduplicated_and_joined(engine: LightRAG) -> None:
    await merge(
        engine,
        Extraction(entities=[entity("Acme", "organization", "A firm.", "c1")]),
        Extraction(entities=[entity("Acme", "organization", "a  FIRM.", "c2")]),
        Extraction(entities=[entity("Acme", "organization", "Builds bridges.", "c3")]),
    )
    props = await node(engine, "Acme")
    assert props["description"].split(GRAPH_FIELD_SEP) == ["A firm.", "Builds bridges."]
    assert props["source_id"].split(GRAPH_FIELD_SEP) == ["c1", "c2", "c3"]
    assert props["file_path"] == "a.txt"
    assert props["entity_id"] == "Acme"
    assert isinstance(props["created_at"], int)


async def test_identity_is_case_insensitive_and_the_first_display_form_stays(
    engine: LightRAG,
) -> None:
    await merge(engine, Extraction(entities=[entity("Alice Smith", "person", "One.", "c1")]))
    await merge(engine, Extraction(entities=[entity('"alice  SMITH"', "person", "Two.", "c2")]))
    assert await engine.storages.graph.all_labels() == ["Alice Smith"]
    assert (await node(engine, "Alice Smith"))["source_id"] == f"c1{GRAPH_FIELD_SEP}c2"


async def test_relations_are_undirected_and_weights_sum(engine: LightRAG) -> None:
    people = [entity("Alice", "person", "A.", "c1"), entity("Bob", "person", "B.", "c1")]
    await merge(
        engine,
        Extraction(entities=people, relations=[relation("Alice", "Bob", "Friends.", "c1", 2.0)]),
        Extraction(relations=[relation("Bob", "Alice", "Colleagues.", "c2", 3.5, "work")]),
    )
    await merge(engine, Extraction(relations=[relation("alice", "bob", "Met again.", "c3", 1.0)]))
    edge = await engine.storages.graph.get_edge("Alice", "Bob")
    assert edge is not None
    assert edge["weight"] == pytest.approx(6.5)
    assert edge["description"].split(GRAPH_FIELD_SEP) == ["Friends.", "Colleagues.", "Met again."]
    assert edge["keywords"] == "link, work"
    assert edge["source_id"].split(GRAPH_FIELD_SEP) == ["c1", "c2", "c3"]
    assert await engine.storages.graph.all_labels() == ["Alice", "Bob"]


async def test_unknown_relation_endpoint_creates_the_node(engine: LightRAG) -> None:
    await merge(
        engine,
        Extraction(
            entities=[entity("Alice", "person", "A.", "c1")],
            relations=[relation("Alice", "Atlantis", "Alice sailed to Atlantis.", "c1")],
        ),
    )
    created = await node(engine, "Atlantis")
    assert created["entity_type"] == "unknown"
    assert created["description"] == "Alice sailed to Atlantis."
    assert created["source_id"] == "c1"
    assert await engine.storages.graph.has_edge("Atlantis", "Alice")


async def test_merging_the_same_chunk_again_changes_nothing(engine: LightRAG) -> None:
    extraction = Extraction(
        entities=[entity("Alice", "person", "A.", "c1"), entity("Bob", "person", "B.", "c1")],
        relations=[relation("Alice", "Bob", "Friends.", "c1", 2.0)],
    )
    await merge(engine, extraction)
    before = (await engine.storages.graph.get_edge("Alice", "Bob"), await node(engine, "Alice"))
    await merge(engine, extraction)
    after = (await engine.storages.graph.get_edge("Alice", "Bob"), await node(engine, "Alice"))
    assert after == before


async def test_vectors_carry_the_documented_ids_meta_and_content(engine: LightRAG) -> None:
    await merge(
        engine,
        Extraction(
            entities=[entity("Alice", "person", "A.", "c1"), entity("Bob", "person", "B.", "c1")],
            relations=[relation("Bob", "Alice", "Friends.", "c1", 2.0, "friendship")],
        ),
    )
    (ent,) = await engine.storages.entities_vdb.get([ids.entity_vector_id("alice")])
    assert ent is not None
    assert ent["entity_name"] == "Alice" and ent["entity_type"] == "person"
    assert ent["content"] == "Alice\nA."
    assert ent["source_id"] == "c1" and ent["file_path"] == "a.txt"
    (rel,) = await engine.storages.relationships_vdb.get([ids.relation_vector_id("Bob", "Alice")])
    assert rel is not None
    assert (rel["src_id"], rel["tgt_id"]) == ("Alice", "Bob")
    assert rel["content"] == "friendship\tAlice\nBob\nFriends."
    assert rel["weight"] == 2.0 and rel["keywords"] == "friendship"


async def test_long_description_lists_are_summarised_by_the_llm(tmp_path: Path) -> None:
    rag, llm = await open_engine(tmp_path, force_llm_summary_on_merge=3)
    try:
        two = [entity("Acme", "organization", f"Fact {i}.", f"c{i}") for i in range(2)]
        await merge(rag, Extraction(entities=two))
        assert llm.calls["summary"] == 0
        assert (await node(rag, "Acme"))["description"].count(GRAPH_FIELD_SEP) == 1
        await merge(rag, Extraction(entities=[entity("Acme", "organization", "Fact 9.", "c9")]))
        assert llm.calls["summary"] == 1
        description = (await node(rag, "Acme"))["description"]
        assert GRAPH_FIELD_SEP not in description
        assert "Fact 9." in description
    finally:
        await rag.finalize()


async def test_descriptions_past_the_token_limit_are_summarised(tmp_path: Path) -> None:
    rag, llm = await open_engine(tmp_path, summary_max_tokens=20)
    try:
        long_facts = [
            entity("Acme", "organization", f"Acme fact number {i} " + "is long " * 10, f"c{i}")
            for i in range(2)
        ]
        await merge(rag, Extraction(entities=long_facts))
        assert llm.calls["summary"] == 1
    finally:
        await rag.finalize()


async def test_very_long_lists_are_summarised_map_reduce(tmp_path: Path) -> None:
    rag, llm = await open_engine(tmp_path, summary_context_size=60, force_llm_summary_on_merge=4)
    try:
        facts = [entity("Acme", "organization", f"Acme fact {i} " * 6, f"c{i}") for i in range(12)]
        await merge(rag, Extraction(entities=facts))
        assert llm.calls["summary"] > 2  # several group summaries, then one of those
        assert GRAPH_FIELD_SEP not in (await node(rag, "Acme"))["description"]
    finally:
        await rag.finalize()


async def test_failed_summary_keeps_the_merge_joined_and_merging_again_summarises(
    tmp_path: Path,
) -> None:
    failing = FakeChatModel({"fail_kinds": ["summary"]})
    rag, _ = await open_engine(tmp_path, llm=failing, force_llm_summary_on_merge=2)
    second = Extraction(
        entities=[
            entity("Acme", "organization", "Two.", "c2"),
            entity("Zeta", "person", "New.", "c2"),
        ]
    )
    try:
        await merge(rag, Extraction(entities=[entity("Acme", "organization", "One.", "c1")]))
        with pytest.raises(ModelError):
            await merge(rag, second)
        joined = await node(rag, "Acme")  # nothing lost: the fragments wait for their summary
        assert joined["description"] == f"One.{GRAPH_FIELD_SEP}Two."
        assert await rag.storages.graph.has_node("Zeta")
        failing.config.fail_kinds = []
        await merge(rag, second)  # the document again: its chunk adds nothing, the summary runs
        summarised = await node(rag, "Acme")
        assert GRAPH_FIELD_SEP not in summarised["description"]
        assert summarised["source_id"] == f"c1{GRAPH_FIELD_SEP}c2"
    finally:
        await rag.finalize()


async def test_concurrent_merges_of_one_entity_keep_every_source(tmp_path: Path) -> None:
    rag, _ = await open_engine(tmp_path, llm=FakeChatModel({"latency_ms": 5}))
    try:
        await asyncio.gather(
            *(
                merge(
                    rag,
                    Extraction(
                        entities=[entity("Acme", "organization", f"Fact {i}.", f"c{i}")],
                        relations=[relation("Acme", f"Person {i}", "Works.", f"c{i}", 1.0)],
                    ),
                )
                for i in range(20)
            )
        )
        sources = (await node(rag, "Acme"))["source_id"].split(GRAPH_FIELD_SEP)
        assert sorted(sources) == sorted(f"c{i}" for i in range(20))
        assert await rag.storages.graph.node_degree("Acme") == 20
    finally:
        await rag.finalize()


async def test_keyed_locks_let_disjoint_holders_through_while_an_overlapping_one_waits() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    release_a = asyncio.Event()

    async def hold(name: str, keys: list[str], until: asyncio.Event | None = None) -> None:
        async with locks.hold(keys):
            order.append(f"{name} in")
            if until is not None:
                await until.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(hold("first", ["a"], release_a))
    await asyncio.sleep(0)
    both = asyncio.create_task(hold("both", ["a", "b"]))
    await asyncio.sleep(0)
    only_b = asyncio.create_task(hold("only_b", ["b"]))
    await asyncio.sleep(0.01)
    # "both" waits for "a" without taking "b", so "only_b" is not held up behind it
    assert order == ["first in", "only_b in", "only_b out"]
    release_a.set()
    await asyncio.gather(first, both, only_b)
    assert order[-2:] == ["both in", "both out"]


class GatedSummaries(FakeChatModel):
    """A fake whose summary calls wait until ``release`` is set (counted in ``summaries``)."""

    def __init__(self) -> None:
        super().__init__({"summary_max_words": 8})
        self.release = asyncio.Event()
        self.summaries = 0

    async def complete(self, prompt: str, **kwargs: Any) -> str:
        if prompt.startswith("### Task: merge several descriptions"):
            self.summaries += 1
            await self.release.wait()
        return await super().complete(prompt, **kwargs)


def many_facts(name: str, count: int, first_chunk: int = 0) -> Extraction:
    return Extraction(
        entities=[
            entity(name, "organization", f"{name} fact {i}.", f"c{i}")
            for i in range(first_chunk, first_chunk + count)
        ]
    )


async def test_a_pending_summary_does_not_hold_up_documents_sharing_other_entities(
    tmp_path: Path,
) -> None:
    llm = GatedSummaries()
    rag, _ = await open_engine(tmp_path, llm=llm, force_llm_summary_on_merge=4)
    try:
        await merge(rag, Extraction(entities=[entity("Shared", "geo", "A river.", "s0")]))
        summarising = asyncio.create_task(
            merge(
                rag,
                many_facts("Acme", 4),
                Extraction(entities=[entity("Shared", "geo", "A bay.", "s1")]),
            )
        )
        await wait_until(lambda: llm.summaries == 1)
        # Acme's summary is still pending: a document that only shares "Shared" goes through
        await asyncio.wait_for(
            merge(rag, Extraction(entities=[entity("Shared", "geo", "A port.", "s2")])), 5
        )
        assert not summarising.done()  # merged already, summarising with no hold
        shared = await node(rag, "Shared")
        assert shared["description"].split(GRAPH_FIELD_SEP) == ["A river.", "A bay.", "A port."]
        llm.release.set()
        await summarising
        shared = await node(rag, "Shared")
        assert shared["description"].split(GRAPH_FIELD_SEP) == ["A river.", "A bay.", "A port."]
        assert shared["source_id"].split(GRAPH_FIELD_SEP) == ["s0", "s1", "s2"]
        assert "fact" in (await node(rag, "Acme"))["description"]
        assert llm.summaries == 1
    finally:
        llm.release.set()
        await rag.finalize()


async def test_descriptions_added_during_a_summary_are_kept_beside_it(tmp_path: Path) -> None:
    llm = GatedSummaries()
    rag, _ = await open_engine(tmp_path, llm=llm, summary_max_tokens=40)
    try:
        await merge(rag, Extraction(entities=[entity("Acme", "organization", "A firm.", "c0")]))
        long_text = "Acme builds very long bridges over every river in the valley " * 3
        summarising = asyncio.create_task(
            merge(rag, Extraction(entities=[entity("Acme", "organization", long_text, "c1")]))
        )
        await wait_until(lambda: llm.summaries == 1)
        # written at once; it then waits, holding nothing, for the summary in progress
        adding = asyncio.create_task(
            merge(rag, Extraction(entities=[entity("Acme", "organization", "Founded 1901.", "c2")]))
        )
        for _ in range(500):
            if "Founded 1901." in (await node(rag, "Acme"))["description"]:
                break
            await asyncio.sleep(0.01)
        assert "Founded 1901." in (await node(rag, "Acme"))["description"]
        assert not adding.done()
        llm.release.set()
        await asyncio.gather(summarising, adding)
        props = await node(rag, "Acme")
        summary, *rest = props["description"].split(GRAPH_FIELD_SEP)
        assert rest == ["Founded 1901."]
        assert summary.startswith("A firm.")
        assert sorted(props["source_id"].split(GRAPH_FIELD_SEP)) == ["c0", "c1", "c2"]
        assert llm.summaries == 1
    finally:
        llm.release.set()
        await rag.finalize()


async def test_concurrent_merges_summarise_one_entity_once(tmp_path: Path) -> None:
    llm = GatedSummaries()
    rag, _ = await open_engine(tmp_path, llm=llm, force_llm_summary_on_merge=4)
    try:
        await merge(rag, many_facts("Acme", 3))
        first = asyncio.create_task(merge(rag, many_facts("Acme", 1, first_chunk=3)))
        await wait_until(lambda: llm.summaries == 1)
        # the second is written at once, then waits (holding nothing) instead of repeating it
        second = asyncio.create_task(merge(rag, many_facts("Acme", 1, first_chunk=4)))
        for _ in range(500):
            if "Acme fact 4." in (await node(rag, "Acme"))["description"]:
                break
            await asyncio.sleep(0.01)
        joined = (await node(rag, "Acme"))["description"].split(GRAPH_FIELD_SEP)
        assert joined == [f"Acme fact {i}." for i in range(5)]
        assert not second.done()
        assert llm.summaries == 1
        llm.release.set()
        await asyncio.gather(first, second)
        props = await node(rag, "Acme")
        assert llm.summaries == 1
        assert props["description"].split(GRAPH_FIELD_SEP)[-1] == "Acme fact 4."
        assert sorted(props["source_id"].split(GRAPH_FIELD_SEP)) == [f"c{i}" for i in range(5)]
    finally:
        llm.release.set()
        await rag.finalize()


async def test_blank_summary_fails_the_merge_and_is_not_cached(tmp_path: Path) -> None:
    blank = FakeChatModel(
        handlers=[
            FakeHandler(
                "summary", lambda r: r.prompt.startswith("### Task: merge"), lambda m, r: "  "
            )
        ]
    )
    rag, _ = await open_engine(tmp_path, llm=blank, force_llm_summary_on_merge=2)
    try:
        await merge(rag, Extraction(entities=[entity("Acme", "organization", "One.", "c1")]))
        second = Extraction(entities=[entity("Acme", "organization", "Two.", "c2")])
        with pytest.raises(ModelError, match=r"blank summary.*'Acme'"):
            await merge(rag, second)
        kept = await node(rag, "Acme")  # the blank summary replaced nothing
        assert kept["description"] == f"One.{GRAPH_FIELD_SEP}Two."
        assert await rag.storages.llm_cache.is_empty()
        with pytest.raises(ModelError):
            await merge(rag, second)  # asked again, not answered from the cache
        assert blank.calls["summary"] == 2
    finally:
        await rag.finalize()


async def test_a_list_that_grew_meanwhile_is_summarised_once_the_merge_is_written(
    tmp_path: Path,
) -> None:
    llm = GatedSummaries()
    llm.release.set()
    rag, _ = await open_engine(tmp_path, llm=llm, force_llm_summary_on_merge=4)
    try:
        await merge(rag, many_facts("Acme", 2))
        async with rag.pipeline.merger.locks.hold(["acme"]):
            # the merge waits for the hold; meanwhile the list grows to three
            waiting = asyncio.create_task(merge(rag, many_facts("Acme", 1, first_chunk=5)))
            await asyncio.sleep(0.05)
            stored = await node(rag, "Acme")
            grown = stored["description"] + GRAPH_FIELD_SEP + "Acme fact 3."
            await rag.storages.graph.upsert_node("Acme", {**stored, "description": grown})
            assert llm.summaries == 0
        await waiting
        props = await node(rag, "Acme")
        assert llm.summaries == 1  # of the four descriptions stored once it was written
        assert GRAPH_FIELD_SEP not in props["description"]
        assert props["description"].startswith("Acme fact 0.")
        assert props["source_id"].split(GRAPH_FIELD_SEP) == ["c0", "c1", "c5"]
    finally:
        await rag.finalize()


async def test_keyed_locks_try_acquire_takes_only_free_keys_and_never_waits() -> None:
    locks = KeyedLocks()
    assert locks.try_acquire(["a", "b"])
    assert not locks.try_acquire(["b", "c"])  # "b" is held: nothing is taken
    assert locks.try_acquire(["c"])
    waiter = asyncio.create_task(locks.acquire(["a", "c"]))
    await asyncio.sleep(0)
    assert not waiter.done()
    locks.release(["a", "b"])
    await asyncio.sleep(0)
    assert not waiter.done()  # "c" is still held
    locks.release(["c"])
    await asyncio.wait_for(waiter, 1)
    assert not locks.try_acquire(["a"])
    locks.release(["a", "c"])
    assert locks.try_acquire(["a", "b", "c"])
