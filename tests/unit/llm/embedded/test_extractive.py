"""The extractive TF-IDF against the textbook computation written out plainly, and the
lexical answer scores built on it."""

from __future__ import annotations

import math
from collections import Counter
from importlib.util import find_spec

import numpy as np
import pytest

if find_spec("spacy") is None:
    pytest.skip(
        "embedded extra not installed: pip install -e '.[embedded]'", allow_module_level=True
    )

from lightrag.llm.embedded.answer import Candidate, lexical_scores
from lightrag.llm.embedded.extractive import terms, tfidf

TEXTS = [
    "Redis persistence is configured in redis.conf with RDB snapshots.",
    "The append-only file logs every write; persistence survives restarts.",
    "Snapshots snapshots snapshots: RDB files are compact.",
    "Nothing here matches.",
    "",
]


def _reference(texts: list[str]) -> np.ndarray:
    """Dense L2-normalised TF-IDF rows: (1 + log tf) * (log((1 + n) / (1 + df)) + 1)."""
    bags = [Counter(terms(text)) for text in texts]
    vocabulary = sorted({term for bag in bags for term in bag})
    df = {term: sum(term in bag for bag in bags) for term in vocabulary}
    rows = np.zeros((len(texts), len(vocabulary)))
    for i, bag in enumerate(bags):
        for j, term in enumerate(vocabulary):
            if bag[term]:
                idf = math.log((1 + len(texts)) / (1 + df[term])) + 1
                rows[i, j] = (1 + math.log(bag[term])) * idf
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.clip(norms, 1e-12, None)


def test_tfidf_similarities_match_the_textbook_computation() -> None:
    reference = _reference(TEXTS)
    dense = tfidf(TEXTS).dense()
    np.testing.assert_allclose(dense @ dense.T, reference @ reference.T, atol=1e-12)
    some = tfidf(TEXTS).dense([2, 0])
    np.testing.assert_allclose(some @ some.T, (reference @ reference.T)[np.ix_([2, 0], [2, 0])])
    assert tfidf([]).dense().shape == (0, 0)


def test_lexical_scores_blend_coverage_and_cosine() -> None:
    query = "How is Redis persistence configured?"
    candidates = [Candidate(text, None, 0) for text in TEXTS]
    scores, coverage, model = lexical_scores(query, candidates)
    reference = _reference([query, *TEXTS])
    cosine = reference[1:] @ reference[0]
    asked = set(terms(query))
    bags = [set(terms(text)) for text in [query, *TEXTS]]
    idf = {
        term: math.log((1 + len(bags)) / (1 + sum(term in bag for bag in bags))) + 1
        for term in asked
    }
    expected = [sum(idf[t] for t in bag & asked) / sum(idf.values()) for bag in bags[1:]]
    np.testing.assert_allclose(coverage, expected, atol=1e-12)
    np.testing.assert_allclose(scores, 0.5 * np.array(expected) + 0.5 * cosine, atol=1e-12)
    assert coverage[0] == pytest.approx(1.0) and coverage[3] == 0.0 and coverage[4] == 0.0
    assert model.texts == len(TEXTS) + 1
