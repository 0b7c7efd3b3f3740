"""Query keywords from a spaCy parse: themes (high level) and specifics (low level)."""

from __future__ import annotations

from spacy.tokens import Doc, Span

__all__ = ["keywords_from_doc"]

_REQUEST_VERBS = {"tell", "explain", "describe", "show", "give", "list", "know", "find", "mean"}
_SKIP_POS = {"DET", "PRON", "PUNCT", "SPACE", "AUX", "ADP", "CCONJ", "SCONJ", "PART"}


def _phrase(span: Span) -> str:
    tokens = list(span)
    while tokens and (tokens[0].pos_ in _SKIP_POS or tokens[0].is_stop):
        tokens.pop(0)
    while tokens and (tokens[-1].pos_ in _SKIP_POS or tokens[-1].tag_ == "POS"):
        tokens.pop()
    words = [
        (token.text if token.pos_ == "PROPN" else token.lower_) + token.whitespace_
        for token in tokens
    ]
    return "".join(words).strip()


def _add(target: list[str], seen: set[str], value: str) -> None:
    marker = value.casefold()
    if len(value) > 1 and marker not in seen:
        seen.add(marker)
        target.append(value)


def keywords_from_doc(doc: Doc) -> tuple[list[str], list[str]]:
    """``(high_level, low_level)`` keywords of a parsed query.

    High level: the query's noun phrases (its themes, determiners stripped) and
    its main verbs (the action asked about).
    Low level: named entities, then proper and common nouns (specific names and
    details). When the query has no noun at all, its content words serve as
    low-level keywords so that retrieval still has something to match.
    """
    high: list[str] = []
    low: list[str] = []
    seen_high: set[str] = set()
    seen_low: set[str] = set()
    for chunk in doc.noun_chunks:
        if chunk.root.pos_ in {"NOUN", "PROPN"}:
            _add(high, seen_high, _phrase(chunk))
    for token in doc:
        main_verb = token.dep_ in {"ROOT", "relcl", "xcomp"}
        if token.pos_ == "VERB" and main_verb and token.lemma_.lower() not in _REQUEST_VERBS:
            _add(high, seen_high, token.lower_)
    in_entity: set[int] = set()
    for ent in doc.ents:
        _add(low, seen_low, _phrase(ent) or ent.text)
        in_entity.update(range(ent.start, ent.end))
    for token in doc:
        if token.i in in_entity and token.pos_ == "PROPN":
            continue
        if token.pos_ in {"PROPN", "NOUN"} and not token.is_stop and token.is_alpha:
            _add(low, seen_low, token.text if token.pos_ == "PROPN" else token.lemma_.lower())
    if not high and not low:
        for token in doc:
            if token.is_alpha and not token.is_stop:
                _add(low, seen_low, token.lower_)
    return high, low
