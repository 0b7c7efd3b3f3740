"""spaCy entity labels (OntoNotes) mapped onto the configured entity types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["GRAPH_LABELS", "EntityTypeMapper"]

# Preferred configured type names for each label, best first. Matching ignores case,
# spaces and underscores, so "NaturalObject" matches "naturalobject".
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "PERSON": ("person", "people", "individual", "creature"),
    "ORG": ("organization", "organisation", "org", "company", "institution"),
    "GPE": ("geo", "location", "place", "gpe", "country"),
    "LOC": ("geo", "location", "place", "naturalobject"),
    "FAC": ("facility", "geo", "location", "place", "building", "artifact"),
    "NORP": ("group", "nationality", "category", "concept"),
    "EVENT": ("event",),
    "PRODUCT": ("product", "artifact", "technology", "category", "concept"),
    "WORK_OF_ART": ("workofart", "work", "content", "artifact", "category", "concept"),
    "LAW": ("law", "concept", "category"),
    "LANGUAGE": ("language", "concept", "category"),
}
_CONCEPT_CANDIDATES = ("concept", "category", "topic", "other")

GRAPH_LABELS = frozenset(_CANDIDATES)
"""Labels that become graph entities; numbers, dates, money and the like do not."""


def _squash(name: str) -> str:
    return name.lower().replace(" ", "").replace("_", "").replace("-", "")


class EntityTypeMapper:
    """Picks the configured type for a spaCy label (overrides first, then preferences).

    A label none of whose preferred names is configured falls back to the
    configured concept-like type (concept, category, topic, other), else to the
    label itself in lower case.
    """

    def __init__(self, entity_types: Sequence[str], overrides: Mapping[str, str]) -> None:
        self._configured = {_squash(name): name for name in entity_types}
        unknown = sorted(set(overrides) - GRAPH_LABELS)
        if unknown:
            raise ValueError(
                f"llm.label_types has unknown spaCy labels {unknown}; known labels: "
                f"{sorted(GRAPH_LABELS)}"
            )
        self._overrides = dict(overrides)
        self.concept_type = self._first(_CONCEPT_CANDIDATES) or "concept"

    def _first(self, candidates: Sequence[str]) -> str | None:
        for candidate in candidates:
            found = self._configured.get(_squash(candidate))
            if found is not None:
                return found
        return None

    def type_for(self, label: str) -> str:
        if label in self._overrides:
            return self._overrides[label]
        preferred = self._first(_CANDIDATES.get(label, ()))
        if preferred is not None:
            return preferred
        return self._first(_CONCEPT_CANDIDATES) or label.lower()
