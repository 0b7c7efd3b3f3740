#!/usr/bin/env bash
# Smoke test of the README quick start: a fresh virtualenv, the README's install command,
# then `lightrag-server +recipe=embedded` with NO network; ingest three documents over the
# HTTP API, query every mode, check extractive answers with references. Prints install size,
# start-up time (launch to /health 200) and ingest speed.
#
# Usage:  scripts/smoke_embedded.sh [WORKDIR]      (default: a new directory under /tmp)
# Env:    SMOKE_VENV=/path/venv  reuse an installed virtualenv (skips the install step)
#         SMOKE_PORT=9631        port of the server inside its private network namespace
#         PYTHON=python3.11      interpreter that creates the virtualenv
#         SMOKE_BULK_DOCS=8      synthetic documents ingested afterwards for a steady-state
#                                speed figure (0 = skip)
# Needs:  network for the install only; root (or CAP_SYS_ADMIN) for `unshare -n`, which runs
#         the server and this script's client in a network namespace with loopback alone.
# Not run by CI's test command: it installs every dependency (about a minute with a pip cache).
set -euo pipefail

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=${1:-$(mktemp -d /tmp/lightrag-smoke.XXXXXX)}
port=${SMOKE_PORT:-9631}
python=${PYTHON:-python3.11}
mkdir -p "$work"
work=$(cd "$work" && pwd)

if ! unshare -n true 2>/dev/null; then
    echo "smoke_embedded: 'unshare -n' is not permitted here (run as root); refusing to run" \
        "the offline check with the network reachable" >&2
    exit 2
fi

venv=${SMOKE_VENV:-}
if [[ -z "$venv" ]]; then
    venv="$work/venv"
    src="$work/src"
    rm -rf "$src" && mkdir -p "$src"
    git -C "$repo" archive HEAD | tar -x -C "$src"  # a fresh checkout of the committed tree
    "$python" -m venv "$venv"
    echo "== install: pip install -e '.[all]' (the README command) in $src"
    start=$(date +%s.%N)
    (cd "$src" && "$venv/bin/pip" install --quiet -e '.[all]')
    end=$(date +%s.%N)
    printf 'install_seconds=%.1f\n' "$(echo "$end - $start" | bc)"
fi
printf 'venv_size_mb=%s\n' "$(du -sm "$venv" | cut -f1)"

data="$work/data"
rm -rf "$data" && mkdir -p "$data"
echo "== offline run in a private network namespace (loopback only), data in $data"
unshare -n env VENV="$venv" PORT="$port" DATA="$data" bash -s <<'OFFLINE'
set -euo pipefail
ip link set lo up
"$VENV/bin/python" - <<'CHECK'
import socket
try:
    socket.create_connection(("1.1.1.1", 443), timeout=2).close()
except OSError as exc:
    print(f"network_reachable=no ({exc.__class__.__name__})")
else:
    raise SystemExit("the network is reachable: the offline check would prove nothing")
CHECK
log="$DATA/server.log"
start=$(date +%s.%N)
(cd "$DATA" && exec "$VENV/bin/lightrag-server" +recipe=embedded server.host=127.0.0.1 \
    server.port="$PORT" --working-dir "$DATA/rag_storage" </dev/null >"$log" 2>&1) &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
SMOKE_START="$start" "$VENV/bin/python" - <<'CLIENT' || { tail -40 "$log" >&2; exit 1; }
import os
import random
import time

import httpx

BASE = f"http://127.0.0.1:{os.environ['PORT']}"
start = float(os.environ["SMOKE_START"])
DOCS = {
    "analytical_engine.txt": (
        "Ada Lovelace worked with Charles Babbage on the Analytical Engine in London. "
        "Babbage designed the machine as a general-purpose mechanical computer that read "
        "its instructions from punched cards. In 1843 Lovelace published her notes on the "
        "engine, which contained an algorithm for computing Bernoulli numbers. Historians "
        "often call that algorithm the first computer program. The Science Museum in London "
        "later built part of the engine from Babbage's drawings."
    ),
    "radium.txt": (
        "Marie Curie and Pierre Curie discovered the elements polonium and radium in Paris "
        "in 1898. Marie Curie named polonium after Poland, the country where she was born. "
        "She received the Nobel Prize in Physics in 1903 together with Pierre Curie and "
        "Henri Becquerel, and the Nobel Prize in Chemistry in 1911 for isolating radium. "
        "She later founded the Radium Institute in Paris, where researchers studied the "
        "medical uses of radioactivity."
    ),
    "apollo.txt": (
        "NASA launched Apollo 11 from the Kennedy Space Center in Florida on 16 July 1969. "
        "Neil Armstrong and Buzz Aldrin landed the lunar module Eagle on the Moon four days "
        "later, while Michael Collins stayed in orbit aboard the command module Columbia. "
        "Armstrong was the first person to walk on the lunar surface. The crew returned "
        "to Earth on 24 July 1969 and splashed down in the Pacific Ocean."
    ),
}
PEOPLE = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Niels Bohr", "Emmy Noether"]
ORGS = ["the Royal Society", "IBM", "CERN", "the University of Cambridge", "NASA"]
PLACES = ["London", "Geneva", "Princeton", "Copenhagen", "Berlin"]
TEMPLATES = [
    "{p} joined {o} in {y} and worked in {l} for several years.",
    "In {y}, {p} presented a new theory of computation at {o}.",
    "{o} funded the laboratory in {l}, where {p} studied radioactive elements.",
    "The archive in {l} keeps the letters that {p} wrote to colleagues at {o}.",
]
QUESTIONS = {
    "local": ("Who worked with Charles Babbage?", "analytical_engine.txt"),
    "global": ("Which prizes did Marie Curie receive?", "radium.txt"),
    "hybrid": ("Who landed on the Moon with Apollo 11?", "apollo.txt"),
    "naive": ("What did Lovelace publish in 1843?", "analytical_engine.txt"),
    "mix": ("What elements did the Curies discover in Paris?", "radium.txt"),
}

with httpx.Client(base_url=BASE, timeout=120) as client:
    while True:
        try:
            if client.get("/health").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.time() - start > 120:
            raise SystemExit("no /health 200 within 120 s")
        time.sleep(0.05)
    print(f"startup_seconds={time.time() - start:.2f}  (launch to /health 200)")

    t0 = time.time()
    reply = client.post(
        "/documents/texts", json={"texts": list(DOCS.values()), "file_sources": list(DOCS)}
    )
    reply.raise_for_status()
    while True:
        counts = client.get("/documents/status_counts").json()["status_counts"]
        busy = client.get("/documents/pipeline_status").json()["busy"]
        if counts.get("processed", 0) + counts.get("failed", 0) >= len(DOCS) and not busy:
            break
        if time.time() - t0 > 300:
            raise SystemExit(f"ingest not finished in 300 s: {counts}")
        time.sleep(0.1)
    ingest = time.time() - t0
    if counts.get("processed") != len(DOCS):
        raise SystemExit(f"documents not all processed: {counts}")
    chars = sum(len(text) for text in DOCS.values())
    print(
        f"ingest_seconds={ingest:.2f}  ({len(DOCS)} docs, {chars} chars, "
        f"{chars / ingest:.0f} chars/s; the first documents after start-up)"
    )

    for mode, (question, source) in QUESTIONS.items():
        t0 = time.time()
        reply = client.post("/query", json={"query": question, "mode": mode})
        reply.raise_for_status()
        body = reply.json()
        answer, refs = body["response"], body.get("references") or []
        cited = {ref["file_path"] for ref in refs}
        if not answer.startswith("Extractive answer"):
            raise SystemExit(f"{mode}: not labelled extractive: {answer[:200]!r}")
        if source not in cited or f"] {source}" not in answer:
            raise SystemExit(f"{mode}: {source} not among the references {sorted(cited)}")
        first = answer.split("\n- ", 1)[1].split("\n", 1)[0]
        print(f"query mode={mode:<6} {time.time() - t0:5.2f}s refs={sorted(cited)}")
        print(f"    Q: {question}\n    A: {first}")

    bulk = int(os.environ.get("SMOKE_BULK_DOCS", "8"))
    if bulk:
        # Steady-state speed, models loaded: synthetic prose of varied names and facts.
        rng = random.Random(4)
        texts = [
            " ".join(
                rng.choice(TEMPLATES).format(
                    p=rng.choice(PEOPLE), o=rng.choice(ORGS), l=rng.choice(PLACES),
                    y=rng.randint(1850, 1990),
                )
                for _ in range(50)
            )
            for _ in range(bulk)
        ]
        t0 = time.time()
        client.post(
            "/documents/texts",
            json={"texts": texts, "file_sources": [f"bulk_{i}.txt" for i in range(bulk)]},
        ).raise_for_status()
        total = len(DOCS) + bulk
        while True:
            counts = client.get("/documents/status_counts").json()["status_counts"]
            busy = client.get("/documents/pipeline_status").json()["busy"]
            if counts.get("processed", 0) + counts.get("failed", 0) >= total and not busy:
                break
            if time.time() - t0 > 900:
                raise SystemExit(f"bulk ingest not finished in 900 s: {counts}")
            time.sleep(0.2)
        took = time.time() - t0
        if counts.get("processed") != total:
            raise SystemExit(f"bulk documents not all processed: {counts}")
        chars = sum(len(text) for text in texts)
        print(
            f"bulk_ingest_seconds={took:.1f}  ({bulk} docs, {chars} chars: "
            f"{bulk / took:.2f} docs/s, {chars / took:.0f} chars/s, models already loaded)"
        )

    reply = client.post("/query", json={"query": "Write a poem about radium.", "mode": "bypass"})
    reply.raise_for_status()
    if "No generative language model is configured" not in reply.json()["response"]:
        raise SystemExit(f"bypass: unexpected reply {reply.json()['response'][:200]!r}")
    print("query mode=bypass says no generative model is configured")
print("smoke_embedded: OK")
CLIENT
OFFLINE
