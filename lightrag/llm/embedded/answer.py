"""Extractive answers: the retrieved sentences that best match a question, with references.

``collect_candidates`` turns a ``RetrievedContext`` into quotable sentences
(chunks first; entity and relation descriptions only when there are no
chunks), ``lexical_scores`` ranks them by the question's words, and
``format_answer`` writes the answer, which always opens with a line saying it
is extractive and was produced without a generative model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lightrag.llm.embedded.extractive import TfIdf, split_sentences, tfidf
from lightrag.vocabulary.types import RetrievedContext

__all__ = [
    "EXTRACTIVE_HEADER",
    "NO_MATCH_ANSWER",
    "Candidate",
    "collect_candidates",
    "format_answer",
    "lexical_scores",
]

EXTRACTIVE_HEADER = (
    "Extractive answer (no generative language model is configured): the sentences below "
    "are quoted from the retrieved sources that best match the question."
)
NO_MATCH_ANSWER = (
    EXTRACTIVE_HEADER.split(":")[0]
    + ": none of the retrieved sources contains a sentence that matches the question."
)


@dataclass(frozen=True, slots=True)
class Candidate:
    text: str
    reference_id: str | None
    rank: int  # position of its chunk in retrieval order (0 = best)


def _reference_ids(context: RetrievedContext) -> dict[str, str]:
    return {ref.file_path: ref.reference_id for ref in context.references if ref.file_path}


def collect_candidates(context: RetrievedContext) -> list[Candidate]:
    """Quotable sentences of the context, each with its reference number when known."""
    by_path = _reference_ids(context)
    candidates: list[Candidate] = []
    seen: set[str] = set()

    def add(text: str, item: dict[str, object], rank: int) -> None:
        reference = item.get("reference_id")
        if reference in (None, ""):
            reference = by_path.get(str(item.get("file_path") or ""))
        for sentence in split_sentences(text):
            marker = sentence.casefold()
            if marker not in seen:
                seen.add(marker)
                candidates.append(Candidate(sentence, str(reference) if reference else None, rank))

    for rank, chunk in enumerate(context.chunks):
        add(str(chunk.get("content") or ""), chunk, rank)
    if not candidates:
        for rank, item in enumerate([*context.entities, *context.relationships]):
            add(str(item.get("description") or ""), item, rank)
    return candidates


def lexical_scores(
    query: str, candidates: Sequence[Candidate]
) -> tuple[np.ndarray, np.ndarray, TfIdf]:
    """Per candidate: idf-weighted share of the query's words it contains (coverage)
    blended with TF-IDF cosine; the coverage alone; and the TF-IDF of the query and the
    candidates (candidate ``i`` is its text ``i + 1``; for redundancy)."""
    model = tfidf([query, *(c.text for c in candidates)])
    in_query = model.row == 0
    query_weight = np.zeros(len(model.idf))
    query_weight[model.column[in_query]] = model.weight[in_query]
    asked = np.zeros(len(model.idf), dtype=bool)
    asked[model.column[in_query]] = True
    total = float(model.idf[asked].sum()) or 1.0
    row, column, weight = (part[~in_query] for part in (model.row, model.column, model.weight))
    found = np.bincount(row - 1, asked[column] * model.idf[column], minlength=len(candidates))
    coverage = found / total
    cosine = np.bincount(row - 1, weight * query_weight[column], minlength=len(candidates))
    return 0.5 * coverage + 0.5 * cosine, coverage, model


def format_answer(
    candidates: Sequence[Candidate],
    order: Sequence[int],
    context: RetrievedContext,
) -> str:
    """The extractive answer: header, quoted sentences with ``[n]`` markers, references."""
    if not order:
        return NO_MATCH_ANSWER
    lines = [EXTRACTIVE_HEADER, ""]
    cited: list[str] = []
    for index in order:
        candidate = candidates[index]
        marker = f" [{candidate.reference_id}]" if candidate.reference_id else ""
        lines.append(f"- {candidate.text}{marker}")
        if candidate.reference_id and candidate.reference_id not in cited:
            cited.append(candidate.reference_id)
    paths = {ref.reference_id: ref.file_path for ref in context.references}
    if cited:
        lines += ["", "### References", ""]
        lines += [f"- [{ref}] {paths.get(ref, 'unknown source')}" for ref in cited]
    return "\n".join(lines)
