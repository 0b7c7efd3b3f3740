"""Three server replicas on one PostgreSQL index 300 documents exactly once, one killed.

Each replica is a real server process (``python -m lightrag.testing.serve``) with every
storage on the test PostgreSQL and ``postgres`` or ``redis`` coordination. The documents
are submitted spread over the three; once indexing is under way one replica is killed
with SIGKILL. Then:

- every document is ``processed``; no extraction prompt was sent twice by the replicas
  that lived, and only prompts of documents the killed one had not finished were sent
  again (the fake model logs each call);
- the graph and the vector stores equal, entity by entity and fragment by fragment,
  those one replica builds from the same documents in another workspace;
- queries sent to the replicas during ingestion got no 5xx; once ingestion ends the
  replicas answer every mode alike, and as the single replica does up to what the
  approximate HNSW index changes (at least 80% of the same answer lines);
- every live replica reports the same, idle, pipeline status.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lightrag.compose import build_engine
from lightrag.config.models import AppConfig, BackendChoice, ServerConfig, StorageConfig
from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel

from .servers.base import wait_until
from .servers.postgres import PostgresTestServer
from .servers.redis import RedisLauncher
from .test_database_restart_mid_ingest import _snapshot
from .test_server_process import API_KEY, _clean_env, _free_port

pytestmark = [pytest.mark.replicas, pytest.mark.integration]

HEADERS = {"X-API-Key": API_KEY}
MODES = ["local", "global", "hybrid", "naive", "mix"]
LATENCY_MS = 120
# Each city is in 3 documents: under the summary threshold, so merge order cannot
# change a description (an LLM summary of many fragments depends on their order).
DOCUMENTS = [
    f"in report {i}, Person{i} Alder works with Person{i} Birch at Company{i} Works. "
    f"Person{i} Birch founded Company{i} Works in City{i % 100} Harbor."
    for i in range(300)
]
QUESTIONS = ["Who founded Company7 Works?", "What was founded in City3 Harbor?"]


def _storage_env(server: PostgresTestServer) -> dict[str, str]:
    params = server.params
    return {
        "POSTGRES_HOST": str(params["host"]),
        "POSTGRES_PORT": str(params["port"]),
        "POSTGRES_USER": str(params["user"]),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_DATABASE": str(params["database"]),
        "POSTGRES_VECTOR_TABLE": "replica_vectors",
        "ENABLE_LLM_CACHE_FOR_EXTRACT": "false",  # a second extraction must reach the model
        "LIGHTRAG_LEASE_SECONDS": "3",
    }


class Replica:
    """One server process; ``kill`` is SIGKILL, ``stop`` a clean SIGINT."""

    def __init__(
        self, tmp_path: Path, name: str, workspace: str, env: dict[str, str], replicas: int
    ) -> None:
        self.name = name
        self.killed = False
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.calls_log = tmp_path / f"calls-{name}.log"
        self.log_path = tmp_path / f"server-{name}.log"
        work = tmp_path / name
        work.mkdir()
        command = [
            sys.executable,
            "-m",
            "lightrag.testing.serve",
            "+recipe=postgres",
            "llm=fake",
            "embedding=fake",
            f"llm.latency_ms={LATENCY_MS}",
            f"llm.calls_log={self.calls_log}",
            "embedding.dim=32",
            "rag.max_async=4",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--working-dir",
            str(work / "rag_storage"),
            "--input-dir",
            str(work / "inputs"),
            "--key",
            API_KEY,
            "--workspace",
            workspace,
        ]
        child_env = {**_clean_env(), **env, "LIGHTRAG_REPLICAS": str(replicas)}
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=work, env=child_env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, seconds: float = 90) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"{self.name} not ready after {seconds}s:\n{self.log_tail()}")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=HEADERS, timeout=60)

    def kill(self) -> None:
        self.killed = True  # before the signal: a request in flight now may be cut off
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                code = self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                code = self.process.wait()
            assert code == 0, self.log_tail()
        if not self._log.closed:
            self._log.close()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def calls(self) -> list[tuple[str, str]]:
        if not self.calls_log.exists():
            return []
        return [tuple(line.split()) for line in self.calls_log.read_text().splitlines()]  # type: ignore[misc]


def _counts(client: httpx.Client) -> dict[str, int]:
    counts: dict[str, int] = client.get("/documents/status_counts").json()["status_counts"]
    return counts


def _wait_all_processed(clients: list[httpx.Client], total: int, seconds: float = 240) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        counts = _counts(clients[0])
        if counts.get("processed", 0) == total and not any(
            c.get("/documents/pipeline_status").json()["busy"] for c in clients
        ):
            return
        time.sleep(0.5)
    pytest.fail(f"not every document processed in {seconds}s: {_counts(clients[0])}")


def _answers(client: httpx.Client) -> dict[tuple[str, str], str]:
    out = {}
    for mode in MODES:
        for question in QUESTIONS:
            reply = client.post("/query", json={"query": question, "mode": mode})
            assert reply.status_code == 200, reply.text
            out[(mode, question)] = reply.json()["response"]
    return out


def _overlap(answer: str, expected: str) -> float:
    """Share of the expected answer's lines (reference numbers aside) the answer has too."""

    def lines(text: str) -> set[str]:
        return {re.sub(r"^\[\d+\] ", "", line) for line in text.splitlines()}

    wanted = lines(expected)
    return len(wanted & lines(answer)) / max(1, len(wanted))


class QueryLoad:
    """Queries round-robin over the replicas in a thread; records every status code."""

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self.codes: Counter[int] = Counter()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> QueryLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        turn = 0
        while not self._stop.is_set():
            replica = self.replicas[turn % len(self.replicas)]
            turn += 1
            if replica.killed:
                continue  # a load balancer stops sending to a dead replica
            mode = MODES[turn % len(MODES)]
            try:
                reply = httpx.post(
                    f"{replica.url}/query",
                    json={"query": QUESTIONS[turn % 2], "mode": mode},
                    headers=HEADERS,
                    timeout=60,
                )
                self.codes[reply.status_code] += 1
            except httpx.TransportError as exc:
                if not replica.killed:
                    self.errors.append(f"{replica.name}: {exc!r}")
            time.sleep(0.05)


@pytest.fixture(params=["postgres", "redis"])
def coordination(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def coordination_env(coordination: str, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if coordination == "postgres":
        yield {"LIGHTRAG_COORDINATION": "postgres"}
        return
    redis = request.getfixturevalue("redis_server")
    uri = redis if isinstance(redis, str) else redis.dsn
    yield {"LIGHTRAG_COORDINATION": "redis", "REDIS_URI": uri}


def _engine_snapshot(server: PostgresTestServer, workspace: str, tmp_path: Path) -> dict[str, Any]:
    import asyncio

    params = server.params
    choice = BackendChoice(
        type="postgres",
        host=params["host"],
        port=params["port"],
        user=params["user"],
        password=params.get("password") or "",
        database=params["database"],
        vector_table="replica_vectors",
    )
    config = AppConfig(
        server=ServerConfig(working_dir=tmp_path, workspace=workspace),
        storage=StorageConfig(kv=choice, vector=choice, graph=choice, doc_status=choice),
    )

    async def read() -> dict[str, Any]:
        rag = build_engine(
            config, llm=FakeChatModel(), embedding=HashingEmbeddingModel({"dim": 32})
        )
        await rag.initialize()
        try:
            return await _snapshot(rag)
        finally:
            await rag.finalize()

    return asyncio.run(read())


def test_three_replicas_index_every_document_once_with_one_killed(
    tmp_path: Path,
    postgres_server: PostgresTestServer,
    coordination_env: dict[str, str],
) -> None:
    env = {**_storage_env(postgres_server), **coordination_env}
    workspace = f"rep{uuid.uuid4().hex[:8]}"
    replicas = [Replica(tmp_path, f"r{i}", workspace, env, replicas=3) for i in range(3)]
    try:
        for replica in replicas:
            replica.wait_ready()
        clients = [replica.client() for replica in replicas]
        victim = replicas[2]
        with QueryLoad(replicas) as load:
            for start in range(0, len(DOCUMENTS), 20):  # spread over the three
                client = clients[(start // 20) % 3]
                batch = DOCUMENTS[start : start + 20]
                reply = client.post(
                    "/documents/texts",
                    json={
                        "texts": batch,
                        "file_sources": [f"doc-{start + i}.txt" for i in range(len(batch))],
                    },
                )
                assert reply.status_code == 200, reply.text
            end = time.monotonic() + 120
            while _counts(clients[0]).get("processed", 0) < 60:
                assert time.monotonic() < end, "indexing did not get going"
                time.sleep(0.1)
            killed_at = _counts(clients[0])
            victim.kill()
            live = clients[:2]
            _wait_all_processed(live, len(DOCUMENTS))
        assert not load.errors, load.errors[:5]
        assert load.codes and not [code for code in load.codes if code >= 500], load.codes
        assert killed_at.get("processed", 0) < len(DOCUMENTS), "the kill came too late"

        # exactly once: survivors never repeated a prompt; repeats only of the victim's
        extracted = [
            Counter(digest for kind, digest in r.calls() if kind in ("extract", "glean"))
            for r in replicas
        ]
        survivors = extracted[0] + extracted[1]
        assert max(survivors.values()) == 1, "a live replica extracted a chunk twice"
        repeated = set(survivors) & set(extracted[2])
        assert len(repeated) <= 2 * 8 * 2, "more repeats than the victim's open documents"
        every = survivors + extracted[2]
        chunks = len(DOCUMENTS)  # one chunk each
        assert len(every) == 2 * chunks  # every chunk's extraction and gleaning prompt was sent

        # the same graph and vectors as one replica builds
        solo_workspace = f"solo{uuid.uuid4().hex[:8]}"
        solo = Replica(tmp_path, "solo", solo_workspace, env, replicas=1)
        try:
            solo.wait_ready()
            with solo.client() as solo_client:
                reply = solo_client.post("/documents/texts", json={"texts": DOCUMENTS})
                assert reply.status_code == 200, reply.text
                _wait_all_processed([solo_client], len(DOCUMENTS), seconds=300)
                expected_answers = _answers(solo_client)
        finally:
            solo.stop()
        built = _engine_snapshot(postgres_server, workspace, tmp_path)
        expected = _engine_snapshot(postgres_server, solo_workspace, tmp_path)
        assert built["labels"] == expected["labels"]
        assert built["descriptions"] == expected["descriptions"]  # no fragment lost
        assert built["edges"] == expected["edges"]
        for count in ("entity_vectors", "relation_vectors", "chunk_vectors"):
            assert built[count] == expected[count], count

        # the replicas answer alike; against the single replica (another workspace in the
        # same tables) retrieval goes through pgvector's HNSW index, an approximate search
        # whose neighbours depend on the order rows were inserted in: mostly the same lines
        answers = [_answers(client) for client in live]
        assert answers[0] == answers[1]
        for key, answer in expected_answers.items():
            assert _overlap(answers[0][key], answer) >= 0.8, key
        time.sleep(2.5)  # every replica publishes its idle status
        statuses = [c.get("/documents/pipeline_status").json() for c in live]
        assert not any(s["busy"] for s in statuses)
        assert statuses[0]["history_messages"] == statuses[1]["history_messages"]
    finally:
        for replica in replicas:
            if replica.process.poll() is None:
                replica.stop()


def test_replicas_stop_claiming_while_their_coordination_database_is_away(
    tmp_path: Path, postgres_server: PostgresTestServer
) -> None:
    """Redis coordination goes away under two running replicas: both answer 503 on
    /ready and keep running, claim nothing meanwhile, and index every document exactly
    once after it is back (its data survives: append-only file)."""
    launcher = RedisLauncher()
    (tmp_path / "redis").mkdir()
    redis = launcher.start(tmp_path / "redis", _free_port())
    wait_until(lambda: launcher.ready(redis), timeout=30, what="private redis")
    env = {
        **_storage_env(postgres_server),
        "LIGHTRAG_COORDINATION": "redis",
        "REDIS_URI": redis.dsn,
    }
    workspace = f"away{uuid.uuid4().hex[:8]}"
    replicas = [Replica(tmp_path, f"r{i}", workspace, env, replicas=2) for i in range(2)]
    documents = DOCUMENTS[:20]
    try:
        for replica in replicas:
            replica.wait_ready()
        clients = [replica.client() for replica in replicas]
        launcher.stop(redis, remove_data=False)
        for client in clients:
            wait_until(
                lambda client=client: client.get("/ready").status_code == 503,
                timeout=30,
                what="/ready 503 without coordination",
            )
        reply = clients[0].post("/documents/texts", json={"texts": documents})
        assert reply.status_code == 200, reply.text
        time.sleep(3)  # long enough to claim and process them, were it claiming
        assert all(replica.process.poll() is None for replica in replicas)
        assert _counts(clients[1]).get("processed", 0) == 0
        redis = launcher.start(redis.data_dir, redis.port)
        for client in clients:
            wait_until(
                lambda client=client: client.get("/ready").status_code == 200,
                timeout=60,
                what="/ready 200 once coordination is back",
            )
        _wait_all_processed(clients, len(documents), seconds=120)
        extracts = Counter(d for r in replicas for kind, d in r.calls() if kind == "extract")
        assert len(extracts) == len(documents)  # one chunk each
        assert set(extracts.values()) == {1}  # no document extracted twice
    finally:
        for replica in replicas:
            replica.stop()
        launcher.stop(redis)
