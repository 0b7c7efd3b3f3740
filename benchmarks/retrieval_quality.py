"""Retrieval quality through the real server on the synthetic corpus with gold questions.

Builds an index of ``benchmarks/retrieval_corpus.py``'s corpus (N documents, its fake
chat model, the hashing embedder) in a working directory, then starts the server
(``create_app`` under uvicorn, in a child process so that its CPU can be read from
/proc) on that directory and asks every gold question in every mode at two budgets,
context only (``only_need_context``) over HTTP:

- default: the server's defaults (top_k 40, chunk_top_k 20, 6000/8000/30000 tokens);
- tight: ``top_k 5, chunk_top_k 3``.

Per mode and budget it reports the subject hit rate (the subject's name is in the
context), the gold-document hit rate (the subject's file is in the reference list),
both per question kind (entity-centric, thematic), the mean context size in
characters and the server CPU per query in milliseconds (read from /proc: HTTP, keyword
step and context build; the fake model's keyword replies are cached in the index after
the first run on it). The server (and this benchmark's server child) limits numpy's
BLAS pool to one thread unless ``OPENBLAS_NUM_THREADS`` is set: its threads otherwise
spin on the busy cores and cost 3-4x the CPU of the whole query (N=1000, local: 25 ms
against 7 ms per query).

The index is built through the server (``POST /documents/texts``) or, with
``--build-in-process``, by the engine in this process (faster; same pipeline). An
index already in ``--workdir`` is reused, so one build serves runs before and after
a retrieval change.

    python benchmarks/retrieval_quality.py --docs 100
    python benchmarks/retrieval_quality.py --docs 1000 --build-in-process \\
        --workdir /tmp/rq-1000 --json
    python benchmarks/retrieval_quality.py --docs 10000 --build-in-process --build-only \\
        --workdir /tmp/rq-10000                       # index once, then measure (twice)
    python benchmarks/retrieval_quality.py --docs 10000 --questions 100 --workdir /tmp/rq-10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from retrieval_corpus import Question, build_corpus, register_corpus_model
from served import wait_processed, wait_ready

MODES = ("local", "global", "hybrid", "naive", "mix")
BUDGETS: dict[str, dict[str, int]] = {"default": {}, "tight": {"top_k": 5, "chunk_top_k": 3}}
_DONE_MARK = "retrieval-quality-index.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def app_config(workdir: Path, docs: int, seed: int, dim: int, port: int = 0) -> Any:
    from lightrag.config.models import AppConfig, BackendChoice, ServerConfig

    return AppConfig(
        server=ServerConfig(
            host="127.0.0.1",
            port=port or 9621,
            working_dir=workdir / "rag",
            input_dir=workdir / "inputs",
            log_level="WARNING",
        ),
        llm=BackendChoice(type="retrieval_corpus", docs=docs, seed=seed),
        embedding=BackendChoice(type="fake", dim=dim),
    )


def _register() -> None:
    from lightrag.testing import register_fakes

    register_fakes()
    register_corpus_model()


async def build_in_process(workdir: Path, docs: int, seed: int, dim: int) -> float:
    """Index the corpus with the engine in this process; returns wall seconds."""
    from lightrag.compose import build_engine

    _register()
    corpus = build_corpus(docs, seed)
    rag = build_engine(app_config(workdir, docs, seed, dim))
    await rag.initialize()
    started = time.perf_counter()
    try:
        batch = 500
        for start in range(0, docs, batch):
            await rag.insert(
                corpus.documents[start : start + batch],
                file_paths=corpus.file_paths[start : start + batch],
            )
            print(f"  indexed {min(docs, start + batch)}/{docs}", file=sys.stderr, flush=True)
        counts = await rag.storages.doc_status.status_counts()
    finally:
        await rag.finalize()
    if counts.get("processed", 0) != docs:
        raise SystemExit(f"indexing did not process every document: {counts}")
    return time.perf_counter() - started


def serve(workdir: Path, docs: int, seed: int, dim: int, port: int) -> None:
    """Run the server on ``workdir`` (the child process)."""
    import uvicorn

    from lightrag.server.app import create_app

    _register()
    config = app_config(workdir, docs, seed, dim, port)
    uvicorn.run(create_app(config), host="127.0.0.1", port=port, log_level="warning")


def _build_over_http(client: httpx.Client, docs: int, seed: int) -> float:
    corpus = build_corpus(docs, seed)
    started = time.perf_counter()
    reply = client.post(
        "/documents/texts", json={"texts": corpus.documents, "file_sources": corpus.file_paths}
    )
    reply.raise_for_status()
    counts = wait_processed(client, docs, timeout=36_000, poll=0.5)
    if counts.get("processed", 0) != docs:
        raise SystemExit(f"indexing did not process every document: {counts}")
    return time.perf_counter() - started


def _hit(name: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def measure(
    client: httpx.Client, pid: int, questions: list[Question], modes: tuple[str, ...]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for budget, overrides in BUDGETS.items():
        for mode in modes:
            # on a fresh index the default budget's pass also pays the keyword calls
            subject = {"entity": 0, "thematic": 0}
            gold = {"entity": 0, "thematic": 0}
            kinds = {"entity": 0, "thematic": 0}
            chars = 0
            cpu0 = _cpu_seconds(pid)
            for question in questions:
                body = {"query": question.text, "mode": mode, "only_need_context": True}
                reply = client.post("/query", json={**body, **overrides})
                reply.raise_for_status()
                text = reply.json()["response"]
                kinds[question.kind] += 1
                subject[question.kind] += _hit(question.subject, text)
                gold[question.kind] += question.file_path in text
                chars += len(text)
            cpu = _cpu_seconds(pid) - cpu0
            count = len(questions)
            rows.append(
                {
                    "mode": mode,
                    "budget": budget,
                    "questions": count,
                    "subject_hit": round(sum(subject.values()) / count, 3),
                    "gold_doc_hit": round(sum(gold.values()) / count, 3),
                    "subject_hit_entity": round(subject["entity"] / max(kinds["entity"], 1), 3),
                    "subject_hit_thematic": round(
                        subject["thematic"] / max(kinds["thematic"], 1), 3
                    ),
                    "mean_context_chars": round(chars / count),
                    "server_cpu_ms_per_query": round(1000 * cpu / count, 1),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="rq-"))
    workdir.mkdir(parents=True, exist_ok=True)
    mark = workdir / _DONE_MARK
    build_s = None
    built = mark.exists() and json.loads(mark.read_text()) == {
        "docs": args.docs,
        "seed": args.seed,
        "dim": args.dim,
    }
    if not built and args.build_in_process:
        build_s = asyncio.run(build_in_process(workdir, args.docs, args.seed, args.dim))
        mark.write_text(json.dumps({"docs": args.docs, "seed": args.seed, "dim": args.dim}))
        built = True
    if args.build_only:
        if not built:
            raise SystemExit("--build-only needs --build-in-process")
        build = None if build_s is None else round(build_s, 1)
        return {**vars(args), "build_s": build, "workdir": str(workdir), "results": []}
    port = _free_port()
    log = workdir / "server.log"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve",
        "--docs",
        str(args.docs),
        "--seed",
        str(args.seed),
        "--dim",
        str(args.dim),
        "--port",
        str(port),
        "--workdir",
        str(workdir),
    ]
    with log.open("wb") as handle:
        # the child runs the app without ``lightrag-server``'s entry point: give it the
        # entry point's BLAS limit (one thread unless set), so the CPU figure is the server's
        env = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **os.environ}
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            wait_ready(client, process, log)
            if not built:
                build_s = _build_over_http(client, args.docs, args.seed)
                mark.write_text(json.dumps({"docs": args.docs, "seed": args.seed, "dim": args.dim}))
            corpus = build_corpus(args.docs, args.seed)
            questions = corpus.sample_questions(args.questions or min(200, 2 * args.docs))
            rows = measure(client, process.pid, questions, tuple(args.modes))
    finally:
        process.terminate()
        process.wait(timeout=60)
    return {
        "docs": args.docs,
        "seed": args.seed,
        "dim": args.dim,
        "build_s": None if build_s is None else round(build_s, 1),
        "workdir": str(workdir),
        "results": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--questions", type=int, default=0, help="default min(200, 2 N)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dim", type=int, default=384, help="hashing embedder dimension")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--workdir", help="index directory (kept; reused when it matches)")
    parser.add_argument("--build-in-process", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="index, measure nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(Path(args.workdir), args.docs, args.seed, args.dim, args.port)
        return 0
    result = run(args)
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"N={result['docs']} seed={result['seed']} dim={result['dim']} build={result['build_s']}s"
    )
    print(
        f"{'mode':8} {'budget':8} {'subject':>8} {'entity':>7} {'thematic':>8} "
        f"{'gold doc':>8} {'ctx chars':>10} {'cpu ms':>7}"
    )
    for row in result["results"]:
        print(
            f"{row['mode']:8} {row['budget']:8} {row['subject_hit']:8.2f} "
            f"{row['subject_hit_entity']:7.2f} {row['subject_hit_thematic']:8.2f} "
            f"{row['gold_doc_hit']:8.2f} {row['mean_context_chars']:10d} "
            f"{row['server_cpu_ms_per_query']:7.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
