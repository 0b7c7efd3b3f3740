"""Extractive text selection: sentence splitting, lexical similarity, central and
non-redundant sentence picking within a length budget.

Pure functions on strings and numpy arrays; no model is loaded here. The
scores are deterministic (no randomness, ties broken by position).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

from lightrag.vocabulary.types import GRAPH_FIELD_SEP

__all__ = [
    "TfIdf",
    "pick_sentences",
    "split_sentences",
    "summarize",
    "terms",
    "tfidf",
]

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_LINE_BREAKS = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)]|#+)\s)")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_MIN_WORDS = 3


# Every extractive answer splits and reads the same retrieved chunks again (answers to
# different questions share chunks): both are memoised, bounded, on the text. Without
# it they took 15% of the interpreter with 20 clients querying
# (benchmarks/query_under_load.py); the caches hold a few MB at most.
_SENTENCE_CACHE = 2048
_TERMS_CACHE = 8192


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (paragraphs, list items and sentence ends), whitespace folded.

    Fragments under three words are dropped: they carry no statement to quote.
    """
    return list(_sentences(text))


@lru_cache(maxsize=_SENTENCE_CACHE)
def _sentences(text: str) -> tuple[str, ...]:
    sentences: list[str] = []
    for block in _LINE_BREAKS.split(text.replace(GRAPH_FIELD_SEP, "\n\n")):
        for piece in _SENTENCE_END.split(block):
            sentence = " ".join(piece.split())
            if len(_WORD.findall(sentence)) >= _MIN_WORDS:
                sentences.append(sentence)
    return tuple(sentences)


def _stem(word: str) -> str:
    # Light plural folding so "graphs" meets "graph"; deliberately conservative.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Content words of ``text``, lower-cased, stop words dropped, plurals folded."""
    return list(_terms(text))


@lru_cache(maxsize=_TERMS_CACHE)
def _terms(text: str) -> tuple[str, ...]:
    words = (word.lower() for word in _WORD.findall(text))
    return tuple(_stem(word) for word in words if word not in STOP_WORDS and len(word) > 1)


@lru_cache(maxsize=_TERMS_CACHE)
def _bag(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``text``'s distinct terms as 64-bit keys (blake2b: stable across processes, unlike
    ``hash``) and their sublinear term frequencies ``1 + log(count)``."""
    counts = Counter(_terms(text))
    keys = [
        int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "little")
        for term in counts
    ]
    frequencies = [1.0 + math.log(count) for count in counts.values()]
    return np.array(keys, dtype=np.uint64), np.array(frequencies, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class TfIdf:
    """TF-IDF of some texts, sparse: entry ``k`` is term ``column[k]`` of text ``row[k]``,
    weighted ``weight[k]`` (each text's weights L2-normalised); ``idf`` per term."""

    texts: int
    row: np.ndarray
    column: np.ndarray
    weight: np.ndarray
    idf: np.ndarray

    def dense(self, which: Sequence[int] | None = None) -> np.ndarray:
        """The rows of the texts ``which`` (all by default), one column per term:
        ``dense() @ dense().T`` is the texts' cosine similarity."""
        chosen = np.arange(self.texts) if which is None else np.asarray(which, dtype=np.int64)
        position = np.full(self.texts, -1, dtype=np.int64)
        position[chosen] = np.arange(len(chosen))
        kept = position[self.row] >= 0
        matrix = np.zeros((len(chosen), len(self.idf)))
        matrix[position[self.row[kept]], self.column[kept]] = self.weight[kept]
        return matrix


def tfidf(texts: Sequence[str]) -> TfIdf:
    """The TF-IDF of ``texts`` (idf smoothed: ``log((1 + n) / (1 + df)) + 1``), computed on
    arrays: each text's terms are read once and kept (``_bag``)."""
    bags = [_bag(text) for text in texts]
    sizes = np.array([len(keys) for keys, _ in bags], dtype=np.int64)
    keys = np.concatenate([keys for keys, _ in bags]) if bags else np.zeros(0, np.uint64)
    frequency = np.concatenate([tf for _, tf in bags]) if bags else np.zeros(0)
    row = np.repeat(np.arange(len(texts)), sizes)
    vocabulary, column = np.unique(keys, return_inverse=True)
    documents = np.bincount(column, minlength=len(vocabulary))  # a key once per text
    idf = np.log((1 + len(texts)) / (1 + documents)) + 1.0
    weight = frequency * idf[column]
    norms = np.sqrt(np.bincount(row, weight * weight, minlength=len(texts)))
    weight = weight / np.clip(norms, 1e-12, None)[row]
    return TfIdf(len(texts), row, column, weight, idf)


def pick_sentences(
    scores: np.ndarray,
    similarity: np.ndarray,
    lengths: Sequence[int],
    *,
    max_chars: int,
    max_count: int,
    redundancy: float = 0.8,
    diversity: float = 0.3,
) -> list[int]:
    """Greedy maximal-marginal-relevance selection.

    Repeatedly takes the sentence with the best ``score - diversity * (max
    similarity to those taken)``, skipping near-duplicates (similarity above
    ``redundancy``) and sentences that no longer fit ``max_chars``. Returns
    indices in the order taken; the first pick always fits (it is cut later).
    """
    chosen: list[int] = []
    used = 0
    values = np.asarray(scores, dtype=np.float64)
    overlap = np.zeros(len(values))  # each sentence's highest similarity to those taken
    remaining = np.ones(len(values), dtype=bool)
    while remaining.any() and len(chosen) < max_count:
        candidates = np.where(
            remaining & (overlap <= redundancy), values - diversity * overlap, -math.inf
        )
        best = int(np.argmax(candidates))  # the first of equal values: ties go by position
        if candidates[best] == -math.inf:
            break
        remaining[best] = False
        if chosen and used + lengths[best] + 1 > max_chars:
            continue
        chosen.append(best)
        used += lengths[best] + 1
        overlap = np.maximum(overlap, similarity[best])
    return chosen


def summarize(name: str, descriptions: Sequence[str], *, max_chars: int) -> str:
    """One description out of many: their most central, non-redundant sentences.

    Sentences are deduplicated; if all fit in ``max_chars`` they are all kept
    (in first-seen order). Otherwise centrality (mean TF-IDF similarity to the
    other sentences, plus a bonus for naming ``name``) ranks them and
    ``pick_sentences`` fills the budget. The result never exceeds ``max_chars``.
    """
    seen: set[str] = set()
    sentences: list[str] = []
    for description in descriptions:
        for sentence in split_sentences(description) or [" ".join(description.split())]:
            marker = sentence.casefold()
            if sentence and marker not in seen:
                seen.add(marker)
                sentences.append(sentence)
    if not sentences:
        return ""
    joined = " ".join(sentences)
    if len(joined) <= max_chars:
        return joined
    matrix = tfidf(sentences).dense()
    similarity = matrix @ matrix.T
    count = len(sentences)
    centrality = (similarity.sum(axis=1) - 1.0) / max(count - 1, 1)
    named = name.casefold()
    bonus = np.array([0.1 if named and named in s.casefold() else 0.0 for s in sentences])
    order = pick_sentences(
        centrality + bonus,
        similarity,
        [len(s) for s in sentences],
        max_chars=max_chars,
        max_count=count,
    )
    summary = " ".join(sentences[i] for i in order)
    return summary if len(summary) <= max_chars else summary[: max_chars - 1].rstrip() + "…"
