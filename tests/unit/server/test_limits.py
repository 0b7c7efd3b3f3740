"""Request limits: oversize bodies get 413 with a message, before any route runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from .server_support import app_without_lifespan, make_config


async def test_declared_oversize_json_body_is_413_with_the_limit_named(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_request_body=1024)
    async with app_without_lifespan(config) as client:
        response = await client.post("/query", json={"query": "x" * 5000})
    assert response.status_code == 413
    assert "1024 bytes" in response.json()["detail"]
    assert "max_request_body" in response.json()["detail"]


async def test_chunked_oversize_body_is_413_too(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_request_body=1024)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"y" * 512
        yield b'"}'

    async with app_without_lifespan(config) as client:
        response = await client.post(
            "/documents/text", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert "max_request_body" in response.json()["detail"]


async def test_upload_routes_use_the_upload_limit(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_request_body=1024, max_upload_size=2048)
    async with app_without_lifespan(config) as client:
        response = await client.post(
            "/documents/upload", files={"file": ("big.txt", b"z" * 4096, "text/plain")}
        )
    assert response.status_code == 413
    assert "max_upload_size" in response.json()["detail"]


async def test_oversize_body_is_refused_before_auth_is_checked_so_nothing_is_read(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path, max_request_body=100, api_key="k")
    async with app_without_lifespan(config) as client:
        response = await client.post("/query", json={"query": "q" * 500})
    assert response.status_code == 413


async def test_chunked_oversize_upload_is_413_not_a_parse_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_upload_size=4096)
    boundary = b"limitboundary"
    head = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
    )

    async def chunks() -> AsyncIterator[bytes]:
        yield head
        for _ in range(16):
            yield b"w" * 1024
        yield b"\r\n--" + boundary + b"--\r\n"

    async with app_without_lifespan(config) as client:
        response = await client.post(
            "/documents/file",
            content=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"},
        )
    assert response.status_code == 413
    assert "max_upload_size" in response.json()["detail"]
