"""Identifiers and name normalisation shared by every engine part and storage.

Contracts (the engine writes and reads these; backends store them opaquely):

- document id: ``doc-`` + md5(content) unless the caller gives one.
- chunk id: ``chunk-`` + md5(doc id + ":" + content), so equal text in two documents
  yields two chunks.
- entity identity is case-insensitive: ``entity_key(name)``; the graph node id
  is a display form (``normalize_entity_name``), never upper-cased: of the spellings
  seen, the least in code-point order (``display_name``), so which one shows does
  not depend on the order documents were processed in.
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
    "display_name",
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
# a word broken at a line end with a hyphen, as PDF text keeps it: "ele-\n  ment"
_LINE_BREAK_HYPHEN = re.compile(r"([^\W\d_]+)-[^\S\r\n]*(?:\r\n|\r|\n)\s*([^\W\d_]+)")
_QUOTES = "\"'`“”‘’«»"


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def doc_id(content: str) -> str:
    return "doc-" + md5(content)


def chunk_id(document_id: str, content: str) -> str:
    return "chunk-" + md5(f"{document_id}:{content}")


def _join_hyphenated(match: re.Match[str]) -> str:
    """One word again (``"ele-\nment"``), except a capitalised compound (``"Jean-\nPaul"``)."""
    head, tail = match.group(1), match.group(2)
    if head.islower() and tail.isupper():
        return head + tail.lower()  # "ele-\nMENT": small capitals in the PDF text
    if tail[0].islower() or (head.isupper() and tail.isupper()):
        return head + tail
    return f"{head}-{tail}"


def normalize_entity_name(name: str) -> str:
    """Display form: NFC; a word hyphenated across a line break joined (``"ele- \n
    ment"`` -> ``"element"``); whitespace runs (line breaks, indentation) collapsed to
    one space; surrounding quotes/brackets stripped."""
    text = unicodedata.normalize("NFC", name)
    text = _LINE_BREAK_HYPHEN.sub(_join_hyphenated, text)
    text = _SPACE.sub(" ", text).strip()
    previous = None
    while previous != text:
        previous = text
        text = text.strip(_QUOTES + "()[]<>*#").strip()
    return text


def display_name(*names: str) -> str:
    """The display form shown for spellings ``names`` of one entity: of their
    normalised forms, the least in code-point order (``"PATH"`` over ``"path"``),
    whatever order they came in."""
    return min(normalize_entity_name(name) for name in names)


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
