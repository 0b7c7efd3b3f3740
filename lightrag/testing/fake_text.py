"""The fake chat model's "understanding" of text: capitalised phrases and co-occurrence.

Names are capitalised phrases (leading function words dropped); two names in one
sentence are related. Deterministic, so tests can state what the fake extracts
(``fake_graph_of``) and which keywords it finds in a question (``fake_keywords_of``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["SENTENCE_END", "FakeGraph", "fake_graph_of", "fake_keywords_of"]

_PHRASE = re.compile(r"[A-Z][\w'’-]*(?:[ \t]+[A-Z][\w'’-]*)*")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_LEADING_WORDS = frozenset(
    re.findall(
        r"\w+",
        "A An And As At But By For From He Her His I If In It Its My Of On Or Our She So That "
        "The Their Then There These They This Those To We When While With You Your",
    )
)
_TYPES = ("person", "organization", "geo", "event", "category")
_MAX_PER_SENTENCE = 6


@dataclass(frozen=True, slots=True)
class FakeGraph:
    """What the fake extracts from a text."""

    entities: list[tuple[str, str, str]]  # (name, type, description)
    relations: list[tuple[str, str, str, str, float]]  # (src, tgt, description, keywords, weight)


def _names_in(sentence: str) -> list[str]:
    names: list[str] = []
    for match in _PHRASE.finditer(sentence):
        words = match.group(0).split()
        while words and words[0] in _LEADING_WORDS:
            words.pop(0)
        name = " ".join(words)
        if name and name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    return names


def fake_graph_of(text: str) -> FakeGraph:
    """What the fake extracts from ``text`` (exposed so tests can state expectations)."""
    entities: dict[str, tuple[str, str, str]] = {}
    pair_sentences: dict[tuple[str, str], list[str]] = {}
    for sentence in (s.strip() for s in SENTENCE_END.split(text)):
        if not sentence:
            continue
        names = _names_in(sentence)
        for name in names:
            key = name.casefold()
            if key not in entities:
                digest = hashlib.sha1(key.encode()).digest()
                entity_type = _TYPES[digest[0] % len(_TYPES)]
                entities[key] = (name, entity_type, f"{name} is mentioned: {sentence[:160]}")
        local = [entities[n.casefold()][0] for n in names[:_MAX_PER_SENTENCE]]
        for i, first in enumerate(local):
            for second in local[i + 1 :]:
                pair = (first, second) if first.casefold() < second.casefold() else (second, first)
                pair_sentences.setdefault(pair, []).append(sentence)
    relations = [
        (
            a,
            b,
            f"{a} and {b} appear together: {sents[0][:160]}",
            "co-occurrence",
            float(min(10, len(sents))),
        )
        for (a, b), sents in pair_sentences.items()
    ]
    return FakeGraph(list(entities.values()), relations)


_STOPWORDS = frozenset(word.casefold() for word in _LEADING_WORDS) | frozenset(
    re.findall(
        r"\w+",
        "about are between did does how is tell was were what where which who whom whose why",
    )
)


def fake_keywords_of(query: str) -> tuple[list[str], list[str]]:
    """What the fake answers to the keyword prompt: ``(high, low)``. Low-level keywords
    are the capitalised phrases of ``query`` (leading question words dropped); high-level
    ones its other words longer than three letters."""
    low: list[str] = []
    for name in _names_in(query):
        words = name.split()
        while words and words[0].casefold() in _STOPWORDS:
            words.pop(0)
        if words:
            low.append(" ".join(words))
    named = {word.casefold() for name in low for word in name.split()}
    high: list[str] = []
    for word in re.findall(r"\w+", query):
        folded = word.casefold()
        fresh = folded not in {h.casefold() for h in high}
        if len(word) > 3 and folded not in named and folded not in _STOPWORDS and fresh:
            high.append(word.lower())
    return high, low
