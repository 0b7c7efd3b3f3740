"""Queries while documents ingest: query latency idle vs under load, errors, ingestion share.

For each setup it starts a real server process on a loopback port and a fresh working
directory, indexes two small seed READMEs, then:

1. idle: after one warm-up round of every distinct query, ``--clients`` clients query
   in a closed loop (``--idle-rounds`` queries each) while nothing ingests;
2. load: the ``--docs`` load documents (Debian's documentation on this machine: READMEs,
   PDFs and an HTML page under /usr/share/doc, each cut to ``--max-doc-chars`` if text)
   are uploaded through ``/documents/file`` and the same clients query until
   ``--load-share`` of their characters are indexed (all by default; or until
   ``--load-seconds`` pass);
3. ingestion alone (unless ``--no-baseline``): a second server, on a fresh working
   directory, indexes the same seed and load documents with no queries, so the two
   throughputs compare the same work.

It reports query p50/p95 idle and under load for each kind of query (mode and endpoint: a
client asks one kind) and the worst kind's p95 ratio (the target is <= 3x; the pooled
figures are also given, but the load phase is timed, so fast kinds weigh more in it),
errors (a status other than 200, or an ``error`` line in a stream), and ingestion
throughput (characters of processed documents per second) under the query load and
alone: a ratio near 1 says ingestion does not starve while queries are served first.
Half the clients use ``/query``, half ``/query/stream``; the LLM cache is off, so every
query is computed. Setups:

- ``embedded``: ``+recipe=embedded`` (spaCy + MiniLM in-process);
- ``ollama``: the ``ollama`` chat and embedding bindings against
  ``lightrag.testing.fake_ollama`` (a fake Ollama with ``--latency-ms`` per request).

    nice -n 10 python benchmarks/query_under_load.py --setup ollama --docs 4 --clients 8
    nice -n 10 python benchmarks/query_under_load.py            # both, 10 docs, 20 clients
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

DOC_ROOT = Path("/usr/share/doc")
SEED_DOCS = ["zstd/README.md.gz", "coreutils/README.gz"]
LOAD_DOCS = [
    "redis-server/README.md.gz",
    "gdb/README.gz",
    "shared-mime-info/shared-mime-info-spec.pdf",
    "galera-4/README.gz",
    "base-passwd/users-and-groups.html",
    "nodejs/README.md",
    "libwrap0/README.gz",
    "socat/README.gz",
    "libgtk2.0-common/README.gz",
    "man-db/README.md.gz",
    "libpng16-16/README.gz",
    "libcgi-pm-perl/README.md.gz",
]
QUESTIONS = [
    "How do I compress a file with zstd?",
    "Which utilities are part of coreutils?",
    "How is Redis persistence configured?",
    "How do I run the Redis test suite?",
    "What does socat do?",
    "How do I report bugs in gdb?",
    "Where does man-db store its cache?",
    "Which license covers libpng?",
    "How are system users allocated?",
    "What is a MIME type glob?",
    "How does TCP wrappers access control work?",
    "How do I build Node.js from source?",
]
MODES = ["mix", "hybrid", "local", "naive"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _materialise(relative: str, into: Path, max_chars: int) -> Path | None:
    """The document as a file in ``into`` (un-gzipped; text cut to ``max_chars``)."""
    source = DOC_ROOT / relative
    if not source.exists():
        print(f"skipped (not on this machine): {source}", file=sys.stderr)
        return None
    raw = gzip.decompress(source.read_bytes()) if source.suffix == ".gz" else source.read_bytes()
    name = relative.replace("/", "_").removesuffix(".gz")
    if not name.endswith((".pdf", ".html", ".md")):
        name += ".txt"
    if not name.endswith(".pdf"):
        raw = raw.decode("utf-8", errors="replace")[:max_chars].encode()
    target = into / name
    target.write_bytes(raw)
    return target


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, path: str) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the process exited; see {log}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url}{path} not ready within 600 s; see {log}")


@contextmanager
def _process(command: list[str], log: Path, url: str, ready: str) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_http(url, process, log, ready)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _server_command(setup: str, work: Path, port: int, fake_url: str | None) -> list[str]:
    command = [
        sys.executable, "-m", "lightrag.cli", "--host", "127.0.0.1", "--port", str(port),
        "--working-dir", str(work / "rag"), "--input-dir", str(work / "inputs"),
        "rag.enable_llm_cache=false",
    ]  # fmt: skip
    if setup == "embedded":
        return [*command, "+recipe=embedded"]
    return [
        *command,
        "llm=ollama", "embedding=ollama",
        f"llm.host={fake_url}", "llm.model=fake-chat",
        f"embedding.host={fake_url}", "embedding.model=fake-embed", "embedding.dim=1024",
    ]  # fmt: skip


async def _documents(client: httpx.AsyncClient) -> dict[str, list[dict[str, Any]]]:
    reply = await client.get("/documents")
    reply.raise_for_status()
    statuses: dict[str, list[dict[str, Any]]] = reply.json()["statuses"]
    return statuses


async def _processed_chars(client: httpx.AsyncClient, names: set[str]) -> tuple[int, int]:
    """(characters of processed load documents, load documents not yet finished)."""
    statuses = await _documents(client)
    done = [d for d in statuses.get("processed", []) if d.get("file_path") in names]
    failed = [d for d in statuses.get("failed", []) if d.get("file_path") in names]
    finished = len(done) + len(failed)
    return sum(int(d.get("content_length") or 0) for d in done), len(names) - finished


async def _until_indexed(client: httpx.AsyncClient, names: set[str]) -> None:
    for _ in range(7200):
        if not (await _processed_chars(client, names))[1]:
            return
        await asyncio.sleep(0.5)
    raise SystemExit(f"documents not indexed within an hour: {sorted(names)}")


async def _upload(client: httpx.AsyncClient, paths: list[Path]) -> None:
    for path in paths:
        reply = await client.post("/documents/file", files={"file": (path.name, path.read_bytes())})
        reply.raise_for_status()


async def _ask(client: httpx.AsyncClient, index: int, number: int) -> tuple[float, str | None]:
    """Client ``index``'s query ``number``: its kind (``_kind``), question ``number``."""
    streamed = index % 2 == 1
    body = {"query": QUESTIONS[number % len(QUESTIONS)], "mode": MODES[index % len(MODES)]}
    started = time.monotonic()
    try:
        if streamed:
            async with client.stream("POST", "/query/stream", json=body) as reply:
                if reply.status_code != 200:
                    return time.monotonic() - started, f"HTTP {reply.status_code}"
                async for line in reply.aiter_lines():
                    if line.strip() and "error" in json.loads(line):
                        return time.monotonic() - started, f"stream error: {line[:200]}"
        else:
            reply = await client.post("/query", json=body)
            if reply.status_code != 200:
                return time.monotonic() - started, f"HTTP {reply.status_code}: {reply.text[:200]}"
    except httpx.HTTPError as exc:
        return time.monotonic() - started, f"{type(exc).__name__}: {exc}"
    return time.monotonic() - started, None


def _kind(index: int) -> str:
    """What client ``index`` asks: its mode (the same every round) and endpoint."""
    return MODES[index % len(MODES)] + ("/stream" if index % 2 == 1 else "")


async def _clients(
    client: httpx.AsyncClient, clients: int, *, rounds: int | None, stop: asyncio.Event
) -> tuple[dict[str, list[float]], list[str]]:
    """Closed-loop clients: ``rounds`` queries each, or until ``stop`` is set. Latencies
    by kind (``_kind``): in round ``k`` client ``i`` asks question ``i + k * clients``."""
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []

    async def one(index: int) -> None:
        number = index
        while (rounds is None and not stop.is_set()) or (
            rounds is not None and number < index + rounds * clients
        ):
            latency, error = await _ask(client, index, number)
            latencies.setdefault(_kind(index), []).append(latency)
            if error:
                errors.append(error)
            number += clients

    await asyncio.gather(*(one(i) for i in range(clients)))
    return latencies, errors


def _by_kind(
    idle: dict[str, list[float]], loaded: dict[str, list[float]]
) -> dict[str, dict[str, Any]]:
    """Each kind's idle and load summaries and p95 ratio (kinds with samples in both)."""
    kinds = sorted(idle.keys() & loaded.keys())
    result: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        quiet, busy = _summary(idle[kind]), _summary(loaded[kind])
        ratio = round(busy["p95_s"] / quiet["p95_s"], 2)
        result[kind] = {"idle": quiet, "load": busy, "p95_load_over_idle": ratio}
    return result


def _summary(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"count": 0}
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "count": len(ordered),
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(p95, 3),
        "max_s": round(ordered[-1], 3),
    }


async def _measure(
    url: str, seeds: list[Path], loads: list[Path], args: argparse.Namespace
) -> dict[str, Any]:
    timeout = httpx.Timeout(900.0)
    limits = httpx.Limits(max_connections=args.clients + 8)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        await _upload(client, seeds)
        seed_names = {p.name for p in seeds}
        await _until_indexed(client, seed_names)
        # warm-up: every distinct query once, so that idle measures the steady state and
        # not the first wave of cold model caches (the embedded ranker caches sentences)
        await _clients(client, len(QUESTIONS), rounds=1, stop=asyncio.Event())
        # idle: nothing ingests
        idle, idle_errors = await _clients(
            client, args.clients, rounds=args.idle_rounds, stop=asyncio.Event()
        )
        # load: upload, query until the load share is indexed
        names = {p.name for p in loads}
        await _upload(client, loads)
        total_chars = sum(
            int(d.get("content_length") or 0)
            for ds in (await _documents(client)).values()
            for d in ds
            if d.get("file_path") in names
        )
        stop = asyncio.Event()
        load_started = time.monotonic()
        queries = asyncio.create_task(_clients(client, args.clients, rounds=None, stop=stop))
        while True:
            await asyncio.sleep(0.5)
            chars, unfinished = await _processed_chars(client, names)
            elapsed = time.monotonic() - load_started
            if (
                not unfinished
                or chars >= args.load_share * total_chars
                or elapsed >= args.load_seconds
            ):
                break
        stop.set()
        loaded, load_errors = await queries
        load_window = time.monotonic() - load_started
        chars_under_load, _ = await _processed_chars(client, names)
        by_kind = _by_kind(idle, loaded)
        idle_summary = _summary([x for values in idle.values() for x in values])
        load_summary = _summary([x for values in loaded.values() for x in values])
        worst = max((v["p95_load_over_idle"] for v in by_kind.values()), default=None)
        print(  # the query figures, before the (possibly long) ingestion-alone phase
            f"queries by kind {by_kind}; worst p95 load/idle {worst}; errors "
            f"{len(idle_errors)} + {len(load_errors)}; {chars_under_load} of {total_chars} "
            f"characters indexed in the {load_window:.0f} s of load",
            file=sys.stderr,
            flush=True,
        )
    return {
        # the headline: the worst kind's p95 under load over its p95 idle
        "p95_load_over_idle": worst,
        "by_kind": by_kind,
        # all kinds pooled: the load phase is timed, not counted, so the faster kinds
        # (naive) give more of its samples than of idle's
        "idle": {**idle_summary, "errors": len(idle_errors)},
        "load": {**load_summary, "errors": len(load_errors)},
        "error_samples": (idle_errors + load_errors)[:5],
        "ingestion": {
            "documents": len(loads),
            "characters": total_chars,
            "query_load_seconds": round(load_window, 1),
            "characters_indexed_under_load": chars_under_load,
            "chars_per_s_under_load": round(chars_under_load / load_window, 1),
        },
    }


async def _ingest_alone(url: str, seeds: list[Path], loads: list[Path]) -> dict[str, Any]:
    """Index the seeds, then time the load documents with nothing else running."""
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(900.0)) as client:
        await _upload(client, seeds)
        await _until_indexed(client, {p.name for p in seeds})
        started = time.monotonic()
        await _upload(client, loads)
        names = {p.name for p in loads}
        await _until_indexed(client, names)
        seconds = time.monotonic() - started
        chars, _ = await _processed_chars(client, names)
    return {"alone_seconds": round(seconds, 1), "chars_per_s_alone": round(chars / seconds, 1)}


def run_setup(setup: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"qload-{setup}-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        docs = work / "docs"
        docs.mkdir()
        seeds = [p for r in SEED_DOCS if (p := _materialise(r, docs, args.max_doc_chars))]
        loads = [
            p for r in LOAD_DOCS[: args.docs] if (p := _materialise(r, docs, args.max_doc_chars))
        ]
        fake_url = None
        if setup == "ollama":
            fake_port = _free_port()
            fake_url = f"http://127.0.0.1:{fake_port}"
            fake = [
                sys.executable, "-m", "lightrag.testing.fake_ollama", "--port", str(fake_port),
                "--latency-ms", str(args.latency_ms), "--dim", "1024",
            ]  # fmt: skip
            stack.enter_context(_process(fake, work / "fake_ollama.log", fake_url, "/api/version"))

        @contextmanager
        def server(run: str) -> Iterator[str]:
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            command = [*_server_command(setup, work / run, port, fake_url), *args.override]
            with _process(command, work / f"{run}-server.log", url, "/ready"):
                yield url

        with server("queried") as url:
            result = asyncio.run(_measure(url, seeds, loads, args))
        if not args.no_baseline:
            print("query figures done; ingestion alone next", file=sys.stderr, flush=True)
            ingestion = result["ingestion"]
            with server("alone") as url:
                ingestion.update(asyncio.run(_ingest_alone(url, seeds, loads)))
            under_load = ingestion["chars_per_s_under_load"] / ingestion["chars_per_s_alone"]
            ingestion["under_load_over_alone"] = round(under_load, 2)
        return {"setup": setup, "clients": args.clients, **result}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", choices=["embedded", "ollama", "both"], default="both")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--docs", type=int, default=10, help=f"load documents (max {len(LOAD_DOCS)})"
    )
    parser.add_argument("--max-doc-chars", type=int, default=25_000)
    parser.add_argument("--idle-rounds", type=int, default=3, help="queries per client, idle")
    parser.add_argument(
        "--load-share", type=float, default=1.0, help="stop queries at this share indexed"
    )
    parser.add_argument("--load-seconds", type=float, default=900.0)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the ingestion-alone server"
    )
    parser.add_argument("--latency-ms", type=float, default=100.0, help="fake Ollama latency")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        help="a config override for the server (repeatable), e.g. llm.answer_shortlist=32",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    setups = ["ollama", "embedded"] if args.setup == "both" else [args.setup]
    for setup in setups:
        result = run_setup(setup, args)
        print(json.dumps(result) if args.json else json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
