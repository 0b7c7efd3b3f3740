"""Prompts for graph extraction, gleaning and description summaries (wording of this project).

The record format is upstream's, so outputs and caches stay comparable:

- entity:   ``("entity"<|>name<|>type<|>description)``
- relation: ``("relationship"<|>source<|>target<|>description<|>keywords<|>strength)``
- records are separated by ``##`` and the output ends with ``<|COMPLETE|>``.

Every prompt starts with a heading constant below. The headings let a test
double (``lightrag.llm.fake.FakeChatModel``) tell the prompts apart; they carry
no meaning for a real model beyond structure. The text to read sits between
``TEXT_HEADING`` and ``TEXT_END``; summary inputs are JSON lines between
``DESCRIPTIONS_HEADING`` and ``DESCRIPTIONS_END``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

__all__ = [
    "COMPLETION_DELIMITER",
    "DESCRIPTIONS_END",
    "DESCRIPTIONS_HEADING",
    "EXTRACTION_HEADING",
    "GLEANING_HEADING",
    "RECORD_DELIMITER",
    "SUMMARY_HEADING",
    "TEXT_END",
    "TEXT_HEADING",
    "TUPLE_DELIMITER",
    "build_extraction_prompt",
    "build_gleaning_prompt",
    "build_summary_prompt",
]

TUPLE_DELIMITER = "<|>"
RECORD_DELIMITER = "##"
COMPLETION_DELIMITER = "<|COMPLETE|>"

EXTRACTION_HEADING = "### Task: build knowledge-graph records from a text"
GLEANING_HEADING = "### Task: add the knowledge-graph records that were missed"
SUMMARY_HEADING = "### Task: merge several descriptions into one"
TEXT_HEADING = "### Text"
TEXT_END = "### End of text"
DESCRIPTIONS_HEADING = "### Descriptions (one JSON object per line)"
DESCRIPTIONS_END = "### End of descriptions"

_T = TUPLE_DELIMITER
_R = RECORD_DELIMITER
_C = COMPLETION_DELIMITER

_EXTRACTION_TEMPLATE = f"""{EXTRACTION_HEADING}

Read the text at the end and list what a knowledge graph should hold about it.

1. Entities. For every notable named thing, write one record:
   ("entity"{_T}<name>{_T}<type>{_T}<description>)
   - <name>: the name as the text spells it (keep its capitalisation).
   - <type>: exactly one of: {{entity_types}}. If none fits, write "other".
   - <description>: what the text says about it, in one or two full sentences.

2. Relationships. For every pair of entities from step 1 that the text
   connects, write one record:
   ("relationship"{_T}<source>{_T}<target>{_T}<description>{_T}<keywords>{_T}<strength>)
   - <source>, <target>: entity names exactly as written in step 1.
   - <description>: how and why the two are connected, according to the text.
   - <keywords>: a few comma-separated words naming the kind of connection.
   - <strength>: a number from 1 (weak) to 10 (strong).

Rules:
- Separate records with {_R} and put nothing else between them.
- Write descriptions and keywords in {{language}}; keep names as in the text.
- Use only facts stated in the text. Do not explain, do not use markdown.
- Finish with {_C} on its own.

Example of the shape (about a made-up text):
("entity"{_T}Mira Olsen{_T}person{_T}Mira Olsen is the engineer who designed the Tallbridge.){_R}
("entity"{_T}Tallbridge{_T}category{_T}The Tallbridge is a footbridge over the Aska river.){_R}
("relationship"{_T}Mira Olsen{_T}Tallbridge{_T}Mira Olsen designed the Tallbridge.{_T}design, engineering{_T}8){_R}
{_C}

{TEXT_HEADING}
{{input_text}}
{TEXT_END}
"""

_GLEANING_TEMPLATE = f"""{GLEANING_HEADING}

Some entities or relationships in the same text were left out of your last
answer, or were written in the wrong shape. Write only those records now, in
exactly the same format ({_R} between records, {_C} at the end). Do not repeat
records you already gave. If nothing is missing, answer only {_C}.
"""

_SUMMARY_TEMPLATE = f"""{SUMMARY_HEADING}

The descriptions below were collected from different passages about the same
{{kind}}: {{name}}.
Write one description in {{language}}, in the third person, that keeps every
distinct fact, resolves repetitions, and names {{name}} at the start.
Keep it under about {{length}} tokens. Answer with the description only.

{DESCRIPTIONS_HEADING}
{{descriptions}}
{DESCRIPTIONS_END}
"""


def build_extraction_prompt(text: str, entity_types: Sequence[str], language: str) -> str:
    """The extraction prompt for one chunk's ``text``."""
    types = ", ".join(t.strip() for t in entity_types if t.strip()) or "other"
    return _EXTRACTION_TEMPLATE.format(entity_types=types, language=language, input_text=text)


def build_gleaning_prompt() -> str:
    """The follow-up prompt sent after the extraction exchange, as the next user turn."""
    return _GLEANING_TEMPLATE


def build_summary_prompt(
    name: str, descriptions: Sequence[str], *, kind: str, language: str, length: int
) -> str:
    """The prompt merging ``descriptions`` of an entity or relation (``kind``) into one."""
    lines = "\n".join(
        json.dumps({"description": text}, ensure_ascii=False) for text in descriptions
    )
    return _SUMMARY_TEMPLATE.format(
        kind=kind, name=name, language=language, length=length, descriptions=lines
    )
