"""Document state and maintenance routes: listing, paging, pipeline, deletion, cache."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from lightrag.server.jobs import BackgroundJobs

from .server_support import (
    CORPUS,
    make_config,
    running_app,
    wait_for_pipeline,
    wait_until,
)


async def test_documents_are_listed_grouped_by_status(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    statuses = (await client.get("/documents")).json()["statuses"]
    processed = statuses["processed"]
    assert len(processed) == len(CORPUS)
    first = processed[0]
    for field in ("id", "content_summary", "content_length", "created_at", "updated_at"):
        assert first[field], field
    assert first["chunks_count"] >= 1


async def test_status_counts_include_all(indexed: tuple[httpx.AsyncClient, FastAPI]) -> None:
    client, _ = indexed
    counts = (await client.get("/documents/status_counts")).json()["status_counts"]
    assert counts["processed"] == len(CORPUS)
    assert counts["all"] == len(CORPUS)
    assert counts["failed"] == 0


async def test_paginated_pages_filters_and_sorts(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    body = (
        await client.post(
            "/documents/paginated",
            json={
                "status_filter": "processed",
                "page": 1,
                "page_size": 10,
                "sort_field": "file_path",
                "sort_direction": "asc",
            },
        )
    ).json()
    assert [doc["file_path"] for doc in body["documents"]] == ["alice.txt", "bob.txt"]
    assert body["pagination"] == {
        "page": 1,
        "page_size": 10,
        "total_count": 2,
        "total_pages": 1,
        "has_next": False,
        "has_prev": False,
    }
    assert body["status_counts"]["processed"] == 2
    failed = (await client.post("/documents/paginated", json={"status_filters": ["failed"]})).json()
    assert failed["documents"] == [] and failed["pagination"]["total_count"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"page": 0},
        {"page_size": 5},
        {"page_size": 500},
        {"sort_field": "size"},
        {"status_filter": "done"},
    ],
)
async def test_paginated_rejects_bad_parameters_with_422(
    served: tuple[httpx.AsyncClient, FastAPI], payload: dict[str, object]
) -> None:
    client, _ = served
    response = await client.post("/documents/paginated", json=payload)
    assert response.status_code == 422
    assert next(iter(payload)) in response.text


async def test_track_status_of_unknown_id_is_200_and_empty_as_upstream(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    response = await client.get("/documents/track_status/insert_nothing")
    assert response.status_code == 200
    body = response.json()
    assert body["total_count"] == 0 and body["documents"] == [] and body["status_summary"] == {}
    blank = await client.get("/documents/track_status/%20")
    assert blank.status_code == 400 and "track_id" in blank.json()["detail"]


async def test_pipeline_status_has_upstream_fields(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    body = (await client.get("/documents/pipeline_status")).json()
    for field in ("busy", "job_name", "docs", "batchs", "cur_batch", "history_messages"):
        assert field in body, field


async def test_clear_documents_really_empties_every_storage(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, app = indexed
    response = await client.delete("/documents")
    assert response.json()["status"] == "success"
    counts = (await client.get("/documents/status_counts")).json()["status_counts"]
    assert counts["all"] == 0
    assert (await client.get("/graph/label/list")).json() == []
    rag = app.state.rag
    assert await rag.storages.full_docs.is_empty()
    assert await rag.storages.text_chunks.is_empty()
    assert await rag.storages.chunks_vdb.count() == 0
    assert await rag.storages.llm_cache.is_empty()


async def test_delete_document_removes_it_and_what_only_it_sourced(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, app = indexed
    docs = (await client.get("/documents")).json()["statuses"]["processed"]
    bob = next(doc for doc in docs if doc["file_path"] == "bob.txt")
    response = await client.request(
        "DELETE", "/documents/delete_document", json={"doc_ids": [bob["id"]]}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "deletion_started"
    jobs: BackgroundJobs = app.state.jobs
    await jobs.wait()
    remaining = (await client.get("/documents")).json()["statuses"]
    assert [doc["file_path"] for doc in remaining.get("processed", [])] == ["alice.txt"]
    labels = (await client.get("/graph/label/list")).json()
    assert "Bob Jones" not in labels
    assert "Alice Smith" in labels


async def test_delete_unknown_document_is_404_and_deletes_nothing(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    docs = (await client.get("/documents")).json()["statuses"]["processed"]
    response = await client.request(
        "DELETE", "/documents/delete_document", json={"doc_ids": [docs[0]["id"], "doc-nope"]}
    )
    assert response.status_code == 404
    assert "doc-nope" in response.json()["detail"]
    counts = (await client.get("/documents/status_counts")).json()["status_counts"]
    assert counts["processed"] == len(CORPUS)


async def test_delete_document_with_no_ids_is_422(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    response = await client.request("DELETE", "/documents/delete_document", json={"doc_ids": []})
    assert response.status_code == 422


async def test_delete_document_can_remove_its_input_file(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, app = served
    await client.post("/documents/upload", files={"file": ("gone.txt", b"Gina Hart met Ivo.")})
    await wait_for_pipeline(client)
    doc = (await client.get("/documents")).json()["statuses"]["processed"][0]
    await client.request(
        "DELETE", "/documents/delete_document", json={"doc_ids": [doc["id"]], "delete_file": True}
    )
    await app.state.jobs.wait()
    assert not (app.state.config.server.input_dir / "gone.txt").exists()
    messages = (await client.get("/documents/pipeline_status")).json()["history_messages"]
    assert f"delete {doc['id']}: removed input file gone.txt" in messages


async def test_delete_file_never_removes_a_file_outside_the_input_dir(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, app = served
    input_dir = app.state.config.server.input_dir
    outside = input_dir.parent / "outside.txt"
    outside.write_text("keep me")
    inserted = await client.post(
        "/documents/text",
        json={"text": "Jon Kay rows on the Thames.", "file_source": "../outside.txt"},
    )
    doc_id = inserted.json()["doc_ids"][0]
    await wait_for_pipeline(client)
    await client.request(
        "DELETE", "/documents/delete_document", json={"doc_ids": [doc_id], "delete_file": True}
    )
    await app.state.jobs.wait()
    assert outside.read_text() == "keep me"
    status = (await client.get("/documents/pipeline_status")).json()
    assert "not a file in the input dir" in status["latest_message"]


async def test_delete_document_outcomes_are_reported_in_the_pipeline_status(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, app = indexed
    doc_id = (await client.get("/documents")).json()["statuses"]["processed"][0]["id"]
    await client.request("DELETE", "/documents/delete_document", json={"doc_ids": [doc_id]})
    await app.state.jobs.wait()
    status = (await client.get("/documents/pipeline_status")).json()
    assert status["latest_message"].startswith(f"delete {doc_id}: success")


async def test_document_being_indexed_is_not_deleted_and_keeps_its_file(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    config = make_config(tmp_path_factory.mktemp("busy"), llm={"latency_ms": 300})
    async with running_app(config) as (client, app):
        upload = await client.post(
            "/documents/upload", files={"file": ("busy.txt", b"Hana Berg builds boats in Oslo.")}
        )
        doc_id = upload.json()["doc_ids"][0]
        await wait_until(lambda: _processing(client), what="indexing to start", deadline=30)
        await client.request(
            "DELETE",
            "/documents/delete_document",
            json={"doc_ids": [doc_id], "delete_file": True},
        )
        await app.state.jobs.wait()
        messages = (await client.get("/documents/pipeline_status")).json()["history_messages"]
        assert any(m.startswith(f"delete {doc_id}: fail (") for m in messages), messages
        assert (config.server.input_dir / "busy.txt").exists()
        await wait_for_pipeline(client)


async def _processing(client: httpx.AsyncClient) -> bool:
    counts = (await client.get("/documents/status_counts")).json()["status_counts"]
    return bool(counts.get("processing"))


@pytest.mark.parametrize("body", [{}, {"modes": []}, None])
async def test_clear_cache_empties_the_llm_cache(
    indexed: tuple[httpx.AsyncClient, FastAPI], body: dict[str, object] | None
) -> None:
    client, app = indexed
    await client.post("/query", json={"query": "Who is Alice Smith?", "mode": "local"})
    assert not await app.state.rag.storages.llm_cache.is_empty()
    response = await client.post("/documents/clear_cache", json=body)
    assert response.json()["status"] == "success"
    assert "for all modes" in response.json()["message"]
    assert await app.state.rag.storages.llm_cache.is_empty()


async def test_clear_cache_of_one_mode_keeps_the_others(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, app = indexed
    await client.post("/query", json={"query": "Who is Alice Smith?", "mode": "local"})
    cache = app.state.rag.storages.llm_cache
    before = set(await cache.keys())
    response = await client.post("/documents/clear_cache", json={"modes": ["local"]})
    assert "for modes local" in response.json()["message"]
    after = set(await cache.keys())
    assert after and not any(key.startswith("local:") for key in after)
    assert after == {key for key in before if not key.startswith("local:")}


async def test_clear_cache_rejects_unknown_modes(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    response = await client.post("/documents/clear_cache", json={"modes": ["fast"]})
    assert response.status_code == 422


async def test_reprocess_failed_retries_failed_documents(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    config = make_config(tmp_path_factory.mktemp("reprocess"), llm={"fail_on_text": "Zed Quill"})
    async with running_app(config) as (client, app):
        await client.post("/documents/text", json={"text": "Zed Quill writes in Rome."})
        counts = await wait_for_pipeline(client)
        assert counts["failed"] == 1
        failed = (await client.get("/documents")).json()["statuses"]["failed"][0]
        assert failed["error_msg"]
        app.state.rag.ctx.llm.config.fail_on_text = None
        body = (await client.post("/documents/reprocess_failed")).json()
        assert body["status"] == "reprocessing_started" and body["document_count"] == 1
        counts = await wait_for_pipeline(client)
    assert counts["processed"] == 1 and counts["failed"] == 0


async def test_cancel_pipeline_when_idle_says_not_busy(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    await wait_until(lambda: _idle(client), what="the startup resume run to finish", deadline=30)
    body = (await client.post("/documents/cancel_pipeline")).json()
    assert body["status"] == "not_busy"


async def test_cancel_pipeline_while_indexing_stops_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    config = make_config(tmp_path_factory.mktemp("cancel"), llm={"latency_ms": 200})
    async with running_app(config) as (client, _):
        texts = [f"Person Number{i} lives in City{i}." for i in range(6)]
        await client.post("/documents/texts", json={"texts": texts})
        await wait_until(lambda: _busy(client), what="the pipeline to start", deadline=30)
        body = (await client.post("/documents/cancel_pipeline")).json()
        assert body["status"] == "cancellation_requested"
        await wait_until(lambda: _idle(client), what="the pipeline to stop", deadline=30)
        counts = (await client.get("/documents/status_counts")).json()["status_counts"]
    assert counts["processed"] < len(texts)
    assert counts["processing"] == 0


async def _idle(client: httpx.AsyncClient) -> bool:
    return not (await client.get("/documents/pipeline_status")).json()["busy"]


async def _busy(client: httpx.AsyncClient) -> bool:
    return bool((await client.get("/documents/pipeline_status")).json()["busy"])


async def test_documents_can_be_inserted_again_after_clearing(
    indexed: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = indexed
    await client.delete("/documents")
    again = (await client.post("/documents/texts", json={"texts": CORPUS})).json()
    assert again["status"] == "success" and again["document_count"] == len(CORPUS)
    counts = await wait_for_pipeline(client)
    assert counts["processed"] == len(CORPUS)
    assert "Alice Smith" in (await client.get("/graph/label/list")).json()
