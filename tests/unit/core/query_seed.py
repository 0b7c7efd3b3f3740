"""A small seeded knowledge base for query and graph-edit tests.

Built directly through the storage APIs (real file storages in a tmp dir, the
hashing embedder), in the shapes the insert pipeline writes, so the query side
is tested independently of extraction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightrag.compose import cosine_threshold, open_storages
from lightrag.config.models import RagConfig, StorageConfig
from lightrag.core.cache import LLMCache
from lightrag.core.context import EngineContext
from lightrag.core.kg_edit import GraphEditor
from lightrag.core.query import QueryEngine
from lightrag.core.storages import Storages
from lightrag.core.tokenizer import get_tokenizer
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel
from lightrag.vocabulary.ids import chunk_id, entity_vector_id, relation_vector_id
from lightrag.vocabulary.models import ChatModel
from lightrag.vocabulary.types import GRAPH_FIELD_SEP

DIM = 256

DOCS: dict[str, tuple[str, list[str]]] = {
    "doc-energy": (
        "reports/energy.md",
        [
            "Alice Smith leads the solar program at Acme Corp and reports on photovoltaic yield.",
            "Acme Corp builds wind turbines in Denmark near the coast of Jutland.",
        ],
    ),
    "doc-space": (
        "reports/space.md",
        [
            "Bob Jones flies rockets for Orbital Labs from a launch site in Kourou.",
            "Orbital Labs partners with Acme Corp on satellite power and orbital solar arrays.",
        ],
    ),
    # only in the chunk store: reachable by chunk vectors (naive, mix), never by the graph
    "doc-notes": (
        "notes/cafeteria.txt",
        ["Cafeteria lunch menu: soup on Monday, pasta on Friday."],
    ),
}


def chunk_ids_of(doc: str) -> list[str]:
    return [chunk_id(doc, text) for text in DOCS[doc][1]]


C_ALICE, C_WIND = chunk_ids_of("doc-energy")
C_BOB, C_PARTNER = chunk_ids_of("doc-space")
(C_NOTES,) = chunk_ids_of("doc-notes")

ENTITIES: dict[str, tuple[str, str, list[str]]] = {
    "Alice Smith": ("person", "Alice Smith leads the solar program of Acme Corp.", [C_ALICE]),
    "Acme Corp": (
        "organization",
        "Acme Corp is an energy company building solar and wind equipment.",
        [C_ALICE, C_WIND, C_PARTNER],
    ),
    "Denmark": ("geo", "Denmark hosts the wind turbine factory of Acme Corp.", [C_WIND]),
    "Bob Jones": ("person", "Bob Jones is a rocket pilot for Orbital Labs.", [C_BOB]),
    "Orbital Labs": (
        "organization",
        "Orbital Labs launches rockets and builds satellites.",
        [C_BOB, C_PARTNER],
    ),
}

RELATIONS: list[tuple[str, str, str, str, float, list[str]]] = [
    (
        "Alice Smith",
        "Acme Corp",
        "Alice Smith leads solar at Acme Corp.",
        "leadership, solar energy",
        2.0,
        [C_ALICE],
    ),
    (
        "Acme Corp",
        "Denmark",
        "Acme Corp builds wind turbines in Denmark.",
        "manufacturing, wind power",
        1.0,
        [C_WIND],
    ),
    (
        "Bob Jones",
        "Orbital Labs",
        "Bob Jones flies rockets for Orbital Labs.",
        "aerospace, rockets",
        1.0,
        [C_BOB],
    ),
    (
        "Orbital Labs",
        "Acme Corp",
        "Orbital Labs and Acme Corp partner on satellite power.",
        "partnership, satellite power",
        3.0,
        [C_PARTNER],
    ),
]


@dataclass
class World:
    ctx: EngineContext
    llm: Any
    embedding: HashingEmbeddingModel
    queries: QueryEngine
    editor: GraphEditor

    @property
    def storages(self) -> Storages:
        return self.ctx.storages


async def open_world(
    tmp_path: Path,
    *,
    llm: ChatModel | None = None,
    config: RagConfig | None = None,
    storages: Storages | None = None,
) -> World:
    """An engine context on fresh file storages under ``tmp_path`` (initialised)."""
    embedding = HashingEmbeddingModel({"dim": DIM})
    rag_config = config or RagConfig()
    if storages is None:
        storages = open_storages(
            StorageConfig(),
            working_dir=tmp_path,
            workspace="",
            embedding_dim=DIM,
            cosine_threshold=cosine_threshold(rag_config.cosine_threshold, embedding),
        )
    await storages.initialize()
    chat = llm if llm is not None else FakeChatModel()
    ctx = EngineContext(
        config=rag_config,
        storages=storages,
        llm=chat,
        embedding=embedding,
        tokenizer=get_tokenizer(rag_config.tokenizer_encoding),
        cache=LLMCache(storages.llm_cache, enabled=rag_config.enable_llm_cache),
    )
    return World(ctx, chat, embedding, QueryEngine(ctx), GraphEditor(ctx))


async def seed(world: World) -> None:
    """Write the documents, chunks, graph and vectors above into the world's storages."""
    s = world.storages
    chunk_records: dict[str, dict[str, Any]] = {}
    for doc, (path, texts) in DOCS.items():
        await s.full_docs.upsert({doc: {"content": "\n".join(texts), "file_path": path}})
        for order, text in enumerate(texts):
            chunk_records[chunk_id(doc, text)] = {
                "content": text,
                "tokens": len(text.split()),
                "chunk_order_index": order,
                "full_doc_id": doc,
                "file_path": path,
            }
    await s.text_chunks.upsert(chunk_records)
    await s.chunks_vdb.upsert(
        chunk_records, await world.ctx.embed([r["content"] for r in chunk_records.values()])
    )
    paths = {cid: r["file_path"] for cid, r in chunk_records.items()}
    entity_records = {}
    for name, (etype, description, sources) in ENTITIES.items():
        props = {
            "entity_id": name,
            "entity_type": etype,
            "description": description,
            "source_id": GRAPH_FIELD_SEP.join(sources),
            "file_path": GRAPH_FIELD_SEP.join(dict.fromkeys(paths[c] for c in sources)),
            "created_at": 1700000000,
        }
        await s.graph.upsert_node(name, props)
        entity_records[entity_vector_id(name)] = {
            "entity_name": name,
            "entity_type": etype,
            "source_id": props["source_id"],
            "file_path": props["file_path"],
            "content": f"{name}\n{description}",
        }
    await s.entities_vdb.upsert(
        entity_records, await world.ctx.embed([r["content"] for r in entity_records.values()])
    )
    relation_records = {}
    for src, tgt, description, keywords, weight, sources in RELATIONS:
        props = {
            "description": description,
            "keywords": keywords,
            "weight": weight,
            "source_id": GRAPH_FIELD_SEP.join(sources),
            "file_path": GRAPH_FIELD_SEP.join(dict.fromkeys(paths[c] for c in sources)),
            "created_at": 1700000000,
        }
        await s.graph.upsert_edge(src, tgt, props)
        relation_records[relation_vector_id(src, tgt)] = {
            "src_id": src,
            "tgt_id": tgt,
            "keywords": keywords,
            "description": description,
            "weight": weight,
            "source_id": props["source_id"],
            "file_path": props["file_path"],
            "content": f"{keywords}\t{src}\n{tgt}\n{description}",
        }
    await s.relationships_vdb.upsert(
        relation_records, await world.ctx.embed([r["content"] for r in relation_records.values()])
    )
    names_by_doc: dict[str, set[str]] = {doc: set() for doc in DOCS}
    pairs_by_doc: dict[str, list[list[str]]] = {doc: [] for doc in DOCS}
    doc_of = {cid: r["full_doc_id"] for cid, r in chunk_records.items()}
    for name, (_, _, sources) in ENTITIES.items():
        for c in sources:
            names_by_doc[doc_of[c]].add(name)
    for src, tgt, *_, sources in RELATIONS:
        for c in sources:
            pairs_by_doc[doc_of[c]].append([src, tgt])
    await s.full_entities.upsert(
        {doc: {"entity_names": sorted(names)} for doc, names in names_by_doc.items()}
    )
    await s.full_relations.upsert(
        {doc: {"relation_pairs": pairs} for doc, pairs in pairs_by_doc.items()}
    )


async def close_world(world: World) -> None:
    await world.storages.finalize()
