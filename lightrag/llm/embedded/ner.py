"""Entities and relations of one chunk from a spaCy parse, without an LLM.

Entities are the named entities spaCy finds (typed through
``EntityTypeMapper``) plus, optionally, noun phrases the chunk keeps coming
back to (typed as the configured concept type). Each description is made of
the chunk's own sentences that mention the entity, so it is grounded in the
text. Relations link entities mentioned close together in one sentence; when
the dependency parse shows one as the subject and the other as the object of a
verb, the verb (with its preposition) becomes a keyword. A relation's weight
is how often the chunk supports it, subject-verb-object evidence counting twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from lightrag.llm.embedded.entity_types import GRAPH_LABELS, EntityTypeMapper
from lightrag.vocabulary.ids import entity_key, normalize_entity_name
from lightrag.vocabulary.types import ExtractedEntity, ExtractedRelation, Extraction

__all__ = ["GraphExtractionSettings", "extract_graph_from_doc"]

_LEADING_DROP_POS = {"DET", "PRON"}
_PERSONAL_PRONOUNS = {"he", "she", "him", "her", "his"}
_SUBJECT_DEPS = {"nsubj", "nsubjpass"}
_OBJECT_DEPS = {"dobj", "attr", "oprd", "dative"}
_CLAUSE_POS = {"VERB", "AUX"}


@dataclass(frozen=True, slots=True)
class GraphExtractionSettings:
    include_concepts: bool = True
    resolve_pronouns: bool = True
    min_concept_mentions: int = 2
    max_concepts: int = 15
    cooccurrence_window: int = 3
    max_relations: int = 40
    max_description_sentences: int = 3
    max_description_chars: int = 1200


@dataclass(slots=True)
class _Mention:
    key: str
    start: int  # token index
    end: int
    sentence: int


@dataclass(slots=True)
class _Entity:
    name: str
    type: str
    sentences: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Link:
    source: str
    target: str
    sentences: list[int] = field(default_factory=list)
    verbs: list[str] = field(default_factory=list)
    svo_count: int = 0


def _clean_span(span: Span) -> Span | None:
    """The span without leading determiners/possessives and trailing punctuation."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end and (doc[start].pos_ in _LEADING_DROP_POS or doc[start].is_punct):
        start += 1
    while end > start and (doc[end - 1].is_punct or doc[end - 1].tag_ == "POS"):
        end -= 1
    if start >= end:
        return None
    return doc[start:end]


def _usable_name(name: str) -> bool:
    letters = sum(ch.isalpha() for ch in name)
    return letters >= 2 and len(name) <= 120


def _concept_name(span: Span) -> str:
    """Display form of a noun phrase: common nouns lower-cased, a plural head singular,
    the text's own whitespace kept until ``normalize_entity_name`` collapses it (and
    joins a word hyphenated across a line break)."""
    words = [
        (token.text if token.pos_ == "PROPN" else token.lower_) + token.whitespace_
        for token in span[:-1]
    ]
    head = span[-1]
    if head.pos_ == "PROPN":
        words.append(head.text)
    else:
        words.append(head.lemma_.lower() if head.tag_ in {"NNS"} else head.lower_)
    return normalize_entity_name("".join(words))


def _sentence_index(doc: Doc) -> list[int]:
    index = [0] * len(doc)
    for number, sentence in enumerate(doc.sents):
        for i in range(sentence.start, sentence.end):
            index[i] = number
    return index


class _ChunkGraph:
    def __init__(self, doc: Doc, mapper: EntityTypeMapper, settings: GraphExtractionSettings):
        self.doc = doc
        self.mapper = mapper
        self.settings = settings
        self.sentences = list(doc.sents)
        self.sentence_of = _sentence_index(doc)
        self.entities: dict[str, _Entity] = {}
        self.mentions: list[_Mention] = []
        self.token_key: dict[int, str] = {}
        self.person_keys: set[str] = set()

    def add_mention(self, span: Span, name: str, type_: str) -> None:
        key = entity_key(name)
        entity = self.entities.setdefault(key, _Entity(name=name, type=type_))
        sentence = self.sentence_of[span.start]
        if sentence not in entity.sentences:
            entity.sentences.append(sentence)
        self.mentions.append(_Mention(key, span.start, span.end, sentence))
        for i in range(span.start, span.end):
            self.token_key[i] = key

    def collect_named_entities(self) -> None:
        named: list[tuple[Span, str, str]] = []
        for ent in self.doc.ents:
            if ent.label_ not in GRAPH_LABELS:
                continue
            span = _clean_span(ent)
            if span is None:
                continue
            name = normalize_entity_name(span.text)
            if _usable_name(name):
                named.append((span, name, ent.label_))
        # "Jobs" after "Steve Jobs", "Apple" after "Apple Inc.": a name whose words begin
        # or end exactly one longer name of the same label is that entity.
        longer: dict[tuple[str, str], set[str]] = defaultdict(set)
        surnames: dict[str, set[str]] = defaultdict(set)
        for _, name, label in named:
            words = name.casefold().split()
            for size in range(1, len(words)):
                longer[(label, " ".join(words[:size]))].add(name)
                longer[(label, " ".join(words[-size:]))].add(name)
            if label == "PERSON" and len(words) > 1:
                surnames[words[-1]].add(name)
        for span, name, label in named:
            candidates = longer.get((label, name.casefold()), set())
            if not candidates and " " not in name:
                # spaCy often labels a bare surname ORG or GPE; "Turing" is still the person.
                candidates = surnames.get(name.casefold(), set())
                if len(candidates) == 1:
                    label = "PERSON"
            if len(candidates) == 1:
                name = next(iter(candidates))
            self.add_mention(span, name, self.mapper.type_for(label))
            if label == "PERSON":
                self.person_keys.add(entity_key(name))

    def resolve_pronouns(self) -> None:
        """Personal pronouns (he, she, him, her, his) stand for the last person who was
        the subject of a clause, else the last person named.

        A deliberately simple salience rule: right for the common case of a text about
        one person at a time ("Curie ... with her husband Pierre Curie. She won ...":
        "She" is Curie, the subject, not the husband); a pronoun before any person
        stays unresolved.
        """
        starts = {m.start: m for m in self.mentions if m.key in self.person_keys}
        if not starts:
            return
        last_named: str | None = None
        last_subject: str | None = None
        for token in self.doc:
            mention = starts.get(token.i)
            if mention is not None:
                last_named = mention.key
                if self.doc[mention.start : mention.end].root.dep_ in _SUBJECT_DEPS:
                    last_subject = mention.key
                continue
            if token.i in self.token_key or token.pos_ != "PRON":
                continue
            if token.lower_ not in _PERSONAL_PRONOUNS:
                continue
            key = last_subject or last_named
            if key is None:
                continue
            entity = self.entities[key]
            self.add_mention(self.doc[token.i : token.i + 1], entity.name, entity.type)
            if token.dep_ in _SUBJECT_DEPS:
                last_subject = key

    def collect_concepts(self) -> None:
        counts: Counter[str] = Counter()
        found: list[tuple[Span, str]] = []
        for chunk in self.doc.noun_chunks:
            # "radioactivity and cancer treatment" -> "radioactivity": stop at the head noun.
            span = _clean_span(chunk.doc[chunk.start : chunk.root.i + 1])
            if span is None or len(span) > 4 or span.root.pos_ not in {"NOUN", "PROPN"}:
                continue
            if any(i in self.token_key for i in range(span.start, span.end)):
                continue  # overlaps a named entity
            if span.root.is_stop or not span.root.is_alpha:
                continue
            name = _concept_name(span)
            if not _usable_name(name):
                continue
            counts[entity_key(name)] += 1
            found.append((span, name))
        keep = {
            key
            for key, count in counts.most_common(self.settings.max_concepts)
            if count >= self.settings.min_concept_mentions
        }
        for span, name in found:
            if entity_key(name) in keep:
                self.add_mention(span, name, self.mapper.concept_type)

    def describe(self, sentence_numbers: Iterable[int]) -> str:
        parts: list[str] = []
        length = 0
        for number in sentence_numbers:
            text = " ".join(self.sentences[number].text.split())
            if parts and length + len(text) + 1 > self.settings.max_description_chars:
                break
            parts.append(text)
            length += len(text) + 1
            if len(parts) >= self.settings.max_description_sentences:
                break
        description = " ".join(parts)
        limit = self.settings.max_description_chars
        return description if len(description) <= limit else description[: limit - 1] + "…"

    def _key_near(self, token: Token) -> str | None:
        """The entity a subject/object token stands for: itself, or a compound/of-child."""
        if token.i in self.token_key:
            return self.token_key[token.i]
        for child in token.children:
            if child.dep_ in {"compound", "appos", "poss"} and child.i in self.token_key:
                return self.token_key[child.i]
            if child.dep_ == "prep" and child.lower_ == "of":
                for grandchild in child.children:
                    if grandchild.dep_ == "pobj" and grandchild.i in self.token_key:
                        return self.token_key[grandchild.i]
        return None

    def _objects(self, verb: Token) -> Iterable[tuple[Token, str]]:
        for child in verb.children:
            if child.dep_ in _OBJECT_DEPS:
                yield child, verb.lower_
            elif child.dep_ in {"prep", "agent"}:
                for grandchild in child.children:
                    if grandchild.dep_ == "pobj":
                        yield grandchild, f"{verb.lower_} {child.lower_}"

    def link(self, links: dict[tuple[str, str], _Link], a: str, b: str) -> _Link | None:
        if a == b:
            return None
        pair = (a, b) if a < b else (b, a)
        if pair not in links:
            links[pair] = _Link(source=a, target=b)
        return links[pair]

    def relations(self) -> dict[tuple[str, str], _Link]:
        links: dict[tuple[str, str], _Link] = {}
        by_sentence: dict[int, list[_Mention]] = defaultdict(list)
        for mention in sorted(self.mentions, key=lambda m: m.start):
            by_sentence[mention.sentence].append(mention)
        window = self.settings.cooccurrence_window
        for sentence, mentions in by_sentence.items():
            for i, first in enumerate(mentions):
                for second in mentions[i + 1 : i + 1 + window]:
                    found = self.link(links, first.key, second.key)
                    if found is not None and sentence not in found.sentences:
                        found.sentences.append(sentence)
        for token in self.doc:
            if token.pos_ not in _CLAUSE_POS:
                continue
            subjects = [c for c in token.children if c.dep_ in _SUBJECT_DEPS]
            subjects += [c for s in subjects for c in s.children if c.dep_ == "conj"]
            for subject in subjects:
                source = self._key_near(subject)
                if source is None:
                    continue
                for obj, verb in self._objects(token):
                    for candidate in (obj, *(c for c in obj.children if c.dep_ == "conj")):
                        target = self._key_near(candidate)
                        found = self.link(links, source, target) if target else None
                        if found is None:
                            continue
                        found.svo_count += 1
                        if verb not in found.verbs:
                            found.verbs.append(verb)
                        sentence = self.sentence_of[token.i]
                        if sentence not in found.sentences:
                            found.sentences.append(sentence)
        return links

    def fallback_keywords(self, sentence_numbers: Iterable[int]) -> list[str]:
        words: list[str] = []
        for number in sentence_numbers:
            root = self.sentences[number].root
            if root.pos_ == "VERB" and root.lower_ not in words:
                words.append(root.lower_)
        return words


def extract_graph_from_doc(
    doc: Doc,
    *,
    chunk_id: str,
    file_path: str,
    mapper: EntityTypeMapper,
    settings: GraphExtractionSettings,
) -> Extraction:
    """The entities and relations of one parsed chunk (same shape as LLM extraction)."""
    graph = _ChunkGraph(doc, mapper, settings)
    graph.collect_named_entities()
    if settings.resolve_pronouns:
        graph.resolve_pronouns()
    if settings.include_concepts:
        graph.collect_concepts()
    entities = [
        ExtractedEntity(
            name=entity.name,
            type=entity.type,
            description=graph.describe(sorted(entity.sentences)),
            source_id=chunk_id,
            file_path=file_path,
        )
        for entity in graph.entities.values()
    ]
    relations: list[ExtractedRelation] = []
    links = list(graph.relations().values())
    # The best-supported links first (stable: ties keep their order of appearance).
    links.sort(key=lambda link: -(len(link.sentences) + link.svo_count))
    for link in links[: settings.max_relations]:
        sentences = sorted(link.sentences)
        keywords = link.verbs or graph.fallback_keywords(sentences) or ["mentioned together"]
        relations.append(
            ExtractedRelation(
                source=graph.entities[link.source].name,
                target=graph.entities[link.target].name,
                description=graph.describe(sentences),
                keywords=", ".join(keywords),
                weight=float(len(sentences) + link.svo_count),
                source_id=chunk_id,
                file_path=file_path,
            )
        )
    return Extraction(entities=entities, relations=relations)
