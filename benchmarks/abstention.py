"""Abstention on the embedded recipe: off-corpus questions must get the no-information
answer in every mode while in-corpus ones are answered; and the similarity figures that
calibrate ``EmbeddedEmbeddingModel.relevance_threshold`` and ``answer_min_similarity``.

The corpus is Debian's own documentation on this machine (READMEs under
/usr/share/doc, un-gzipped; the ones missing here are skipped with their questions).
It runs ``lightrag-server +recipe=embedded`` on a loopback port and a fresh working
directory (or ``--url`` of a server that already indexed these files), then reports:

- per mode, how many of the in-corpus questions abstained (should be 0) and how many of
  the off-corpus ones did (should be all);
- per question group, the best cosine similarity of the question (chunks) and of its
  low- and high-level keywords (entities, relations) against the stored vectors: the
  gap between the groups is where the threshold goes.

    python benchmarks/abstention.py                    # starts its own server
    python benchmarks/abstention.py --cosine-threshold 0.2 --answer-min-similarity -1
                                                       # the settings before calibration
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

MODES = ("naive", "local", "global", "hybrid", "mix")
ABSTAINED = ("[no-context]", "none of the retrieved sources contains a sentence")
DOCS = {
    "zstd/README.md.gz": [
        "How do I compress a file with zstd?",
        "What compression levels does zstd offer?",
        "Can zstd train a dictionary?",
    ],
    "redis-server/README.md.gz": [
        "How is Redis persistence configured?",
        "How do I build redis from source?",
        "How do I run the Redis test suite?",
    ],
    "socat/README.gz": ["What does socat do?", "Which platforms does socat support?"],
    "coreutils/README.gz": [
        "Which utilities are part of coreutils?",
        "How do I report bugs in coreutils?",
    ],
    "man-db/README.md.gz": [
        "Where does man-db store its cache?",
        "Who wrote man-db?",
    ],
    "libpng16-16/README.gz": [
        "Who maintains libpng?",
        "Which license covers libpng?",
        "Does libpng need zlib?",
    ],
    "base-passwd/README": ["What does base-passwd provide?", "How are system users allocated?"],
    "libglib2.0-0/README.md": ["What is GLib?", "Where do I report GLib bugs?"],
}
OFF_CORPUS = [
    "What is the capital of France?",
    "Who won the 1998 football world cup?",
    "How do I bake sourdough bread?",
    "What is the boiling point of water on Mount Everest?",
    "Who painted the Mona Lisa?",
    "How many moons does Jupiter have?",
    "What is the recommended dose of ibuprofen?",
    "When did the Roman empire fall?",
    "How do I train for a marathon?",
    "What is the best recipe for pancakes?",
    "Who wrote Pride and Prejudice?",
    "What is the tallest mountain in Africa?",
    "How do whales communicate underwater?",
    "Which planet is closest to the sun?",
    "What causes the northern lights?",
    "How do I grow tomatoes in a balcony garden?",
    "Who discovered penicillin?",
    "What is the population of Brazil?",
    "How long should I boil an egg?",
    "What language is spoken in Quebec?",
]


def _corpus(into: Path) -> list[str]:
    """Write the READMEs found here into ``into``; the in-corpus questions they answer."""
    questions = []
    for relative, asked in DOCS.items():
        source = Path("/usr/share/doc") / relative
        if not source.exists():
            print(f"skipped (not on this machine): {source}", file=sys.stderr)
            continue
        raw = (
            gzip.decompress(source.read_bytes()) if source.suffix == ".gz" else source.read_bytes()
        )
        name = relative.replace("/", "_").removesuffix(".gz") + ".txt"
        (into / name).write_text(raw.decode("utf-8", errors="replace"))
        questions += asked
    return questions


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(work: Path, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [
        sys.executable, "-m", "lightrag.cli", "+recipe=embedded",
        "--host", "127.0.0.1", "--port", str(port),
        "--working-dir", str(work / "rag"), "--input-dir", str(work / "inputs"),
    ]  # fmt: skip
    if args.cosine_threshold is not None:
        command.append(f"rag.cosine_threshold={args.cosine_threshold}")
    if args.answer_min_similarity is not None:
        command.append(f"llm.answer_min_similarity={args.answer_min_similarity}")
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited; see {work / 'server.log'}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(1)
    server.kill()
    raise SystemExit("the server was not ready within 300 s")


def _index(client: httpx.Client, docs: Path) -> float:
    started = time.monotonic()
    for path in sorted(docs.iterdir()):
        reply = client.post("/documents/upload", files={"file": (path.name, path.read_bytes())})
        reply.raise_for_status()
    while True:
        counts = client.get("/documents/status_counts").json()["status_counts"]
        if not counts.get("pending") and not counts.get("processing"):
            return time.monotonic() - started
        time.sleep(1)


def _abstentions(client: httpx.Client, questions: list[str]) -> dict[str, int]:
    counts = {}
    for mode in MODES:
        answers = [
            client.post("/query", json={"query": q, "mode": mode}).json()["response"]
            for q in questions
        ]
        counts[mode] = sum(any(mark in a for mark in ABSTAINED) for a in answers)
    return counts


def _matrix(path: Path) -> np.ndarray:
    stored = json.loads(path.read_text())
    matrix = np.frombuffer(base64.b64decode(stored["matrix"]), dtype=np.float32)
    matrix = matrix.reshape(-1, stored["embedding_dim"])
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


async def _best_similarities(work: Path, questions: list[str]) -> list[tuple[float, float, float]]:
    """Per question: best cosine vs chunks (the question), entities (low-level keywords)
    and relations (high-level keywords), as the query modes embed them."""
    from lightrag.llm.embedded.chat import EmbeddedChatModel
    from lightrag.llm.embedded.embedding import EmbeddedEmbeddingModel

    chat, embedder = EmbeddedChatModel(), EmbeddedEmbeddingModel()
    stores = {
        n: _matrix(work / "rag" / f"vdb_{n}.json") for n in ("chunks", "entities", "relationships")
    }
    rows = []
    for question in questions:
        high, low = await chat.extract_keywords(question)
        vectors = await embedder.embed(
            [question, ", ".join(low) or question, ", ".join(high) or question]
        )
        rows.append(
            (
                float((stores["chunks"] @ vectors[0]).max()),
                float((stores["entities"] @ vectors[1]).max()),
                float((stores["relationships"] @ vectors[2]).max()),
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cosine-threshold", type=float, default=None)
    parser.add_argument("--answer-min-similarity", type=float, default=None)
    parser.add_argument("--work", type=Path, default=None, help="keep the working directory here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="lightrag-abstention-"))
    docs = work / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    in_corpus = _corpus(docs)
    server, url = _start(work, args)
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            seconds = _index(client, docs)
            print(f"indexed {len(list(docs.iterdir()))} READMEs in {seconds:.0f} s")
            held_in = _abstentions(client, in_corpus)
            held_off = _abstentions(client, OFF_CORPUS)
    finally:
        server.terminate()
        server.wait(timeout=120)
    print(f"\n{'mode':8} in-corpus abstained   off-corpus abstained")
    for mode in MODES:
        print(
            f"{mode:8} {held_in[mode]:>3}/{len(in_corpus):<18} {held_off[mode]:>3}/{len(OFF_CORPUS)}"
        )
    print("\nbest cosine similarity (chunks / entities / relations), min-max per group")
    for label, group in (("in-corpus", in_corpus), ("off-corpus", OFF_CORPUS)):
        rows = np.array(asyncio.run(_best_similarities(work, group)))
        spans = ", ".join(f"{rows[:, i].min():.2f}-{rows[:, i].max():.2f}" for i in range(3))
        print(f"{label:11} {spans}")


if __name__ == "__main__":
    main()
