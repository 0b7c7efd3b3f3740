"""Merge extracted entities and relations into the knowledge graph and its vector stores.

Rules (per entity, identity ``ids.entity_key``; per relation, the sorted key pair):

- the node id is the least spelling in code-point order of those seen
  (``ids.display_name``: ``PATH`` over ``path``), so the graph does not depend on
  the order documents are processed in: a merge that brings a lesser spelling
  renames the node (its edges, vectors and the documents' entity indexes move with
  it); ``entity_type`` is the majority type (the stored type counts once per
  existing source chunk; a tie goes to the least type name);
- descriptions are de-duplicated and joined with ``GRAPH_FIELD_SEP``; past
  ``force_llm_summary_on_merge`` items or ``summary_max_tokens`` tokens the LLM
  summarises them (map-reduce over ``summary_context_size``-token groups);
- relation weights are summed, keywords de-duplicated; ``source_id`` and
  ``file_path`` collect every contributing chunk and file;
- a relation endpoint that is neither extracted nor in the graph becomes a node
  of type ``unknown`` described by the relation;
- a chunk already listed in ``source_id`` contributes nothing again, so
  re-merging a document after a crash is idempotent.

A merge never calls the LLM while it holds entities. It holds every entity the
document touches (``Coordinator.hold``, all at once, across replicas when
coordination is shared), computes the properties from what is stored now with
descriptions joined, and writes them. Then, holding nothing, it summarises each
list it left past the threshold: holding that list's summary hold
(``Coordinator.try_hold``, which never waits) it asks the LLM, then writes the
summary in place of the descriptions it covers, briefly holding the entity (or the
relation's two endpoints) again, and looks again until the list needs no summary;
when another writer holds the summary hold, it polls until the list needs no
summary or the hold is free. So no two writers summarise one list at once, a slow
summary of a popular entity keeps no merge waiting, a merge returns with its lists
summarised, and no description is lost: fragments added during a summary stay
beside it. A failed summary leaves the merged fragments joined.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from lightrag.core.context import EngineContext
from lightrag.core.graph_fields import (
    UNKNOWN_TYPE,
    field_parts,
    join_field_onto,
    join_keywords,
    split_field,
    unique_texts,
)
from lightrag.core.kg_doc_index import rename_in_doc_index
from lightrag.core.llm_calls import InsertLLM
from lightrag.core.summarize import DescriptionSummarizer, SummaryMemo
from lightrag.core.vector_records import entity_vector_record, relation_vector_record, write_vectors
from lightrag.vocabulary import ids
from lightrag.vocabulary.coordination import Coordinator
from lightrag.vocabulary.types import (
    ExtractedEntity,
    ExtractedRelation,
    Extraction,
)

__all__ = ["GraphMerger", "MergeOutcome"]

_Renames = dict[str, tuple[str, str]]
"""entity key -> (stored node id, new node id) for nodes a merge renames."""


def _add_spelling(names: dict[str, str], key: str, name: str) -> None:
    """Keep, per entity key, the display form of the spellings seen so far."""
    names[key] = ids.display_name(names[key], name) if key in names else ids.display_name(name)


T = TypeVar("T")


@dataclass
class MergeOutcome:
    """The node ids and edges one document's extractions touched."""

    entity_names: list[str] = field(default_factory=list)
    relation_pairs: list[tuple[str, str]] = field(default_factory=list)


async def _all_or_first_error(jobs: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Results of ``jobs`` run together; the first failure cancels the rest and is raised."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(job) for job in jobs]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


def _now() -> int:
    return int(time.time())


def _descriptions(
    base: Mapping[str, Any] | None, items: Sequence[ExtractedEntity | ExtractedRelation]
) -> list[str]:
    """The descriptions a merge combines: the stored ones, then the new ones."""
    return split_field((base or {}).get("description")) + [i.description for i in items]


_POLL_FIRST = 0.02
_POLL_MAX = 0.5
"""Seconds between looks at a description list another writer is summarising."""


def _items(props: Mapping[str, Any]) -> list[str]:
    return unique_texts(split_field(props.get("description")))


class _DescriptionList(Protocol):
    """One node's or edge's description list, as the summary step reads and writes it."""

    name: str
    kind: str
    summary_hold: str  # its summary hold: apart from every merge hold
    merge_holds: list[str]  # the entity keys a write of it holds

    async def read(self) -> dict[str, Any] | None: ...

    async def write(self, props: dict[str, Any]) -> None: ...


class _EntityList:
    kind = "entity"

    def __init__(self, merger: GraphMerger, node_id: str) -> None:
        self.ctx = merger.ctx
        self.name = node_id
        key = ids.entity_key(node_id)
        self.summary_hold = f"summary:{key}"
        self.merge_holds = [key]

    async def read(self) -> dict[str, Any] | None:
        return await self.ctx.storages.graph.get_node(self.name)

    async def write(self, props: dict[str, Any]) -> None:
        await write_vectors(self.ctx, entities_vdb=dict([entity_vector_record(self.name, props)]))
        await self.ctx.storages.graph.upsert_nodes({self.name: props})


class _RelationList:
    kind = "relationship"

    def __init__(self, merger: GraphMerger, edge: tuple[str, str]) -> None:
        self.ctx = merger.ctx
        self.edge = edge
        self.name = f"{edge[0]} - {edge[1]}"
        pair = ids.relation_key(*edge)
        self.summary_hold = f"summary:{pair[0]}\x1f{pair[1]}"
        self.merge_holds = list(pair)

    async def read(self) -> dict[str, Any] | None:
        return await self.ctx.storages.graph.get_edge(*self.edge)

    async def write(self, props: dict[str, Any]) -> None:
        await write_vectors(
            self.ctx, relationships_vdb=dict([relation_vector_record(*self.edge, props)])
        )
        await self.ctx.storages.graph.upsert_edges([(*self.edge, props)])


class GraphMerger:
    """Merges extractions into the graph and vector stores (see module docstring)."""

    def __init__(self, ctx: EngineContext, llm: InsertLLM, coordinator: Coordinator) -> None:
        self.ctx = ctx
        self.summarizer = DescriptionSummarizer(ctx, llm)
        self.locks = coordinator  # merge holds: across replicas when coordination is shared
        self._node_ids: dict[str, str] = {}  # entity key -> node id last seen

    def forget(self, names: Iterable[str]) -> None:
        """Drop remembered node ids (after their nodes were deleted)."""
        for name in names:
            self._node_ids.pop(ids.entity_key(name), None)

    async def resolve(
        self, names: Mapping[str, str]
    ) -> dict[str, tuple[str, dict[str, Any] | None]]:
        """For entity key -> display name: ``(node id, stored properties or None)``.

        Looks up the node id remembered for the key, else the entity vector's
        ``entity_name``, else the display name itself. Call under the keys' locks.
        """
        graph = self.ctx.storages.graph
        candidates = {key: self._node_ids.get(key, name) for key, name in names.items()}
        stored = await graph.get_nodes(list(set(candidates.values())))
        missing = [key for key, node_id in candidates.items() if node_id not in stored]
        if missing:
            vectors = await self.ctx.storages.entities_vdb.get(
                [ids.entity_vector_id(names[key]) for key in missing]
            )
            found = {
                key: str(rec["entity_name"])
                for key, rec in zip(missing, vectors, strict=True)
                if rec and rec.get("entity_name")
            }
            if found:
                stored.update(await graph.get_nodes(list(found.values())))
                candidates.update({k: v for k, v in found.items() if v in stored})
        out: dict[str, tuple[str, dict[str, Any] | None]] = {}
        for key, node_id in candidates.items():
            props = stored.get(node_id)
            out[key] = (node_id, props) if props is not None else (names[key], None)
        return out

    async def entity_props(
        self,
        node_id: str,
        base: dict[str, Any] | None,
        items: Sequence[ExtractedEntity],
        memo: SummaryMemo | None = None,
        summarise: bool = True,
    ) -> dict[str, Any]:
        """Node properties after adding ``items`` to ``base`` (the stored node or None)."""
        base = base or {}
        # field_parts/join_field_onto: O(new chunks) per merge, not O(chunks of the entity)
        source_count = len(field_parts(base.get("source_id")).parts)
        types: Counter[str] = Counter()
        if base.get("entity_type"):
            types[str(base["entity_type"])] += max(1, source_count)
        for item in items:
            types[item.type or UNKNOWN_TYPE] += 1
        # ties go to the least type name, not to whichever document came first
        known = sorted((t for t in types if t != UNKNOWN_TYPE), key=lambda t: (-types[t], t))
        return {
            "entity_id": node_id,
            "entity_type": known[0] if known else UNKNOWN_TYPE,
            "description": await self.summarizer.combine(
                node_id, "entity", _descriptions(base, items), memo, summarise
            ),
            "source_id": join_field_onto(base.get("source_id"), (i.source_id for i in items)),
            "file_path": join_field_onto(base.get("file_path"), (i.file_path for i in items)),
            "created_at": base.get("created_at", _now()),
        }

    async def relation_props(
        self,
        pair: tuple[str, str],
        base: dict[str, Any] | None,
        items: Sequence[ExtractedRelation],
        memo: SummaryMemo | None = None,
        summarise: bool = True,
    ) -> dict[str, Any]:
        """Edge properties after adding ``items`` to ``base`` (the stored edge or None)."""
        base = base or {}
        return {
            "description": await self.summarizer.combine(
                f"{pair[0]} - {pair[1]}",
                "relationship",
                _descriptions(base, items),
                memo,
                summarise,
            ),
            "keywords": join_keywords([base.get("keywords"), *(i.keywords for i in items)]),
            "weight": float(base.get("weight", 0.0)) + sum(i.weight for i in items),
            "source_id": join_field_onto(base.get("source_id"), (i.source_id for i in items)),
            "file_path": join_field_onto(base.get("file_path"), (i.file_path for i in items)),
            "created_at": base.get("created_at", _now()),
        }

    async def merge(
        self,
        extractions: Sequence[Extraction],
        fence: Callable[[], Awaitable[None]] | None = None,
    ) -> MergeOutcome:
        """Merge one document's chunk extractions; returns what it touched.

        Raises the LLM's ``ModelError`` when a summary fails; the merge is written by
        then, its lists joined, and merging the document again summarises them.
        ``fence`` runs under the merge holds right before the writes (the pipeline
        confirms its claim on the document there: a lost claim writes nothing).
        """
        names: dict[str, str] = {}
        entities: dict[str, list[ExtractedEntity]] = {}
        relations: dict[tuple[str, str], list[ExtractedRelation]] = {}
        for extraction in extractions:
            for entity in extraction.entities:
                key = ids.entity_key(entity.name)
                _add_spelling(names, key, entity.name)
                entities.setdefault(key, []).append(entity)
            for relation in extraction.relations:
                pair = ids.relation_key(relation.source, relation.target)
                _add_spelling(names, ids.entity_key(relation.source), relation.source)
                _add_spelling(names, ids.entity_key(relation.target), relation.target)
                relations.setdefault(pair, []).append(relation)
        if not names:
            return MergeOutcome()
        async with self.locks.hold(names):
            nodes, edges, renames = await self._compute(names, entities, relations)
            if fence is not None:
                await fence()
            outcome = await self._write(nodes, edges, renames)
        await self._summarise(nodes.values(), edges.items())
        return outcome

    async def _summarise(
        self,
        nodes: Iterable[tuple[str, dict[str, Any]]],
        edges: Iterable[tuple[tuple[str, str], dict[str, Any]]],
    ) -> None:
        """Summarise every description list a merge left past the summary threshold."""
        needs = self.summarizer.needs_summary
        jobs = [
            self._summarise_one(_EntityList(self, node_id))
            for node_id, props in nodes
            if needs(split_field(props.get("description")))
        ]
        jobs += [
            self._summarise_one(_RelationList(self, edge))
            for edge, props in edges
            if needs(split_field(props.get("description")))
        ]
        await _all_or_first_error(jobs)

    async def _summarise_one(self, target: _DescriptionList) -> None:
        """Bring ``target``'s description list under the summary threshold (see module).

        Holding its summary hold, summarise, then write the summary in place of the
        descriptions it covers under the merge holds, until the list needs no summary.
        When another writer holds the summary hold, poll until the list needs no
        summary or the hold is free: every merge returns with its lists summarised or
        being summarised by a writer that looks again after it writes."""
        pause = _POLL_FIRST
        while True:
            props = await target.read()
            if props is None or not self.summarizer.needs_summary(_items(props)):
                return
            async with self.locks.try_hold([target.summary_hold]) as got:
                if got:
                    await self._summarise_holding(target, props)
                    return
            await asyncio.sleep(pause)
            pause = min(2 * pause, _POLL_MAX)

    async def _summarise_holding(self, target: _DescriptionList, props: dict[str, Any]) -> None:
        summarizer = self.summarizer
        while summarizer.needs_summary(items := _items(props)):
            summary = await summarizer.summarize(target.name, target.kind, items)
            async with self.locks.hold(target.merge_holds):
                stored = await target.read()
                if stored is None:
                    return  # deleted meanwhile
                # the summary stands in for the descriptions it covers; any added since stay
                description = await summarizer.combine(
                    target.name, target.kind, _items(stored), {frozenset(items): summary}, False
                )
                props = {**stored, "description": description}
                if description != stored.get("description"):
                    await target.write(props)

    async def _compute(
        self,
        names: dict[str, str],
        extracted: dict[str, list[ExtractedEntity]],
        relations: dict[tuple[str, str], list[ExtractedRelation]],
    ) -> tuple[
        dict[str, tuple[str, dict[str, Any]]], dict[tuple[str, str], dict[str, Any]], _Renames
    ]:
        """New properties from the stored state: ``({entity key: (node id, props)},
        {(node id, node id): edge props}, {entity key: (stored id, new id)})``,
        descriptions joined (no LLM call). Writes nothing."""
        graph = self.ctx.storages.graph
        resolved = await self.resolve(names)
        renames: _Renames = {
            key: (node_id, display)
            for key, (node_id, props) in resolved.items()
            if props is not None and (display := ids.display_name(node_id, names[key])) != node_id
        }
        entities = dict(extracted)
        # entities named only as relation endpoints and unknown to the graph become nodes
        for pair, items in relations.items():
            for key in pair:
                if key not in entities and resolved[key][1] is None:
                    entities[key] = [
                        ExtractedEntity(
                            resolved[key][0], UNKNOWN_TYPE, i.description, i.source_id, i.file_path
                        )
                        for i in items
                    ]
        node_keys = list(entities)

        def fresh_entities(key: str) -> list[ExtractedEntity]:
            done = field_parts((resolved[key][1] or {}).get("source_id")).members
            return [e for e in entities[key] if e.source_id not in done]

        edge_ids = {pair: (resolved[pair[0]][0], resolved[pair[1]][0]) for pair in relations}
        stored_edges = await graph.get_edges(list(edge_ids.values()))

        def fresh_relations(pair: tuple[str, str]) -> list[ExtractedRelation]:
            done = field_parts(stored_edges.get(edge_ids[pair], {}).get("source_id")).members
            return [r for r in relations[pair] if r.source_id not in done]

        def shown(key: str) -> str:  # the node id written: the new one when renamed
            return renames[key][1] if key in renames else resolved[key][0]

        node_keys += [k for k in renames if k not in entities]  # a renamed node is rewritten
        entity_jobs = [
            self.entity_props(
                shown(k),
                resolved[k][1],
                fresh_entities(k) if k in entities else [],
                summarise=False,
            )
            for k in node_keys
        ]
        relation_jobs = [
            self.relation_props(
                (shown(p[0]), shown(p[1])),
                stored_edges.get(edge_ids[p]),
                fresh_relations(p),
                summarise=False,
            )
            for p in relations
        ]
        merged = await _all_or_first_error([*entity_jobs, *relation_jobs])
        nodes = {
            key: (shown(key), props)
            for key, props in zip(node_keys, merged[: len(node_keys)], strict=True)
        }
        edges = {
            (shown(pair[0]), shown(pair[1])): props
            for pair, props in zip(relations, merged[len(node_keys) :], strict=True)
        }
        return nodes, edges, renames

    async def _moved_edges(
        self, renames: _Renames, written: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """The stored edges of renamed nodes that this merge does not rewrite, keyed by
        their endpoints after the renames."""
        graph = self.ctx.storages.graph
        new_ids = {old: new for old, new in renames.values()}
        done = {ids.relation_key(*edge) for edge in written}
        old_edges: set[tuple[str, str]] = set()
        for old, _ in renames.values():
            old_edges.update(await graph.get_node_edges(old))
        stored = await graph.get_edges(sorted(old_edges))
        moved: dict[tuple[str, str], dict[str, Any]] = {}
        for (first, second), props in stored.items():
            edge = (new_ids.get(first, first), new_ids.get(second, second))
            if ids.relation_key(*edge) not in done:
                moved[edge] = props
        return moved

    async def _write(
        self,
        nodes: dict[str, tuple[str, dict[str, Any]]],
        edges: dict[tuple[str, str], dict[str, Any]],
        renames: _Renames,
    ) -> MergeOutcome:
        """Write computed properties (under the merge locks): vectors first, so an
        embedding failure never leaves a half-written graph. A renamed node's other
        edges move to its new id (vector ids hang on entity keys, so its vectors are
        rewritten in place), then the old node goes."""
        graph = self.ctx.storages.graph
        moved = await self._moved_edges(renames, edges) if renames else {}
        await write_vectors(
            self.ctx,
            entities_vdb=dict(entity_vector_record(*node) for node in nodes.values()),
            relationships_vdb=dict(
                relation_vector_record(*edge, props)
                for edge, props in (*edges.items(), *moved.items())
            ),
        )
        await graph.upsert_nodes(dict(nodes.values()))
        for key, (node_id, _) in nodes.items():
            self._node_ids[key] = node_id
        await graph.upsert_edges(
            [(*edge, props) for edge, props in (*moved.items(), *edges.items())]
        )
        if renames:
            await graph.delete_nodes([old for old, _ in renames.values()])
            sources = [props.get("source_id") for _, props in nodes.values()]
            sources += [props.get("source_id") for props in moved.values()]
            await rename_in_doc_index(
                self.ctx.storages, sources, {key: new for key, (_, new) in renames.items()}
            )
        return MergeOutcome(
            entity_names=[node_id for node_id, _ in nodes.values()],
            relation_pairs=list(edges),
        )
