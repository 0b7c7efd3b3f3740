"""Many workspaces in one server, on the file backends: isolation through every route
family, explicit creation and deletion, scoped keys, the pool's build-once and eviction."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from lightrag.config.models import AppConfig

from .chat_support import live_server
from .server_support import make_config, running_app, wait_until
from .workspace_support import (
    ALPHA,
    ALPHA_ONLY,
    ALPHA_WORDS,
    BETA,
    BETA_ONLY,
    BETA_WORDS,
    assert_only,
    create,
    ingest,
    pool_of,
    wait_idle,
    ws,
)


@pytest.fixture
def two_config(tmp_path: Path) -> AppConfig:
    return make_config(tmp_path)


@pytest.fixture
async def two(two_config: AppConfig) -> Any:
    """A running app with workspaces ``alpha`` and ``beta`` fed different documents."""
    async with running_app(two_config) as (client, app):
        await create(client, "alpha")
        await create(client, "beta")
        await ingest(client, "alpha", ALPHA, "curie.txt")
        await ingest(client, "beta", BETA, "brahe.txt")
        yield client, app


async def test_two_workspaces_never_see_each_other(two: Any) -> None:
    client, _app = two
    for name, mine, theirs, question in (
        ("alpha", ALPHA_ONLY, BETA_ONLY, "What did Marie Curie study? Tycho Brahe?"),
        ("beta", BETA_ONLY, ALPHA_ONLY, "Whom did Tycho Brahe train? Marie Curie?"),
    ):
        headers = ws(name)
        data = await client.post(
            "/query/data", json={"query": question, "mode": "mix"}, headers=headers
        )
        assert data.status_code == 200, data.text
        assert_only(json.dumps(data.json()["data"]), mine, theirs)
        answer = await client.post(
            "/query",
            json={"query": question, "mode": "mix", "include_references": True},
            headers=headers,
        )
        assert_only(answer.text, mine, theirs)
        refs = [ref["file_path"] for ref in answer.json()["references"]]
        assert refs == (["curie.txt"] if name == "alpha" else ["brahe.txt"])
        stream = await client.post(
            "/query/stream", json={"query": question, "mode": "mix"}, headers=headers
        )
        assert_only(stream.text, mine, theirs)
        own, other = (ALPHA_WORDS, BETA_WORDS) if name == "alpha" else (BETA_WORDS, ALPHA_WORDS)
        labels = (await client.get("/graph/label/list", headers=headers)).json()
        assert_only(" ".join(labels), own, other)
        popular = (await client.get("/graph/label/popular", headers=headers)).text
        assert_only(popular, own, other)
        graph = await client.get("/graphs", params={"label": "*"}, headers=headers)
        assert_only(graph.text, own, other)
        docs = (await client.get("/documents", headers=headers)).text
        assert_only(docs, ("curie.txt",) if name == "alpha" else ("brahe.txt",), ())
        assert ("brahe.txt" if name == "alpha" else "curie.txt") not in docs
        chat = await client.post(
            "/api/chat",
            json={
                "model": "lightrag:latest",
                "stream": False,
                "messages": [{"role": "user", "content": question}],
            },
            headers=headers,
        )
        assert chat.status_code == 200, chat.text
        assert_only(chat.text, mine, theirs)
        openai = await client.post(
            "/v1/chat/completions",
            json={"model": "lightrag:latest", "messages": [{"role": "user", "content": question}]},
            headers=headers,
        )
        assert openai.status_code == 200, openai.text
        assert_only(openai.text, mine, theirs)
        health = (await client.get("/health", headers=headers)).json()
        assert health["workspace"] == name
    # the default workspace holds neither
    default_docs = (await client.get("/documents")).json()
    assert default_docs["statuses"] == {}


async def test_chat_model_name_selects_the_workspace(two: Any) -> None:
    client, _app = two
    tags = (await client.get("/api/tags")).json()
    assert [m["name"] for m in tags["models"]] == [
        "lightrag:latest",
        "lightrag:alpha",
        "lightrag:beta",
    ]
    models = (await client.get("/v1/models")).json()
    assert [m["id"] for m in models["data"]][1:] == ["lightrag:alpha", "lightrag:beta"]
    question = "Tell me about Tycho Brahe and Marie Curie"
    for model, mine, theirs in (
        ("lightrag:alpha", ALPHA_ONLY, BETA_ONLY),
        ("lightrag:beta", BETA_ONLY, ALPHA_ONLY),
    ):
        messages = [{"role": "user", "content": question}]
        chat = await client.post(
            "/api/chat", json={"model": model, "stream": False, "messages": messages}
        )
        assert chat.status_code == 200, chat.text
        assert chat.json()["model"] == model
        assert_only(chat.text, mine, theirs)
        streamed = await client.post("/api/chat", json={"model": model, "messages": messages})
        assert_only(streamed.text, mine, theirs)
        openai = await client.post(
            "/v1/chat/completions", json={"model": model, "messages": messages, "stream": True}
        )
        assert_only(openai.text, mine, theirs)
    conflict = await client.post(
        "/api/chat",
        json={
            "model": "lightrag:alpha",
            "stream": False,
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers=ws("beta"),
    )
    assert conflict.status_code == 400
    assert "agree" in conflict.text


async def test_ingest_in_one_while_querying_the_other(two_config: AppConfig) -> None:
    config = two_config.model_copy(deep=True)
    config.llm = config.llm.model_validate({"type": "fake", "latency_ms": 30})
    async with running_app(config) as (client, _app):
        await create(client, "alpha")
        await create(client, "beta")
        await ingest(client, "beta", BETA, "brahe.txt")
        many = [f"{ALPHA[0]} Chapter {i} about polonium number {i}." for i in range(6)]
        response = await client.post("/documents/texts", json={"texts": many}, headers=ws("alpha"))
        assert response.status_code == 200
        answers = 0
        while (await client.get("/documents/pipeline_status", headers=ws("alpha"))).json()[
            "busy"
        ] or answers == 0:
            data = await client.post(
                "/query/data",
                json={"query": "Tycho Brahe Curie", "mode": "mix"},
                headers=ws("beta"),
            )
            assert data.status_code == 200
            assert_only(json.dumps(data.json()["data"]), BETA_ONLY, (*ALPHA_ONLY, "polonium"))
            answers += 1
        counts = await wait_idle(client, "alpha")
        assert counts["processed"] == 6
        beta_counts = await wait_idle(client, "beta")
        assert beta_counts["processed"] == 1


async def test_delete_a_workspace_drops_all_its_data_and_keeps_the_other(
    two: Any, two_config: AppConfig
) -> None:
    client, app = two
    working = two_config.server.working_dir
    assert (working / "alpha").is_dir()
    assert not (await client.delete("/workspaces/alpha")).is_success  # no confirm
    refused = await client.delete("/workspaces/alpha", params={"confirm": "beta"})
    assert refused.status_code == 400 and "confirm=alpha" in refused.text
    gone = await client.delete("/workspaces/alpha", params={"confirm": "alpha"})
    assert gone.status_code == 200, gone.text
    assert not (working / "alpha").exists()
    assert pool_of(app).get_open("alpha") is None
    names = [w["name"] for w in (await client.get("/workspaces")).json()["workspaces"]]
    assert names == ["", "beta"]
    assert (await client.get("/documents", headers=ws("alpha"))).status_code == 404
    # recreated, it starts empty in every storage
    await create(client, "alpha")
    headers = ws("alpha")
    assert (await client.get("/documents", headers=headers)).json()["statuses"] == {}
    assert (await client.get("/graph/label/list", headers=headers)).json() == []
    space = pool_of(app).get_open("alpha")
    assert space is not None
    storages = space.engine.storages
    for kv in (
        storages.full_docs,
        storages.text_chunks,
        storages.llm_cache,
        storages.full_entities,
        storages.full_relations,
        storages.doc_status,
    ):
        assert await kv.is_empty()
    for vdb in (storages.entities_vdb, storages.relationships_vdb, storages.chunks_vdb):
        assert await vdb.count() == 0
    assert await storages.graph.node_count() == 0
    data = await client.post(
        "/query/data", json={"query": "Marie Curie radium", "mode": "mix"}, headers=headers
    )
    assert data.json()["data"]["chunks"] == [] and data.json()["data"]["entities"] == []
    # the other one is untouched
    labels = (await client.get("/graph/label/list", headers=ws("beta"))).json()
    assert_only(" ".join(labels), BETA_WORDS, ALPHA_WORDS)
    unknown = await client.delete("/workspaces/x", params={"confirm": "x"})
    assert unknown.status_code == 404


async def test_the_default_workspace_cannot_be_deleted(tmp_path: Path) -> None:
    async with running_app(make_config(tmp_path, workspace="main")) as (client, _app):
        response = await client.delete("/workspaces/main", params={"confirm": "main"})
        assert response.status_code == 409
        assert "default" in response.text


async def test_unknown_workspace_is_404_and_creates_nothing(
    two: Any, two_config: AppConfig
) -> None:
    client, app = two
    working = two_config.server.working_dir
    before = sorted(p.name for p in working.iterdir())
    for method, path in (
        ("GET", "/documents"),
        ("POST", "/query"),
        ("GET", "/graph/label/list"),
        ("GET", "/health"),
        ("POST", "/documents/text"),
    ):
        body = {"query": "x"} if path == "/query" else {"text": "x"} if "text" in path else None
        response = await client.request(method, path, json=body, headers=ws("gamma"))
        assert response.status_code == 404, (path, response.text)
        assert "GET /workspaces" in response.json()["detail"]
    chat = await client.post(
        "/api/chat",
        json={"model": "lightrag:gamma", "messages": [{"role": "user", "content": "x"}]},
    )
    assert chat.status_code == 404 and "GET /workspaces" in chat.text
    assert sorted(p.name for p in working.iterdir()) == before
    assert pool_of(app).get_open("gamma") is None
    names = [w["name"] for w in (await client.get("/workspaces")).json()["workspaces"]]
    assert "gamma" not in names
    bad = await client.get("/documents", headers=ws("../etc"))
    assert bad.status_code == 400 and "invalid workspace name" in bad.text
    bad_create = await client.post("/workspaces", json={"name": "Upper"})
    assert bad_create.status_code == 400
    again = await client.post("/workspaces", json={"name": "alpha"})
    assert again.status_code == 409


async def test_auto_create_opens_an_unknown_workspace(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    config.server.workspaces.auto_create = True
    async with running_app(config) as (client, _app):
        response = await client.get("/documents", headers=ws("fresh"))
        assert response.status_code == 200
        names = [w["name"] for w in (await client.get("/workspaces")).json()["workspaces"]]
        assert names == ["", "fresh"]


async def test_the_workspace_list_survives_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with running_app(config) as (client, _app):
        await create(client, "kept")
        await ingest(client, "kept", ALPHA, "curie.txt")
    async with running_app(config) as (client, _app):
        listing = (await client.get("/workspaces")).json()
        assert [w["name"] for w in listing["workspaces"]] == ["", "kept"]
        assert listing["workspaces"][1]["created_at"]
        docs = (await client.get("/documents", headers=ws("kept"))).text
        assert "curie.txt" in docs


async def test_a_scoped_key_is_refused_on_another_workspace(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        api_key="admin-key",
        api_keys=[{"key": "alpha-key", "workspaces": ["alpha"]}],
    )
    admin = {"X-API-Key": "admin-key"}
    scoped = {"X-API-Key": "alpha-key"}
    async with running_app(config) as (client, _app):
        await create(client, "alpha", headers=admin)
        await create(client, "beta", headers=admin)
        ok = await client.get("/documents", headers={**scoped, **ws("alpha")})
        assert ok.status_code == 200
        for headers in ({**scoped, **ws("beta")}, scoped):  # beta, and the default
            refused = await client.get("/documents", headers=headers)
            assert refused.status_code == 403, refused.text
            assert "may not use workspace" in refused.json()["detail"]
        chat = await client.post(
            "/api/chat",
            json={"model": "lightrag:beta", "messages": [{"role": "user", "content": "x"}]},
            headers={"Authorization": "Bearer alpha-key"},
        )
        assert chat.status_code == 403
        listed = (await client.get("/workspaces", headers=scoped)).json()
        assert [w["name"] for w in listed["workspaces"]] == ["alpha"]
        tags = (await client.get("/api/tags", headers=scoped)).json()
        assert [m["name"] for m in tags["models"]] == ["lightrag:alpha"]
        assert (
            await client.post("/workspaces", json={"name": "c"}, headers=scoped)
        ).status_code == 403
        delete = await client.delete(
            "/workspaces/alpha", params={"confirm": "alpha"}, headers=scoped
        )
        assert delete.status_code == 403
        # an unscoped key reaches everything; no key reaches nothing
        assert (await client.get("/documents", headers={**admin, **ws("beta")})).is_success
        assert (await client.get("/documents", headers=ws("alpha"))).status_code == 403
        # a whitelisted route without credentials stays on the default workspace
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/health", headers=ws("alpha"))).status_code == 401


def test_a_scoped_key_with_an_invalid_workspace_refuses_to_start(tmp_path: Path) -> None:
    from lightrag.server.app import create_app

    with pytest.raises(ValueError, match="invalid workspace"):
        create_app(make_config(tmp_path, api_keys=[{"key": "k", "workspaces": ["Bad-Name"]}]))


async def test_fifty_concurrent_first_requests_build_one_engine(tmp_path: Path) -> None:
    async with running_app(make_config(tmp_path)) as (client, app):
        await create(client, "race")
        pool = pool_of(app)
        builds = pool.builds
        responses = await asyncio.gather(
            *(client.get("/documents/status_counts", headers=ws("race")) for _ in range(50))
        )
        assert all(r.status_code == 200 for r in responses)
        assert pool.builds == builds + 1
        assert pool.open_names.count("race") == 1


async def test_eviction_closes_idle_engines_only(tmp_path: Path) -> None:
    config = make_config(tmp_path, llm={"latency_ms": 40})
    config.server.workspaces.max_engines = 2  # the default + one more
    async with running_app(config) as (client, app):
        pool = pool_of(app)
        names = [f"w{i}" for i in range(5)]
        for name in names:
            await create(client, name)
        # w0 is busy with a held lease (a long request), w1 with indexing
        held = await pool.acquire("w0")
        many = [f"{BETA[0]} Part {i} of the star catalogue {i}." for i in range(4)]
        response = await client.post("/documents/texts", json={"texts": many}, headers=ws("w1"))
        assert response.status_code == 200
        w1 = pool.get_open("w1")
        assert w1 is not None and w1.busy
        # under load: the others are opened in turn, concurrently, while both are busy
        for _ in range(3):
            results = await asyncio.gather(
                *(client.get("/documents/status_counts", headers=ws(n)) for n in names[2:])
            )
            assert all(r.status_code == 200 for r in results)
            assert pool.get_open("w0") is held
            if pool.get_open("w1") is not None:
                assert pool.get_open("w1") is w1
        assert pool.get_open("w1") is w1 or not w1.busy
        assert pool.evictions > 0
        counts = await wait_idle(client, "w1")
        assert counts["processed"] == 4
        await pool.release(held)
        # once idle, extra engines go back under the bound
        await client.get("/documents/status_counts", headers=ws("w4"))
        assert len(pool.open_names) <= 2
        assert pool.open_names[0] == ""  # the default is pinned
        # an evicted workspace reopens with its data
        docs = await client.get("/documents/status_counts", headers=ws("w1"))
        assert docs.json()["status_counts"]["processed"] == 4


async def test_a_workspace_has_its_own_input_directory(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with running_app(config) as (client, app):
        await create(client, "alpha")
        upload = await client.post(
            "/documents/upload",
            files={"file": ("curie.txt", ALPHA[0].encode(), "text/plain")},
            headers=ws("alpha"),
        )
        assert upload.status_code == 200, upload.text
        assert (config.server.input_dir / "alpha" / "curie.txt").is_file()
        await wait_idle(client, "alpha")
        (config.server.input_dir / "root.txt").write_text(BETA[0], encoding="utf-8")
        scan = await client.post("/documents/scan")
        assert scan.status_code == 200
        await app.state.scanner.wait()
        counts = await wait_idle(client, "")
        assert counts["processed"] == 1  # root.txt only, not alpha/curie.txt
        docs = (await client.get("/documents")).text
        assert "root.txt" in docs and "curie" not in docs
        alpha_scan = await client.post("/documents/scan", headers=ws("alpha"))
        assert alpha_scan.status_code == 200
        space = pool_of(app).get_open("alpha")
        assert space is not None
        await space.scanner.wait()
        progress = (await client.get("/documents/scan-progress", headers=ws("alpha"))).json()
        assert progress["total_files"] == 1 and progress["duplicate_count"] == 1


async def test_pipeline_cancel_track_ids_and_cache_are_per_workspace(two: Any) -> None:
    client, app = two
    response = await client.post(
        "/documents/text", json={"text": "Ada Lovelace wrote notes."}, headers=ws("alpha")
    )
    track = response.json()["track_id"]
    await wait_idle(client, "alpha")
    mine = (await client.get(f"/documents/track_status/{track}", headers=ws("alpha"))).json()
    theirs = (await client.get(f"/documents/track_status/{track}", headers=ws("beta"))).json()
    assert mine["total_count"] == 1 and theirs["total_count"] == 0
    cancel = await client.post("/documents/cancel_pipeline", headers=ws("beta"))
    assert cancel.json()["status"] == "not_busy"
    cleared = await client.post("/documents/clear_cache", headers=ws("beta"))
    assert cleared.status_code == 200
    pool = pool_of(app)
    alpha, beta = pool.get_open("alpha"), pool.get_open("beta")
    assert alpha is not None and beta is not None
    assert await beta.engine.storages.llm_cache.is_empty()
    assert not await alpha.engine.storages.llm_cache.is_empty()


async def test_a_streamed_answer_holds_its_workspace_until_the_stream_ends(two: Any) -> None:
    """Over real HTTP (uvicorn): the lease lasts while the body streams, then ends."""
    _client, app = two
    pool = pool_of(app)
    space = pool.get_open("alpha")
    assert space is not None
    body = {"query": "What did Marie Curie study?", "mode": "mix"}
    async with (
        live_server(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
        client.stream("POST", "/query/stream", json=body, headers=ws("alpha")) as response,
    ):
        assert response.status_code == 200
        async for _line in response.aiter_lines():
            assert space.uses == 1  # leased while the body is sent
            break
    await wait_until(lambda: _true(space.uses == 0), what="the lease to end")


async def _true(value: bool) -> bool:
    return value
