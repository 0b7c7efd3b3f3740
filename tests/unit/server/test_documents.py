"""Document intake: texts, files, uploads, scans; each enqueues, indexes, and is tracked."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from lightrag.compose import build_engine
from lightrag.server.ingest import Scanner

from .server_support import make_config, running_app, wait_for_pipeline

TEXT = "Carol White designs engines at Nova Motors. Nova Motors is based in Turin."


async def test_insert_text_returns_a_track_id_and_gets_indexed(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    response = await client.post("/documents/text", json={"text": TEXT, "file_source": "c.txt"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["track_id"] and body["document_count"] == 1
    await wait_for_pipeline(client)
    tracked = (await client.get(f"/documents/track_status/{body['track_id']}")).json()
    assert tracked["total_count"] == 1
    assert tracked["documents"][0]["status"] == "processed"
    assert tracked["documents"][0]["file_path"] == "c.txt"
    assert tracked["status_summary"] == {"processed": 1}


async def test_same_text_twice_is_reported_as_duplicated(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    await client.post("/documents/text", json={"text": TEXT})
    again = (await client.post("/documents/text", json={"text": TEXT})).json()
    assert again["status"] == "duplicated"
    assert again["duplicates"] and "already known" in again["message"]


async def test_insert_texts_with_sources_indexes_each(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    response = await client.post(
        "/documents/texts",
        json={"texts": [TEXT, "Dan Brown lives in Oslo."], "file_sources": ["a.md", "b.md"]},
    )
    assert response.json()["document_count"] == 2
    counts = await wait_for_pipeline(client)
    assert counts["processed"] == 2


@pytest.mark.parametrize(
    ("path", "payload", "needle"),
    [
        ("/documents/text", {"text": ""}, "text"),
        ("/documents/text", {"text": "  \n "}, "empty"),
        ("/documents/text", {}, "text"),
        ("/documents/texts", {"texts": []}, "texts"),
        ("/documents/texts", {"texts": ["ok", " "]}, "texts[1]"),
        ("/documents/texts", {"texts": ["a", "b"], "file_sources": ["x"]}, "file_sources"),
    ],
)
async def test_bad_text_bodies_are_422_naming_the_problem(
    served: tuple[httpx.AsyncClient, FastAPI], path: str, payload: dict[str, object], needle: str
) -> None:
    client, _ = served
    response = await client.post(path, json=payload)
    assert response.status_code == 422
    assert needle in response.text


async def test_too_many_texts_in_one_request_is_422(tmp_path: Path) -> None:
    async with running_app(make_config(tmp_path, max_texts_per_request=2)) as (client, _):
        response = await client.post("/documents/texts", json={"texts": ["a", "b", "c"]})
    assert response.status_code == 422
    assert "max_texts_per_request" in response.json()["detail"]


async def test_file_is_parsed_and_indexed_without_being_kept(
    served: tuple[httpx.AsyncClient, FastAPI], config_input_dir: Path
) -> None:
    client, _ = served
    response = await client.post(
        "/documents/file",
        files={"file": ("notes.md", TEXT.encode(), "text/markdown")},
        data={"description": "seed field"},
    )
    assert response.status_code == 200, response.text
    await wait_for_pipeline(client)
    assert not (config_input_dir / "notes.md").exists()
    docs = (await client.get("/documents")).json()["statuses"]["processed"]
    assert [doc["file_path"] for doc in docs] == ["notes.md"]


async def test_unsupported_file_type_is_400_listing_supported_types(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    response = await client.post(
        "/documents/file", files={"file": ("tool.exe", b"MZ\x00\x00", "application/x-msdos")}
    )
    assert response.status_code == 400
    assert ".exe" in response.json()["detail"] and ".txt" in response.json()["detail"]


async def test_empty_file_is_422(served: tuple[httpx.AsyncClient, FastAPI]) -> None:
    client, _ = served
    response = await client.post("/documents/file", files={"file": ("e.txt", b"", "text/plain")})
    assert response.status_code == 422
    assert "e.txt" in response.json()["detail"]


async def test_corrupt_docx_is_422_naming_the_file(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    response = await client.post(
        "/documents/file", files={"file": ("broken.docx", b"not a zip at all", "application/zip")}
    )
    assert response.status_code == 422
    assert "broken.docx" in response.json()["detail"]


async def test_non_utf8_text_file_is_422(served: tuple[httpx.AsyncClient, FastAPI]) -> None:
    client, _ = served
    response = await client.post(
        "/documents/file", files={"file": ("latin.txt", "café".encode("latin-1"), "text/plain")}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/documents/file_batch", "/documents/batch"])
async def test_batch_indexes_good_files_and_lists_bad_ones(
    served: tuple[httpx.AsyncClient, FastAPI], path: str
) -> None:
    client, _ = served
    files = [
        ("files", ("one.txt", TEXT.encode(), "text/plain")),
        ("files", ("two.txt", b"Erin Gray paints in Lisbon.", "text/plain")),
        ("files", ("three.bin", b"\x00\x01", "application/octet-stream")),
    ]
    body = (await client.post(path, files=files)).json()
    assert body["status"] == "partial_success"
    assert body["document_count"] == 2
    assert "three.bin" in body["message"]
    counts = await wait_for_pipeline(client)
    assert counts["processed"] == 2


async def test_batch_with_only_bad_files_is_400(served: tuple[httpx.AsyncClient, FastAPI]) -> None:
    client, _ = served
    files = [("files", ("x.bin", b"\x00", "application/octet-stream"))]
    response = await client.post("/documents/file_batch", files=files)
    assert response.status_code == 400
    assert "x.bin" in response.json()["detail"]


async def test_upload_saves_into_input_dir_then_indexes(
    served: tuple[httpx.AsyncClient, FastAPI], config_input_dir: Path
) -> None:
    client, _ = served
    response = await client.post(
        "/documents/upload", files={"file": ("../../escape/report.txt", TEXT.encode())}
    )
    assert response.status_code == 200, response.text
    assert (config_input_dir / "report.txt").read_text() == TEXT
    counts = await wait_for_pipeline(client)
    assert counts["processed"] == 1


async def test_upload_of_an_existing_name_is_duplicated_and_keeps_the_first_file(
    served: tuple[httpx.AsyncClient, FastAPI], config_input_dir: Path
) -> None:
    client, _ = served
    first = await client.post("/documents/upload", files={"file": ("r.txt", TEXT.encode())})
    second = await client.post("/documents/upload", files={"file": ("r.txt", b"Other text.")})
    assert first.status_code == 200 and first.json()["status"] == "success"
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["status"] == "duplicated" and body["track_id"] == ""
    assert "r.txt" in body["message"] and body["document_count"] == 0
    assert (config_input_dir / "r.txt").read_text() == TEXT
    counts = await wait_for_pipeline(client)
    assert counts["processed"] == 1 and counts["all"] == 1


async def test_upload_of_known_content_under_another_name_is_duplicated_and_not_saved(
    served: tuple[httpx.AsyncClient, FastAPI], config_input_dir: Path
) -> None:
    client, _ = served
    first = (
        await client.post("/documents/upload", files={"file": ("a.txt", TEXT.encode())})
    ).json()
    copy = await client.post("/documents/upload", files={"file": ("copy.md", TEXT.encode())})
    assert copy.status_code == 200, copy.text
    body = copy.json()
    assert body["status"] == "duplicated" and body["track_id"] == ""
    assert body["duplicates"] == first["doc_ids"]
    assert "a.txt" in body["message"] and "copy.md" in body["message"]
    assert not (config_input_dir / "copy.md").exists()
    assert (config_input_dir / "a.txt").read_text() == TEXT
    counts = await wait_for_pipeline(client)
    assert counts["processed"] == 1 and counts["all"] == 1


async def test_upload_of_text_inserted_through_the_api_is_duplicated(
    served: tuple[httpx.AsyncClient, FastAPI], config_input_dir: Path
) -> None:
    client, _ = served
    await client.post("/documents/text", json={"text": f"  {TEXT}\n"})
    copy = (await client.post("/documents/upload", files={"file": ("t.txt", TEXT.encode())})).json()
    assert copy["status"] == "duplicated"
    assert not (config_input_dir / "t.txt").exists()


async def test_upload_of_unsupported_type_is_400_and_saves_nothing(
    served: tuple[httpx.AsyncClient, FastAPI], config_input_dir: Path
) -> None:
    client, _ = served
    response = await client.post("/documents/upload", files={"file": ("x.exe", b"MZ")})
    assert response.status_code == 400
    assert not (config_input_dir / "x.exe").exists()


async def test_missing_file_field_is_422(served: tuple[httpx.AsyncClient, FastAPI]) -> None:
    client, _ = served
    response = await client.post("/documents/upload", files={"other": ("a.txt", b"x")})
    assert response.status_code == 422
    assert "file" in response.text


async def test_scan_indexes_supported_files_and_reports_bad_ones(
    served: tuple[httpx.AsyncClient, FastAPI], config_input_dir: Path
) -> None:
    client, app = served
    (config_input_dir / "sub").mkdir(parents=True, exist_ok=True)
    (config_input_dir / "a.txt").write_text(TEXT)
    (config_input_dir / "sub" / "b.md").write_text("Frank Green sails from Bergen.")
    (config_input_dir / "empty.txt").write_bytes(b"")
    (config_input_dir / "skip.exe").write_bytes(b"MZ")
    started = (await client.post("/documents/scan")).json()
    assert started["status"] == "scanning_started" and started["track_id"]
    scanner: Scanner = app.state.scanner
    await scanner.wait()
    progress = (await client.get("/documents/scan-progress")).json()
    assert progress["is_scanning"] is False
    assert progress["total_files"] == 3
    assert progress["indexed_count"] == 2
    assert [failure["file"] for failure in progress["failures"]] == ["empty.txt"]
    counts = await wait_for_pipeline(client)
    assert counts["processed"] == 2
    tracked = (await client.get(f"/documents/track_status/{started['track_id']}")).json()
    assert sorted(doc["file_path"] for doc in tracked["documents"]) == ["a.txt", "sub/b.md"]
    scan = (await client.get(f"/documents/scan/status/{started['track_id']}")).json()
    assert scan["status"] == "completed"
    assert scan["counts"] == {"total_files": 3, "enqueued": 2, "duplicates": 0, "failed": 1}
    unknown = await client.get("/documents/scan/status/scan_nothing")
    assert unknown.status_code == 404


async def test_second_scan_while_one_runs_is_reported_not_started(
    served: tuple[httpx.AsyncClient, FastAPI], config_input_dir: Path
) -> None:
    client, _ = served
    _write_people(config_input_dir, 30)
    first = (await client.post("/documents/scan")).json()
    second = (await client.post("/documents/scan")).json()
    assert first["status"] == "scanning_started"
    assert second["status"] == "already_scanning"
    assert second["track_id"] == first["track_id"]


async def test_auto_scan_at_startup_indexes_the_input_dir(tmp_path: Path) -> None:
    config = make_config(tmp_path, auto_scan_at_startup=True)
    config.server.input_dir.mkdir(parents=True)
    (config.server.input_dir / "start.txt").write_text(TEXT)
    async with running_app(config) as (client, app):
        await app.state.scanner.wait()
        counts = await wait_for_pipeline(client)
    assert counts["processed"] == 1


async def test_supported_file_types_lists_common_extensions(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, _ = served
    extensions = (await client.get("/documents/supported_file_types")).json()[
        "supported_extensions"
    ]
    assert {".txt", ".md", ".pdf", ".docx"} <= set(extensions)


async def test_documents_survive_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with running_app(config) as (client, _):
        await client.post("/documents/text", json={"text": TEXT})
        await wait_for_pipeline(client)
    async with running_app(config) as (client, _):
        counts = (await client.get("/documents/status_counts")).json()["status_counts"]
    assert counts["processed"] == 1


async def test_documents_left_pending_are_indexed_at_startup(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with build_engine(config) as rag:  # enqueue only, as if the server crashed
        await rag.enqueue([TEXT, "Hana Ito builds bridges in Osaka."])
    async with running_app(config) as (client, _):
        counts = await wait_for_pipeline(client)
    assert counts["processed"] == 2 and counts["pending"] == 0


def _write_people(directory: Path, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (directory / f"f{index}.txt").write_text(f"Person Number{index} lives here.")


@pytest.fixture
def config_input_dir(served: tuple[httpx.AsyncClient, FastAPI]) -> Path:
    _, app = served
    path: Path = app.state.config.server.input_dir
    return path


def _zip_with_entries(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            archive.writestr(f"part{index}.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("path", "field", "code"),
    [
        ("/documents/file", "file", 422),
        ("/documents/upload", "file", 422),
        ("/documents/file_batch", "files", 400),
    ],
)
async def test_uploads_are_parsed_within_the_configured_limits(
    tmp_path: Path, path: str, field: str, code: int
) -> None:
    config = make_config(tmp_path, max_archive_entries=3)
    async with running_app(config) as (client, _):
        response = await client.post(
            path, files={field: ("many.docx", _zip_with_entries(5), "application/zip")}
        )
    assert response.status_code == code, response.text
    assert "5 entries, more than the limit of 3" in response.json()["detail"]
    assert not (config.server.input_dir / "many.docx").exists()


async def test_scan_parses_files_within_the_configured_limits(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_archive_entries=3)
    config.server.input_dir.mkdir(parents=True)
    (config.server.input_dir / "many.docx").write_bytes(_zip_with_entries(5))
    async with running_app(config) as (client, app):
        await client.post("/documents/scan")
        await app.state.scanner.wait()
        progress = (await client.get("/documents/scan-progress")).json()
    [failure] = progress["failures"]
    assert failure["file"] == "many.docx"
    assert "more than the limit of 3" in failure["reason"]


async def test_deeply_nested_upload_is_422_and_does_not_stop_a_scan(
    served: tuple[httpx.AsyncClient, FastAPI], config_input_dir: Path
) -> None:
    client, app = served
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await client.post("/documents/file", files={"file": ("deep.json", deep)})
    assert response.status_code == 422 and "nested too deeply" in response.json()["detail"]
    (config_input_dir / "a_deep.json").write_bytes(deep)
    (config_input_dir / "b_fine.txt").write_text(TEXT)
    await client.post("/documents/scan")
    await app.state.scanner.wait()
    progress = (await client.get("/documents/scan-progress")).json()
    assert progress["error"] is None
    assert progress["indexed_count"] == 1
    assert [failure["file"] for failure in progress["failures"]] == ["a_deep.json"]
