"""Query and graph edits on data written by the real insert pipeline (fake LLM)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lightrag.compose import open_storages
from lightrag.config.models import RagConfig, StorageConfig
from lightrag.core.engine import LightRAG
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel
from lightrag.vocabulary.types import QueryParam

ENERGY = (
    "Alice Smith leads the solar program at Acme Corp. Acme Corp builds wind turbines in Denmark."
)
SPACE = "Bob Jones flies rockets for Orbital Labs. Orbital Labs partners with Acme Corp on satellite power."


@pytest.fixture
async def rag(tmp_path: Path) -> AsyncIterator[LightRAG]:
    embedding = HashingEmbeddingModel({"dim": 256})
    storages = open_storages(
        StorageConfig(),
        working_dir=tmp_path,
        workspace="",
        embedding_dim=embedding.dim,
        cosine_threshold=0.2,
    )
    engine = LightRAG(
        config=RagConfig(), storages=storages, llm=FakeChatModel(), embedding=embedding
    )
    await engine.initialize()
    await engine.insert([ENERGY, SPACE], file_paths=["energy.md", "space.md"])
    yield engine
    await engine.finalize()


async def test_local_query_answers_from_inserted_documents_with_references(rag: LightRAG) -> None:
    result = await rag.query("What does Alice Smith do?", QueryParam(mode="local"))
    assert result.llm_generated
    assert "entities: Alice Smith" in result.response
    assert ENERGY in result.response
    first = result.references[0]
    assert (first.reference_id, first.file_path) == ("1", "energy.md")
    assert result.references[0].doc_id is not None
    assert result.references[0].doc_id.startswith("doc-")


async def test_global_query_finds_relations_written_by_the_pipeline(rag: LightRAG) -> None:
    context = await rag.retrieve("Who flies rockets?", QueryParam(mode="global"))
    pairs = {frozenset((r["src_id"], r["tgt_id"])) for r in context.relationships}
    assert frozenset(("Bob Jones", "Orbital Labs")) in pairs
    assert {c["file_path"] for c in context.chunks} == {"space.md"}


async def test_renamed_entity_survives_deleting_one_of_its_documents(rag: LightRAG) -> None:
    await rag.edit_entity("Acme Corp", {"entity_name": "Acme Energy"})
    space = await rag.retrieve("rockets Orbital Labs", QueryParam(mode="naive"))
    space_doc = next(r.doc_id for r in space.references if r.file_path == "space.md")
    assert space_doc is not None
    result = await rag.delete_document(space_doc)
    assert result.status == "success"
    labels = await rag.graph_labels()
    assert "Acme Energy" in labels and "Acme Corp" not in labels
    assert "Orbital Labs" not in labels
    node = await rag.storages.graph.get_node("Acme Energy")
    assert node is not None and "space.md" not in node["file_path"]


async def test_deleting_a_document_changes_the_context_so_the_cache_misses(rag: LightRAG) -> None:
    param = QueryParam(mode="naive", chunk_top_k=5)
    first = await rag.query("Acme Corp", param)
    assert {r.file_path for r in first.references} == {"energy.md", "space.md"}
    space_doc = next(r.doc_id for r in first.references if r.file_path == "space.md")
    assert space_doc is not None
    await rag.delete_document(space_doc)
    second = await rag.query("Acme Corp", param)
    assert not second.cached
    assert {r.file_path for r in second.references} == {"energy.md"}
