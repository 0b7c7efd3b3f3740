"""Graph extraction per chunk: prompt, gleaning rounds, and a tolerant record parser.

The parser accepts what real (often small, local) models emit: the upstream
record format (``("entity"<|>...)`` joined by ``##``), the newer one-row-per-line
``<|#|>`` format, records missing parentheses or quotes, extra whitespace,
markdown fences and bullets, JSON objects instead of records, and output cut
off mid-record. A bad record is skipped; it never fails the chunk.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from typing import Any

from lightrag.core import extraction_prompts as prompts
from lightrag.core.context import EngineContext
from lightrag.core.llm_calls import PRIORITY, InsertLLM
from lightrag.vocabulary.ids import entity_key, normalize_entity_name
from lightrag.vocabulary.models import NativeRagModel
from lightrag.vocabulary.types import (
    ChunkRecord,
    ExtractedEntity,
    ExtractedRelation,
    Extraction,
    Message,
)

__all__ = [
    "GraphExtractor",
    "extraction_from_record",
    "extraction_to_record",
    "parse_extraction",
]

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 256
_NEW_TUPLE = re.compile(r"<\s*\|\s*#\s*\|\s*>")
_OLD_TUPLE = re.compile(r"<\s*\|\s*>")
_COMPLETE = re.compile(r"<\s*\|?\s*COMPLETE\s*\|?\s*>", re.IGNORECASE)
_FENCE = re.compile(r"^\s*```[\w-]*\s*$", re.MULTILINE)
_RECORD_SPLIT = re.compile(
    r"##+|\n|(?<=\))\s*(?=\(\s*[\"']?(?:entity|relationship|relation)\b)", re.IGNORECASE
)
_BULLET = re.compile(r"^(?:[-*•]|\d+[.)])\s+")
_KIND_NAMES = {
    "entity": "entity",
    "node": "entity",
    "relationship": "relation",
    "relation": "relation",
    "edge": "relation",
}
_FIELD_JUNK = " \t\r\n\"'`“”‘’"


def _clean_field(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(_FIELD_JUNK)


def _weight(text: str) -> float | None:
    match = re.fullmatch(r"\s*\(?\s*([-+]?\d+(?:\.\d+)?)\s*\)?\s*", text)
    if not match:
        return None
    value = float(match.group(1))
    return value if math.isfinite(value) and value >= 0 else None


def _entity_name(raw: str) -> str | None:
    # normalised from the raw field: a hyphen at a line break is only visible before the
    # whitespace is collapsed
    name = normalize_entity_name(raw)
    return name if name and len(name) <= MAX_NAME_LENGTH else None


def _entity_type(raw: str) -> str:
    kind = _clean_field(raw).strip("()[]<>").lower()
    return re.sub(r"\s+", "_", kind) or "unknown"


def _make_entity(fields: list[str], chunk_id: str, file_path: str) -> ExtractedEntity | None:
    if len(fields) < 2:
        return None
    name = _entity_name(fields[0])
    if name is None:
        return None
    entity_type = _entity_type(fields[1]) if len(fields) > 1 else "unknown"
    description = _clean_field(" ".join(fields[2:])) if len(fields) > 2 else ""
    return ExtractedEntity(name, entity_type, description, chunk_id, file_path)


def _make_relation(
    fields: list[str], chunk_id: str, file_path: str, *, keywords_first: bool
) -> ExtractedRelation | None:
    if len(fields) < 3:
        return None
    source, target = _entity_name(fields[0]), _entity_name(fields[1])
    if source is None or target is None or entity_key(source) == entity_key(target):
        return None
    rest = [_clean_field(f) for f in fields[2:]]
    weight = _weight(rest[-1]) if len(rest) > 1 else None
    if weight is not None:
        rest = rest[:-1]
    if keywords_first and len(rest) >= 2:
        keywords, description = rest[0], " ".join(rest[1:])
    elif len(rest) >= 2:
        description, keywords = " ".join(rest[:-1]), rest[-1]
    else:
        description, keywords = (rest[0] if rest else ""), ""
    return ExtractedRelation(
        source, target, description, keywords, weight if weight else 1.0, chunk_id, file_path
    )


def _records(text: str) -> Iterator[tuple[list[str], bool]]:
    """Each candidate record as (fields including the kind, uses the newer format)."""
    for raw in _RECORD_SPLIT.split(text):
        record = _BULLET.sub("", raw.strip()).strip()
        if not record:
            continue
        newer = bool(_NEW_TUPLE.search(record))
        record = _OLD_TUPLE.sub("<|>", _NEW_TUPLE.sub("<|>", record))
        if record.startswith("("):
            record = record[1:]
        if record.endswith(")") and record.count("(") < record.count(")"):
            record = record[:-1]
        if "<|>" in record:
            fields = record.split("<|>")
        elif "|" in record:
            fields = record.split("|")
        else:
            continue
        yield fields, newer


def _parse_records(text: str, chunk_id: str, file_path: str) -> tuple[Extraction, int]:
    result = Extraction()
    rejected = 0
    for fields, newer in _records(text):
        kind = _KIND_NAMES.get(_clean_field(fields[0]).strip("()").lower())
        if kind is None:
            if _clean_field(fields[0]).strip("()").lower() != "content_keywords":
                rejected += 1
            continue
        if kind == "entity":
            entity = _make_entity(fields[1:], chunk_id, file_path)
            if entity is None:
                rejected += 1
            else:
                result.entities.append(entity)
        else:
            relation = _make_relation(fields[1:], chunk_id, file_path, keywords_first=newer)
            if relation is None:
                rejected += 1
            else:
                result.relations.append(relation)
    return result, rejected


_JSON_OBJECT = re.compile(r"\{[^{}\[\]]*\}")
_NAME_KEYS = ("entity_name", "name", "entity", "id", "label")
_TYPE_KEYS = ("entity_type", "type", "category", "label_type")
_SRC_KEYS = ("source", "src", "src_id", "source_entity", "from", "head")
_TGT_KEYS = ("target", "tgt", "tgt_id", "target_entity", "to", "tail")
_DESC_KEYS = ("description", "desc", "summary", "relationship_description")
_KW_KEYS = ("keywords", "relationship_keywords", "keyword", "tags")
_WEIGHT_KEYS = ("strength", "weight", "relationship_strength", "score")


def _pick(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    lowered = {str(k).lower(): v for k, v in obj.items()}
    return next((lowered[k] for k in keys if lowered.get(k) not in (None, "")), None)


def _json_objects(text: str) -> list[dict[str, Any]]:
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return []
    try:
        data = json.loads(text[start:])
    except json.JSONDecodeError:
        data = None
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(_pick(node, _NAME_KEYS + _SRC_KEYS), (str, int, float)):
                found.append(node)
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    if data is not None:
        walk(data)
        return found
    # truncated or otherwise broken JSON: salvage every complete flat object
    for match in _JSON_OBJECT.finditer(text):
        try:
            walk(json.loads(match.group(0)))
        except json.JSONDecodeError:
            continue
    return found


def _parse_json(text: str, chunk_id: str, file_path: str) -> tuple[Extraction, int]:
    result = Extraction()
    rejected = 0
    for obj in _json_objects(text):
        source, target = _pick(obj, _SRC_KEYS), _pick(obj, _TGT_KEYS)
        description = str(_pick(obj, _DESC_KEYS) or "")
        if source is not None and target is not None:
            keywords = _pick(obj, _KW_KEYS) or ""
            if isinstance(keywords, list):
                keywords = ", ".join(str(k) for k in keywords)
            weight = _weight(str(_pick(obj, _WEIGHT_KEYS) or ""))
            fields = [str(source), str(target), description, str(keywords), str(weight or 1.0)]
            relation = _make_relation(fields, chunk_id, file_path, keywords_first=False)
            if relation is None:
                rejected += 1
            else:
                result.relations.append(relation)
            continue
        name = _pick(obj, _NAME_KEYS)
        fields = [str(name or ""), str(_pick(obj, _TYPE_KEYS) or "unknown"), description]
        entity = _make_entity(fields, chunk_id, file_path)
        if entity is None:
            rejected += 1
        else:
            result.entities.append(entity)
    return result, rejected


def parse_extraction(text: str, *, chunk_id: str, file_path: str = "") -> Extraction:
    """Entities and relations found in a model's extraction output.

    Never raises on malformed output: unusable records are skipped (and counted
    in a debug log line). Names are normalised (not upper-cased); types are
    lower-cased; relations to themselves are dropped; a missing or invalid
    strength counts as 1.0.
    """
    body = _COMPLETE.sub("\n", _FENCE.sub("\n", text))
    result, rejected = _parse_records(body, chunk_id, file_path)
    if not result.entities and not result.relations and ("{" in body or "[" in body):
        result, rejected = _parse_json(body, chunk_id, file_path)
    if rejected:
        logger.debug("chunk %s: skipped %d unusable extraction records", chunk_id, rejected)
    return result


def extraction_to_record(extraction: Extraction) -> dict[str, list[list[Any]]]:
    """A compact JSON form of one chunk's extraction (kept with the chunk for rebuilds)."""
    return {
        "entities": [[e.name, e.type, e.description] for e in extraction.entities],
        "relations": [
            [r.source, r.target, r.description, r.keywords, r.weight] for r in extraction.relations
        ],
    }


def extraction_from_record(data: dict[str, Any], *, chunk_id: str, file_path: str) -> Extraction:
    """The inverse of ``extraction_to_record``."""
    return Extraction(
        entities=[
            ExtractedEntity(str(n), str(t), str(d), chunk_id, file_path)
            for n, t, d in data.get("entities", [])
        ],
        relations=[
            ExtractedRelation(str(s), str(t), str(d), str(k), float(w), chunk_id, file_path)
            for s, t, d, k, w in data.get("relations", [])
        ],
    )


class GraphExtractor:
    """Extracts one chunk's entities and relations with the configured chat model.

    A ``NativeRagModel`` is asked directly (``extract_graph``); any other chat
    model gets the extraction prompt plus up to ``max_gleaning`` follow-up
    rounds (stopping early when a round adds nothing). Model answers are cached
    by prompt content, so re-extracting the same text costs no model call.
    """

    def __init__(self, ctx: EngineContext, llm: InsertLLM) -> None:
        self.ctx = ctx
        self.llm = llm

    async def extract(self, chunk_id: str, chunk: ChunkRecord) -> Extraction:
        """Raises the model's ``ModelError`` (or ``CancelledByRequest``) on failure."""
        model = self.ctx.llm
        if isinstance(model, NativeRagModel):
            async with self.llm.slots.slot(PRIORITY["extract"]):
                return await model.extract_graph(
                    chunk["content"], chunk_id=chunk_id, file_path=chunk["file_path"]
                )
        config = self.ctx.config
        prompt = prompts.build_extraction_prompt(
            chunk["content"], config.entity_types, config.language
        )
        answer = await self.llm.complete("extract", prompt)
        result = parse_extraction(answer, chunk_id=chunk_id, file_path=chunk["file_path"])
        history: list[Message] = [
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": answer},
        ]
        follow_up = prompts.build_gleaning_prompt()
        for _ in range(config.max_gleaning):
            more = await self.llm.complete("extract", follow_up, history, kind="glean")
            found = parse_extraction(more, chunk_id=chunk_id, file_path=chunk["file_path"])
            if not found.entities and not found.relations:
                break
            result.entities.extend(found.entities)
            result.relations.extend(found.relations)
            history += [
                {"role": "user", "content": follow_up},
                {"role": "assistant", "content": more},
            ]
        return result
