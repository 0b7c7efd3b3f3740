"""Embedded offline models benchmark: install size, load time, embedding and extraction speed.

Measures, on this machine:
- install size of the ``embedded`` extra: the installed files of every distribution the
  extra pulls in beyond the core dependencies (from the installed packages' metadata);
- load time of the MiniLM model (sha256 check + onnxruntime session) and of spaCy;
- embedding throughput in texts/s, for short sentences and for chunk-sized texts
  (~1200 tiktoken tokens, several MiniLM windows each);
- extraction throughput in chunks/s (spaCy parse + entities + relations per chunk);
- extractive answer latency for one query over 20 retrieved chunks.

    python benchmarks/embedded.py            # human-readable
    python benchmarks/embedded.py --json     # one JSON object
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import time
from importlib.metadata import PackageNotFoundError, distribution, requires
from typing import Any

from lightrag.core.tokenizer import get_tokenizer
from lightrag.llm.embedded.chat import EmbeddedChatModel
from lightrag.llm.embedded.embedding import EmbeddedEmbeddingModel
from lightrag.vocabulary.types import Reference, RetrievedContext

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")

PEOPLE = [
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Marie Curie",
    "Niels Bohr",
    "Emmy Noether",
]
ORGS = ["the Royal Society", "IBM", "Microsoft", "the University of Cambridge", "CERN", "NASA"]
PLACES = ["London", "Geneva", "Paris", "Princeton", "Copenhagen", "Berlin"]
TEMPLATES = [
    "{p} joined {o} in {y} and worked in {l} for several years.",
    "In {y}, {p} presented a new theory of computation at {o}.",
    "{o} funded the laboratory in {l}, where {p} studied radioactive elements.",
    "{p} met {q} in {l} to discuss the structure of the atom.",
    "The archive in {l} keeps the letters that {p} wrote to {q}.",
    "Researchers at {o} still cite the notebooks of {p}.",
]


def synthetic_chunk(rng: random.Random, tokens: int = 1200) -> str:
    """English prose with people, organisations and places, about ``tokens`` long."""
    tokenizer = get_tokenizer()
    sentences: list[str] = []
    while tokenizer.count(" ".join(sentences)) < tokens:
        p, q = rng.sample(PEOPLE, 2)
        sentences.append(
            rng.choice(TEMPLATES).format(
                p=p, q=q, o=rng.choice(ORGS), l=rng.choice(PLACES), y=rng.randint(1850, 1990)
            )
        )
    return " ".join(sentences)


def _dist_name(requirement: str) -> str | None:
    if ";" in requirement and "extra ==" in requirement.split(";", 1)[1]:
        return None  # an optional dependency of that package
    match = _NAME.match(requirement.strip())
    return match.group(0).lower().replace("_", "-") if match else None


def _closure(names: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            deps = requires(name) or []
        except PackageNotFoundError:
            continue
        seen.add(name)
        todo += [dep for dep in map(_dist_name, deps) if dep]
    return seen


def extra_install_mb(extra: str = "embedded") -> tuple[float, list[str]]:
    """MB of installed files of the distributions ``extra`` adds beyond the core deps."""
    own = requires("lightrag-server") or []
    core = [n for r in own if "extra ==" not in r and (n := _dist_name(r))]
    extra_names = [
        n for r in own if f'extra == "{extra}"' in r and (n := _dist_name(r.split(";", 1)[0]))
    ]
    added = sorted(_closure(extra_names) - _closure(core))
    total = 0
    for name in added:
        for file in distribution(name).files or []:
            path = file.locate()
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6, added


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    result: dict[str, Any] = {}
    try:
        size, added = extra_install_mb()
        result["extra_install_mb"] = round(size, 1)
        result["extra_distributions"] = added
    except PackageNotFoundError:
        result["extra_install_mb"] = None  # lightrag-server itself is not pip-installed

    embedder = EmbeddedEmbeddingModel()
    start = time.perf_counter()
    await embedder.load()
    result["embedding_load_s"] = round(time.perf_counter() - start, 3)

    sentences = [synthetic_chunk(rng, 25) for _ in range(args.sentences)]
    start = time.perf_counter()
    for i in range(0, len(sentences), 32):
        await embedder.embed(sentences[i : i + 32])
    result["embed_sentences_per_s"] = round(len(sentences) / (time.perf_counter() - start), 1)

    chunks = [synthetic_chunk(rng) for _ in range(args.chunks)]
    start = time.perf_counter()
    for i in range(0, len(chunks), 8):
        await embedder.embed(chunks[i : i + 8])
    result["embed_chunks_per_s"] = round(len(chunks) / (time.perf_counter() - start), 2)

    chat = EmbeddedChatModel()
    start = time.perf_counter()
    await chat.load()
    result["chat_load_s"] = round(time.perf_counter() - start, 3)
    entities = relations = 0
    start = time.perf_counter()
    for index, chunk in enumerate(chunks):
        extraction = await chat.extract_graph(chunk, chunk_id=f"c{index}", file_path="bench")
        entities += len(extraction.entities)
        relations += len(extraction.relations)
    result["extract_chunks_per_s"] = round(len(chunks) / (time.perf_counter() - start), 2)
    result["entities_per_chunk"] = round(entities / len(chunks), 1)
    result["relations_per_chunk"] = round(relations / len(chunks), 1)

    context = RetrievedContext(
        mode="mix",
        chunks=[
            {"reference_id": str(i % 5 + 1), "content": c, "file_path": f"doc{i % 5}.txt"}
            for i, c in enumerate(chunks[:20])
        ],
        references=[Reference(reference_id=str(i + 1), file_path=f"doc{i}.txt") for i in range(5)],
    )
    start = time.perf_counter()
    await chat.answer_from_context("Where did Marie Curie study radioactive elements?", context)
    result["answer_s_20_chunks"] = round(time.perf_counter() - start, 3)
    result["chunk_tokens"] = 1200
    result["chunks"] = len(chunks)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chunks", type=int, default=40, help="chunks of ~1200 tokens")
    parser.add_argument("--sentences", type=int, default=512, help="short texts to embed")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
