"""A deterministic synthetic corpus with gold questions, and a fake model that reads it.

``build_corpus(n, seed)`` writes ``n`` documents, each describing one *subject* (a
person or an organisation) and naming the one program it leads, devoted to a unique
pair of an activity and an object ("the restoration of wetlands"). Around the
subject every document names:

- a home place from a pool shared by about 20 documents each;
- one or two of six *hub* organisations that appear in a third of all documents;
- colleagues from a pool shared by about eight documents each;
- a distractor fact between two other entities on an unrelated theme, and filler.

Two questions per subject are kept as gold: an *entity-centric* one that names the
subject and a *thematic* one that names only its program's theme (what ``global``
mode serves). A hit means the subject's name is in the retrieved context; the gold
document is the subject's document.

``CorpusChatModel`` is the fake model: it reads texts the way a good extractor would.
It splits whatever prompt it gets into sentences and looks each one up in the corpus's
facts (not in our prompt's headings), answering with entities and relations whose
keywords vary by kind of relation (funding, advice, partnership, location,
leadership, ...). A prompt holding no corpus sentence is a keyword request (JSON
mode), a gleaning turn (nothing more to add) or a summary request (it quotes the
descriptions the model wrote earlier; it answers with the first few of them).
Registered as the chat binding ``retrieval_corpus`` by ``register_corpus_model()``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from lightrag.core import extraction_prompts as xp
from lightrag.vocabulary.types import Message

__all__ = [
    "Corpus",
    "CorpusChatModel",
    "Fact",
    "Question",
    "build_corpus",
    "keywords_of",
    "register_corpus_model",
]

_SYLLABLES = str.split(
    "ka lo mir ten bra vel sun dor fi ran tes gul az or pen quil sar tho um zen "
    "bel cor dra eth hal jor kes lin mon nev"
)
_ROLES = str.split(
    "hydrologist cartographer engineer archivist economist botanist geologist surveyor "
    "historian architect chemist agronomist"
)
_ORG_KINDS = ("Cooperative", "Institute", "Foundation", "Guild", "Laboratory", "Trust")
_HUB_KINDS = ("Fund", "Council", "Authority", "University", "Press", "Alliance")
_ACTIVITIES = str.split(
    "restoration mapping financing monitoring preservation cataloguing modelling "
    "irrigation surveying insulation recycling cultivation excavation translation "
    "digitisation forecasting reinforcement purification replanting dredging "
    "charting harvesting grading sampling stabilisation drainage composting "
    "beekeeping weaving tanning"
)
_OBJECTS = str.split(
    "wetlands glaciers orchards bridges harbours vineyards aquifers railways "
    "lighthouses terraces canals meadows dunes reservoirs quarries archives "
    "manuscripts observatories granaries windmills tunnels estuaries marshes "
    "forests mangroves reefs moorlands levees aqueducts cisterns foundries "
    "tanneries looms kilns mills orchids ferns mosses lichens fungi peatlands "
    "salt_pans oyster_beds kelp_forests rice_paddies tea_gardens olive_groves "
    "cork_oaks chestnut_woods hedgerows springs geysers caves sinkholes cliffs "
    "beaches lagoons fjords deltas floodplains steppes tundra savannas oases "
    "dams sluices locks piers jetties wharves shipyards dockyards warehouses "
    "markets bazaars libraries museums theatres chapels monasteries castles "
    "ramparts towers gates roads causeways ferries sledges carts wagons kites"
)
_FUNDING = (
    ("received a grant from", "funding, grant", "{a} received a grant from {b}"),
    ("was financed by", "financial support, sponsorship", "{a} was financed by {b}"),
    ("won an award from", "award, recognition", "{a} won an award from {b}"),
)
_TIES = (
    ("advised", "advice, consultation", "{a} advised {b}"),
    ("partnered with", "partnership, collaboration", "{a} partnered with {b}"),
    ("trained staff at", "training, capacity building", "{a} trained staff at {b}"),
    ("supplied equipment to", "supply, procurement", "{a} supplied equipment to {b}"),
    ("published a report with", "publication, joint report", "{a} published a report with {b}"),
    ("disputed the findings of", "dispute, criticism", "{a} disputed the findings of {b}"),
)
_QUALIFIERS = str.split(
    "coastal upland northern southern urban ancient riverside alpine island desert"
)
_SEASONS = ("spring", "summer", "autumn", "winter", "monsoon", "harvest")
_FILLER = (
    "The work drew attention during the {season} season.",
    "Local newspapers followed the effort closely for several months.",
    "Progress was slower than planned because of the weather.",
    "Volunteers joined the field work during the {season} season.",
    "A second phase is being discussed for the coming years.",
    "Critics noted that the {activity} of {object} had been tried before without success.",
    "Several visitors asked how the {object} would be protected in the long run.",
    "The budget for the {season} season was revised twice.",
    "Records from earlier decades describe similar problems with {object}.",
    "Most of the equipment had to be carried in by hand.",
    "Residents were invited to comment on the plans at a public meeting.",
    "An early survey had underestimated the scale of the task.",
    "Some of the methods were borrowed from older work on {activity}.",
    "The results were shared in a short bulletin at the end of the {season} season.",
    "Funding questions delayed the start of the field work by several weeks.",
    "Training sessions were held for the new members of the team.",
    "The first measurements were taken at dawn to avoid the heat.",
    "A small exhibition explained the work to schoolchildren.",
)


def _obj(word: str) -> str:
    return word.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Fact:
    """What a careful reader takes from one sentence."""

    entities: tuple[tuple[str, str, str], ...]  # (name, type, description)
    relations: tuple[tuple[str, str, str, str, float], ...]  # (src, tgt, keywords, desc, w)


@dataclass(frozen=True, slots=True)
class Question:
    """A gold question: its text, kind, subject and the subject's document."""

    text: str
    kind: str  # "entity" or "thematic"
    subject: str
    doc_index: int
    file_path: str


@dataclass(slots=True)
class Corpus:
    documents: list[str]
    file_paths: list[str]
    subjects: list[str]
    questions: list[Question]
    facts: dict[str, Fact] = field(default_factory=dict)
    descriptions: set[str] = field(default_factory=set)

    def sample_questions(self, count: int, seed: int = 1) -> list[Question]:
        """``count`` questions, half of each kind, chosen deterministically."""
        rng = random.Random(seed)
        by_kind = {k: [q for q in self.questions if q.kind == k] for k in ("entity", "thematic")}
        picked: list[Question] = []
        for index, kind in enumerate(("entity", "thematic")):
            pool = by_kind[kind]
            share = count // 2 + (count % 2 if index == 0 else 0)
            picked += rng.sample(pool, min(share, len(pool)))
        return picked


class _Names:
    """Unique two-word names built from syllables."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def word(self) -> str:
        count = self.rng.choice((2, 2, 3))
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(count)).capitalize()

    def make(self, suffix: str | None = None) -> str:
        while True:
            name = f"{self.word()} {suffix or self.word()}"
            if name.casefold() not in self.used:
                self.used.add(name.casefold())
                return name


def _add(
    corpus: Corpus,
    sentences: list[str],
    sentence: str,
    entities: Sequence[tuple[str, str, str]],
    relations: Sequence[tuple[str, str, str, str, float]],
) -> None:
    sentences.append(sentence)
    corpus.facts[sentence] = Fact(tuple(entities), tuple(relations))
    corpus.descriptions.update(desc for _, _, desc in entities)
    corpus.descriptions.update(rel[3] for rel in relations)


@lru_cache(maxsize=4)
def build_corpus(n: int, seed: int = 7) -> Corpus:
    """The corpus of ``n`` documents for ``seed`` (the same every time)."""
    rng = random.Random(seed)
    names = _Names(rng)
    hubs = [names.make(kind) for kind in _HUB_KINDS]
    places = [names.make("Valley" if i % 2 else "Harbour") for i in range(max(5, n // 20))]
    colleagues = [names.make() for _ in range(max(8, n // 4))]
    pairs = [(a, f"{q} {o}") for a in _ACTIVITIES for o in _OBJECTS for q in _QUALIFIERS]
    if n > len(pairs):
        raise ValueError(f"at most {len(pairs)} documents (unique program themes)")
    rng.shuffle(pairs)
    corpus = Corpus(documents=[], file_paths=[], subjects=[], questions=[])
    for index in range(n):
        is_person = rng.random() < 0.6
        kind = rng.choice(_ORG_KINDS)
        subject = names.make() if is_person else names.make(kind)
        subject_type = "person" if is_person else "organization"
        role = rng.choice(_ROLES) if is_person else kind.lower()
        place = rng.choice(places)
        program = names.make("Program")
        activity, obj = pairs[index][0], _obj(pairs[index][1])
        doc_hubs = rng.sample(hubs, rng.choice((1, 2)))
        doc_colleagues = rng.sample(colleagues, rng.randint(2, 4))
        season = rng.choice(_SEASONS)
        other_activity = rng.choice(_ACTIVITIES)
        other_object = _obj(rng.choice(_OBJECTS))
        sentences: list[str] = []
        article = "an" if role[0] in "aeiou" else "a"
        intro = f"{subject} is {article} {role} based in {place}."
        _add(
            corpus,
            sentences,
            intro,
            [
                (subject, subject_type, intro),
                (place, "geo", f"{place} is the home of {subject}, {article} {role}."),
            ],
            [
                (
                    subject,
                    place,
                    rng.choice(("based in, home base", "location, local presence")),
                    f"{subject} works from {place}.",
                    1.0,
                )
            ],
        )
        lead = f"{subject} leads {program}, a program for the {activity} of {obj}."
        _add(
            corpus,
            sentences,
            lead,
            [
                (
                    program,
                    "event",
                    f"{program} is a program for the {activity} of {obj}, led by {subject}.",
                ),
                (subject, subject_type, f"{subject} leads {program}."),
            ],
            [
                (
                    subject,
                    program,
                    f"leadership, {activity} of {obj}",
                    f"{subject} leads {program}, devoted to the {activity} of {obj}.",
                    3.0,
                )
            ],
        )
        for hub in doc_hubs:
            verb, keywords, pattern = rng.choice(_FUNDING)
            sentence = f"{subject} {verb} {hub} for its work on {obj}."
            _add(
                corpus,
                sentences,
                sentence,
                [
                    (hub, "organization", f"{hub} supports work on {obj} by {subject}."),
                    (subject, subject_type, pattern.format(a=subject, b=hub) + "."),
                ],
                [
                    (
                        subject,
                        hub,
                        keywords,
                        pattern.format(a=subject, b=hub) + f" for work on {obj}.",
                        2.0,
                    )
                ],
            )
        for colleague in doc_colleagues:
            verb, keywords, pattern = rng.choice(_TIES)
            sentence = f"{subject} {verb} {colleague} on questions of {activity}."
            _add(
                corpus,
                sentences,
                sentence,
                [
                    (colleague, "person", f"{colleague} works on {activity} with {subject}."),
                ],
                [
                    (
                        subject,
                        colleague,
                        keywords,
                        pattern.format(a=subject, b=colleague) + f" on {activity}.",
                        1.0,
                    )
                ],
            )
        # a distractor between two other entities, on another theme
        verb, keywords, pattern = rng.choice(_TIES)
        other_hub = rng.choice(hubs)
        distractor = (
            f"{doc_colleagues[0]} {verb} {other_hub} on the {other_activity} of {other_object}."
        )
        _add(
            corpus,
            sentences,
            distractor,
            [
                (
                    doc_colleagues[0],
                    "person",
                    f"{doc_colleagues[0]} works on the {other_activity} of {other_object}.",
                ),
                (other_hub, "organization", f"{other_hub} is involved in {other_activity}."),
            ],
            [
                (
                    doc_colleagues[0],
                    other_hub,
                    f"{keywords}, {other_activity}",
                    pattern.format(a=doc_colleagues[0], b=other_hub)
                    + f" on the {other_activity} of {other_object}.",
                    1.0,
                )
            ],
        )
        for template in rng.choices(_FILLER, k=rng.randint(14, 40)):
            filler = template.format(
                season=season,
                activity=rng.choice(_ACTIVITIES),
                object=_obj(rng.choice(_OBJECTS)),
            )
            sentences.append(filler)  # no entities: the extractor finds nothing there
        head, tail = sentences[:2], sentences[2:]
        rng.shuffle(tail)
        corpus.documents.append(" ".join(head + tail))
        file_path = f"doc-{index:05d}.txt"
        corpus.file_paths.append(file_path)
        corpus.subjects.append(subject)
        entity_q = rng.choice(
            (
                f"What program does {subject} lead?",
                f"Who has {subject} worked with, and on what?",
                f"Which organisations supported {subject}?",
                f"Where is {subject} based and what does it do?",
            )
        )
        thematic_q = rng.choice(
            (
                f"Who leads the program for the {activity} of {obj}?",
                f"Which effort is devoted to the {activity} of {obj}, and who runs it?",
                f"Who is responsible for {activity} of {obj}?",
            )
        )
        corpus.questions.append(Question(entity_q, "entity", subject, index, file_path))
        corpus.questions.append(Question(thematic_q, "thematic", subject, index, file_path))
    return corpus


# ---------------------------------------------------------------------------
# the fake model

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_NAME = re.compile(r"[A-Z][a-z]+(?: [A-Z][a-z]+)+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_STOP = frozenset(
    str.split(
        "a an and are as at by did do does for from has have how in is it its of on or the "
        "to was were what where which who whom whose why with"
    )
)


def keywords_of(question: str) -> tuple[list[str], list[str]]:
    """``(high, low)`` keywords the fake finds in ``question``: names are low-level; the
    remaining content words, kept in phrases ("restoration of wetlands"), high-level."""
    low = [m.group(0) for m in _NAME.finditer(question)]
    rest = _NAME.sub(" | ", question)
    phrases: list[str] = []
    current: list[str] = []
    words = re.findall(r"[\w']+|[|?,.]", rest)
    for position, word in enumerate(words):
        folded = word.casefold()
        joins = folded == "of" and current and position + 1 < len(words)
        if joins:
            current.append(word)
        elif re.fullmatch(r"[\w']+", word) and folded not in _STOP and len(word) > 2:
            current.append(folded)
        else:
            if current and current[-1] != "of":
                phrases.append(" ".join(current))
            elif len(current) > 1:
                phrases.append(" ".join(current[:-1]))
            current = []
    if current:
        phrases.append(" ".join(current[:-1] if current[-1] == "of" else current))
    return [p for p in dict.fromkeys(phrases) if p], low


class CorpusChatConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    docs: int = Field(100, gt=0)
    seed: int = 7
    summary_parts: int = Field(4, gt=0, description="descriptions a summary keeps")


class CorpusChatModel:
    """The fake chat model that knows the corpus (see the module docstring)."""

    config_model: ClassVar[type[CorpusChatConfig]] = CorpusChatConfig

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = CorpusChatConfig.model_validate(dict(config or {}))
        self.corpus = build_corpus(self.config.docs, self.config.seed)
        self.calls: dict[str, int] = {}

    @property
    def identity(self) -> str:
        return f"fake:retrieval-corpus-{self.config.docs}-{self.config.seed}"

    async def complete(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        json_mode: bool = False,
        max_tokens: int | None = None,
    ) -> str:
        kind, answer = self._answer(prompt, json_mode, history)
        self.calls[kind] = self.calls.get(kind, 0) + 1
        return answer

    async def stream(
        self,
        prompt: str,
        *,
        system_prompt: str | None = None,
        history: Sequence[Message] = (),
        max_tokens: int | None = None,
    ) -> Any:
        yield await self.complete(prompt, system_prompt=system_prompt, history=history)

    async def aclose(self) -> None:
        return None

    def _answer(self, prompt: str, json_mode: bool, history: Sequence[Message]) -> tuple[str, str]:
        facts = [
            self.corpus.facts[s]
            for s in (part.strip() for part in _SENTENCE.split(prompt))
            if s in self.corpus.facts
        ]
        if facts:
            return "extraction", self._records(facts)
        if json_mode:
            question = prompt.strip().splitlines()[-1] if prompt.strip() else ""
            for line in reversed(prompt.splitlines()):
                if "?" in line:
                    question = line
                    break
            high, low = keywords_of(question)
            return "keywords", json.dumps({"high_level_keywords": high, "low_level_keywords": low})
        quoted = [json.loads(f'"{m}"') for m in _QUOTED.findall(prompt)]
        known = [q for q in quoted if q in self.corpus.descriptions]
        if known:
            return "summary", " ".join(dict.fromkeys(known[: self.config.summary_parts]))
        if history:
            return "gleaning", xp.COMPLETION_DELIMITER
        return "generic", "I have nothing to add."

    @staticmethod
    def _records(facts: Sequence[Fact]) -> str:
        t = xp.TUPLE_DELIMITER
        rows: list[str] = []
        for fact in facts:
            rows += [f'("entity"{t}{n}{t}{ty}{t}{d})' for n, ty, d in fact.entities]
            rows += [
                f'("relationship"{t}{a}{t}{b}{t}{d}{t}{k}{t}{w:g})'
                for a, b, k, d, w in fact.relations
            ]
        return f"{xp.RECORD_DELIMITER}\n".join(rows) + "\n" + xp.COMPLETION_DELIMITER


def register_corpus_model() -> None:
    """Make ``llm.type=retrieval_corpus`` loadable in this process (idempotent)."""
    from lightrag.registry import Entry
    from lightrag.registry.models import chat_registry

    if "retrieval_corpus" not in chat_registry.names():
        chat_registry.add(
            Entry(
                "retrieval_corpus",
                "retrieval_corpus:CorpusChatModel",
                description="fake model that knows benchmarks/retrieval_corpus.py's corpus",
            )
        )
