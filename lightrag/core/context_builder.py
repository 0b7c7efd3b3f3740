"""The answer context: entities, relations and chunks as JSON lines, within token budgets.

``max_total_tokens`` bounds the whole prompt: the system prompt around the context,
the query, the conversation history and ``TOKEN_SAFETY_MARGIN``. Out of what that
leaves, entities get at most ``max_entity_tokens``, then relations at most
``max_relation_tokens``, then chunks (with their reference lines) the rest. A section's
cost is the tokens of its lines plus one per joining newline, which is never less than
the tokens of the section as joined (lines are JSON objects: a line break after ``}``
merges with it, never with the next line's ``{``). Items are kept in ranking order and
each list is cut before the first item that would pass its budget. Chunks are numbered
by the document they come from (``reference_id``), and the reference list maps those
numbers to file paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lightrag.core.query_prompts import ANSWER_SYSTEM_PROMPT, CONTEXT_TEMPLATE, USER_PROMPT_SECTION
from lightrag.core.tokenizer import Tokenizer
from lightrag.vocabulary.types import GRAPH_FIELD_SEP, Message, QueryParam, Reference

__all__ = [
    "TOKEN_SAFETY_MARGIN",
    "BuiltContext",
    "build_context",
    "render_system_prompt",
]

TOKEN_SAFETY_MARGIN = 100
"""Tokens kept free for chat-template overhead of the model's message format."""

UNKNOWN_SOURCE = "unknown_source"


@dataclass(slots=True)
class BuiltContext:
    """The context text and the items that made it in (chunks carry ``reference_id``)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[dict[str, Any]] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)


def render_system_prompt(context_text: str, param: QueryParam) -> str:
    """The answer system prompt around ``context_text`` for ``param``'s response type and
    user instructions."""
    extra = (param.user_prompt or "").strip()
    section = USER_PROMPT_SECTION.format(user_prompt=extra) if extra else ""
    return ANSWER_SYSTEM_PROMPT.format(
        response_type=param.response_type, user_prompt_section=section, context=context_text
    )


def _json_line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def _readable(description: Any) -> str:
    """A stored description (parts joined by ``GRAPH_FIELD_SEP``) as lines for the model."""
    return str(description or "").replace(GRAPH_FIELD_SEP, "\n")


def _entity_line(entity: dict[str, Any]) -> str:
    return _json_line(
        {
            "entity": entity.get("entity_name", ""),
            "type": entity.get("entity_type", ""),
            "description": _readable(entity.get("description")),
        }
    )


def _relation_line(relation: dict[str, Any]) -> str:
    return _json_line(
        {
            "entity1": relation.get("src_id", ""),
            "entity2": relation.get("tgt_id", ""),
            "description": _readable(relation.get("description")),
        }
    )


def _keep_within(
    items: Sequence[dict[str, Any]],
    render: Callable[[dict[str, Any]], str],
    budget: int,
    tokenizer: Tokenizer,
) -> tuple[list[dict[str, Any]], list[str], int]:
    """The leading items whose lines fit in ``budget`` tokens, their lines, tokens used."""
    kept: list[dict[str, Any]] = []
    lines: list[str] = []
    used = 0
    for item in items:
        line = render(item)
        cost = tokenizer.count(line) + 1  # the newline joining lines
        if used + cost > budget:
            break
        used += cost
        kept.append(item)
        lines.append(line)
    return kept, lines, used


def _source_key(chunk: dict[str, Any]) -> str:
    return str(chunk.get("full_doc_id") or chunk.get("file_path") or UNKNOWN_SOURCE)


def _fill(entities: list[str], relations: list[str], chunks: list[str], refs: list[str]) -> str:
    return CONTEXT_TEMPLATE.format(
        entities="\n".join(entities),
        relations="\n".join(relations),
        chunks="\n".join(chunks),
        references="\n".join(refs),
    )


def build_context(
    *,
    entities: Sequence[dict[str, Any]],
    relations: Sequence[dict[str, Any]],
    chunks: Sequence[dict[str, Any]],
    query: str,
    history: Sequence[Message],
    param: QueryParam,
    tokenizer: Tokenizer,
) -> BuiltContext:
    """Fit ranked entities, relations and chunks into ``param``'s budgets.

    ``chunks`` are ``{chunk_id, content, file_path, full_doc_id}`` dicts, best first.
    Returns the context text plus the kept items; kept chunks come back as
    ``{reference_id, content, file_path, chunk_id}`` and each reference carries the
    contents of its chunks that made it in (``content``).
    """
    # the prompt around the context (sections empty), the query and the history
    skeleton = render_system_prompt(_fill([], [], [], []), param)
    fixed = (
        tokenizer.count(skeleton)
        + tokenizer.count(query)
        + sum(tokenizer.count(message["content"]) + 4 for message in history)
        + TOKEN_SAFETY_MARGIN
    )
    remaining = max(0, param.max_total_tokens - fixed)
    kept_entities, entity_lines, entity_tokens = _keep_within(
        entities, _entity_line, min(param.max_entity_tokens, remaining), tokenizer
    )
    remaining -= entity_tokens
    kept_relations, relation_lines, relation_tokens = _keep_within(
        relations, _relation_line, min(param.max_relation_tokens, remaining), tokenizer
    )
    remaining -= relation_tokens

    reference_ids: dict[str, str] = {}
    references: list[Reference] = []
    contents: dict[str, list[str]] = {}
    reference_lines: list[str] = []
    kept_chunks: list[dict[str, Any]] = []
    chunk_lines: list[str] = []
    for chunk in chunks:
        source = _source_key(chunk)
        new_source = source not in reference_ids
        reference_id = str(len(reference_ids) + 1) if new_source else reference_ids[source]
        file_path = str(chunk.get("file_path") or UNKNOWN_SOURCE)
        line = _json_line({"reference_id": reference_id, "content": chunk.get("content", "")})
        reference_line = f"[{reference_id}] {file_path}"
        cost = tokenizer.count(line) + 1
        if new_source:
            cost += tokenizer.count(reference_line) + 1
        if cost > remaining:
            break
        remaining -= cost
        if new_source:
            reference_ids[source] = reference_id
            doc_id = chunk.get("full_doc_id")
            references.append(
                Reference(
                    reference_id=reference_id,
                    file_path=file_path,
                    doc_id=str(doc_id) if doc_id else None,
                )
            )
            reference_lines.append(reference_line)
        contents.setdefault(reference_id, []).append(str(chunk.get("content", "")))
        chunk_lines.append(line)
        kept_chunks.append(
            {
                "reference_id": reference_id,
                "content": chunk.get("content", ""),
                "file_path": file_path,
                "chunk_id": chunk.get("chunk_id", ""),
            }
        )
    for reference in references:
        reference.content = contents.get(reference.reference_id, [])
    return BuiltContext(
        text=_fill(entity_lines, relation_lines, chunk_lines, reference_lines),
        entities=kept_entities,
        relations=kept_relations,
        chunks=kept_chunks,
        references=references,
    )
