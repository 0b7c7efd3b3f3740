"""The tolerant extraction parser against a corpus of what real (small) models emit."""

from __future__ import annotations

import pytest

from lightrag.core.extraction import (
    extraction_from_record,
    extraction_to_record,
    parse_extraction,
)
from lightrag.core.extraction_prompts import build_extraction_prompt
from lightrag.testing.fakes import FakeChatModel
from lightrag.vocabulary.types import Extraction


def parse(text: str) -> Extraction:
    return parse_extraction(text, chunk_id="chunk-1", file_path="f.txt")


def names(result: Extraction) -> set[str]:
    return {e.name for e in result.entities}


def pairs(result: Extraction) -> set[tuple[str, str]]:
    return {(r.source, r.target) for r in result.relations}


CLEAN = (
    '("entity"<|>Alice Smith<|>person<|>Alice Smith is an engineer.)##\n'
    '("entity"<|>Acme Corp<|>organization<|>Acme Corp builds bridges.)##\n'
    '("relationship"<|>Alice Smith<|>Acme Corp<|>Alice works at Acme.<|>employment, work<|>8)\n'
    "<|COMPLETE|>"
)

# (case name, model output): every case must yield Alice Smith, Acme Corp and their relation
CORPUS: list[tuple[str, str]] = [
    ("canonical", CLEAN),
    (
        "no parentheses",
        '"entity"<|>Alice Smith<|>person<|>Alice is an engineer.##\n'
        '"entity"<|>Acme Corp<|>organization<|>Acme builds bridges.##\n'
        '"relationship"<|>Alice Smith<|>Acme Corp<|>Alice works at Acme.<|>work<|>8\n'
        "<|COMPLETE|>",
    ),
    (
        "no quotes around the record kind",
        "(entity<|>Alice Smith<|>person<|>Alice is an engineer.)##"
        "(entity<|>Acme Corp<|>organization<|>Acme builds bridges.)##"
        "(relationship<|>Alice Smith<|>Acme Corp<|>Alice works at Acme.<|>work<|>8)<|COMPLETE|>",
    ),
    (
        "extra whitespace everywhere",
        '  (  "entity" <|>  Alice Smith  <|> person <|>  Alice is an engineer.  )  ##\n\n'
        '("entity"  <|>Acme Corp<|>  organization<|>Acme builds bridges. )\n##\n'
        '( "relationship"<|> Alice Smith <|> Acme Corp <|> Alice works at Acme. <|> work <|> 8 )\n'
        "   <|COMPLETE|>   ",
    ),
    ("markdown fence", "```text\n" + CLEAN + "\n```"),
    ("markdown fence with language and prose", "Here you go:\n```\n" + CLEAN + "\n```\nDone!"),
    (
        "quoted names and single quotes",
        '("entity"<|>"Alice Smith"<|>\'person\'<|>Alice is an engineer.)##'
        '("entity"<|>"Acme Corp"<|>"organization"<|>Acme builds bridges.)##'
        '("relationship"<|>"Alice Smith"<|>"Acme Corp"<|>Works there.<|>work<|>"8")',
    ),
    (
        "bulleted records without record delimiters",
        '- ("entity"<|>Alice Smith<|>person<|>Alice is an engineer.)\n'
        '- ("entity"<|>Acme Corp<|>organization<|>Acme builds bridges.)\n'
        '1. ("relationship"<|>Alice Smith<|>Acme Corp<|>Works there.<|>work<|>8)',
    ),
    (
        "records glued on one line",
        '("entity"<|>Alice Smith<|>person<|>An engineer.)("entity"<|>Acme Corp<|>organization'
        '<|>A company.)("relationship"<|>Alice Smith<|>Acme Corp<|>Works there.<|>work<|>8)',
    ),
    (
        "newer one-row-per-line format",
        "entity<|#|>Alice Smith<|#|>Person<|#|>Alice is an engineer.\n"
        "entity<|#|>Acme Corp<|#|>Organization<|#|>Acme builds bridges.\n"
        "relation<|#|>Alice Smith<|#|>Acme Corp<|#|>employment, work<|#|>Alice works at Acme.\n"
        "<|COMPLETE|>",
    ),
    (
        "json object with lists",
        '{"entities": [{"name": "Alice Smith", "type": "person", "description": "An engineer."},'
        ' {"entity_name": "Acme Corp", "entity_type": "organization", "description": "A firm."}],'
        ' "relationships": [{"source": "Alice Smith", "target": "Acme Corp",'
        ' "description": "Works there.", "keywords": ["employment", "work"], "strength": 8}]}',
    ),
    (
        "json in a fence",
        '```json\n[{"entity": "Alice Smith", "type": "person", "description": "An engineer."},'
        ' {"entity": "Acme Corp", "type": "organization", "description": "A firm."},'
        ' {"src_id": "Alice Smith", "tgt_id": "Acme Corp", "description": "Works there.",'
        ' "keywords": "work", "weight": 8}]\n```',
    ),
    (
        "truncated json",
        '{"entities": [{"name": "Alice Smith", "type": "person", "description": "An engineer."},'
        ' {"name": "Acme Corp", "type": "organization", "description": "A firm."}],'
        ' "relationships": [{"source": "Alice Smith", "target": "Acme Corp", "description":'
        ' "Works there.", "keywords": "work", "strength": 8}, {"source": "Alice Smith", "tar',
    ),
    (
        "output cut off inside a later record",
        CLEAN.replace("<|COMPLETE|>", "")
        + '##\n("entity"<|>Bridge Forty<|>category<|>The Bridge Forty spans the ri',
    ),
    (
        "lower-case completion marker and content keywords",
        CLEAN.replace("<|COMPLETE|>", '("content_keywords"<|>work, bridges)##\n<|complete|>'),
    ),
    (
        "prose and junk lines between records",
        "Sure! Here are the entities:\n"
        + CLEAN.replace("##\n", "##\nNote: this is important\n##\n")
        + "\nI hope this helps.",
    ),
    (
        "pipe delimiters instead of <|>",
        "(entity|Alice Smith|person|An engineer.)\n"
        "(entity|Acme Corp|organization|A firm.)\n"
        "(relationship|Alice Smith|Acme Corp|Works there.|work|8)",
    ),
]


@pytest.mark.parametrize(("case", "output"), CORPUS, ids=[c for c, _ in CORPUS])
def test_parser_recovers_entities_and_relation_from_malformed_output(
    case: str, output: str
) -> None:
    result = parse(output)
    assert {"Alice Smith", "Acme Corp"} <= names(result), case
    assert pairs(result) >= {("Alice Smith", "Acme Corp")}, case
    relation = next(r for r in result.relations if r.target == "Acme Corp")
    assert relation.description, case
    assert "work" in relation.keywords, case
    assert all(e.source_id == "chunk-1" and e.file_path == "f.txt" for e in result.entities)


def test_canonical_record_fields_are_parsed_exactly() -> None:
    result = parse(CLEAN)
    alice = result.entities[0]
    assert (alice.name, alice.type, alice.description) == (
        "Alice Smith",
        "person",
        "Alice Smith is an engineer.",
    )
    (relation,) = result.relations
    assert relation.keywords == "employment, work"
    assert relation.description == "Alice works at Acme."
    assert relation.weight == 8.0


def test_newer_format_reads_keywords_before_description() -> None:
    (relation,) = parse(CORPUS[9][1]).relations
    assert relation.keywords == "employment, work"
    assert relation.description == "Alice works at Acme."
    assert relation.weight == 1.0


def test_names_keep_their_case_and_types_are_lower_cased() -> None:
    result = parse('("entity"<|>iPhone Team<|>ORGANIZATION<|>Makes phones.)')
    assert [(e.name, e.type) for e in result.entities] == [("iPhone Team", "organization")]


@pytest.mark.parametrize(
    ("strength", "weight"), [("8", 8.0), ("2.5", 2.5), ("high", 1.0), ("", 1.0), ("-3", 1.0)]
)
def test_relation_strength_becomes_weight_or_defaults_to_one(strength: str, weight: float) -> None:
    result = parse(f'("relationship"<|>A<|>B<|>linked<|>link<|>{strength})')
    assert [r.weight for r in result.relations] == [weight]


@pytest.mark.parametrize(
    "bad",
    [
        '("entity"<|><|>person<|>no name)',
        '("entity")',
        '("relationship"<|>Alice<|>Alice<|>self loop<|>self<|>3)',
        '("relationship"<|>Alice)',
        '("unicorn"<|>x<|>y<|>z)',
        '("entity"<|>' + "N" * 300 + "<|>person<|>too long a name)",
    ],
)
def test_unusable_records_are_skipped_and_the_rest_kept(bad: str) -> None:
    result = parse(bad + "##\n" + CLEAN)
    assert names(result) == {"Alice Smith", "Acme Corp"}
    assert pairs(result) == {("Alice Smith", "Acme Corp")}


@pytest.mark.parametrize(
    "garbage",
    ["", "I could not find any entities.", "<|COMPLETE|>", "```\n```", "{not json", "[1, 2, 3]"],
)
def test_output_without_records_gives_an_empty_extraction(garbage: str) -> None:
    result = parse(garbage)
    assert result.entities == [] and result.relations == []


def test_entity_with_truncated_description_is_kept_with_what_arrived() -> None:
    result = parse('("entity"<|>Bridge Forty<|>category<|>The Bridge Forty spans the ri')
    assert [(e.name, e.description) for e in result.entities] == [
        ("Bridge Forty", "The Bridge Forty spans the ri")
    ]


async def test_fake_models_damaged_output_parses_like_its_clean_output() -> None:
    text = "Alice Smith met Bob Jones in Paris. The Acme Corporation hired Alice Smith."
    prompt = build_extraction_prompt(text, ["person"], "English")
    clean = parse(await FakeChatModel().complete(prompt))
    damaged = parse(await FakeChatModel({"malformed_kinds": ["extract"]}).complete(prompt))
    assert (
        names(damaged) == names(clean) == {"Alice Smith", "Bob Jones", "Paris", "Acme Corporation"}
    )
    assert pairs(damaged) == pairs(clean)


def test_stored_extraction_round_trips() -> None:
    result = parse(CLEAN)
    record = extraction_to_record(result)
    again = extraction_from_record(record, chunk_id="chunk-1", file_path="f.txt")
    assert again == result
