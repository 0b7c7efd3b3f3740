"""Identifiers and name normalisation shared by every engine part and storage.

Contracts (the engine writes and reads these; backends store them opaquely):

- document id: ``doc-`` + md5(content) unless the caller gives one.
- chunk id: ``chunk-`` + md5(doc id + ":" + content), so equal text in two documents
  yields two chunks.
- entity identity is case-insensitive: ``entity_key(name)``; the graph node id
  is the display form first seen (``normalize_entity_name``), never upper-cased.
- entity vector id: ``ent-`` + md5(entity_key(name)).
- relation identity is undirected and case-insensitive: ``relation_key(a, b)``, the two
  entity keys sorted; its vector records name the endpoints in that order
  (``ordered_endpoints``).
- relation vector id: ``rel-`` + md5 of ``relation_key``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = [
    "chunk_id",
    "doc_id",
    "entity_key",
    "entity_vector_id",
    "md5",
    "normalize_entity_name",
    "ordered_endpoints",
    "relation_key",
    "relation_vector_id",
]

_SPACE = re.compile(r"\s+")
_QUOTES = "\"'`“”‘’«»"


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def doc_id(content: str) -> str:
    return "doc-" + md5(content)


def chunk_id(document_id: str, content: str) -> str:
    return "chunk-" + md5(f"{document_id}:{content}")


def normalize_entity_name(name: str) -> str:
    """Display form: NFC, whitespace collapsed, surrounding quotes/brackets stripped."""
    text = unicodedata.normalize("NFC", name)
    text = _SPACE.sub(" ", text).strip()
    previous = None
    while previous != text:
        previous = text
        text = text.strip(_QUOTES + "()[]<>*#").strip()
    return text


def entity_key(name: str) -> str:
    """Case-insensitive identity of an entity name."""
    return normalize_entity_name(name).casefold()


def entity_vector_id(name: str) -> str:
    return "ent-" + md5(entity_key(name))


def relation_key(source: str, target: str) -> tuple[str, str]:
    """Undirected, case-insensitive identity of a relation: the endpoints' keys, sorted."""
    first, second = sorted((entity_key(source), entity_key(target)))
    return first, second


def ordered_endpoints(source: str, target: str) -> tuple[str, str]:
    """``(source, target)`` as given (display forms kept), swapped when ``target`` comes
    first in entity-key order: the one order a relation's records name its endpoints in."""
    return (target, source) if entity_key(target) < entity_key(source) else (source, target)


def relation_vector_id(source: str, target: str) -> str:
    first, second = relation_key(source, target)
    return "rel-" + md5(f"{first}\x1f{second}")
