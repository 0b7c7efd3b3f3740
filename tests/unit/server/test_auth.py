"""API key, accounts with JWT login, whitelist, and the refusal to start without a secret."""

from __future__ import annotations

from pathlib import Path

import bcrypt
import jwt
import pytest

from lightrag.server.app import create_app

from .server_support import app_without_lifespan, make_config

PROTECTED = "/documents/supported_file_types"
ACCOUNTS = [{"username": "admin", "password": "s3cret-pass"}]
SECRET = "a-long-random-token-secret-for-tests-only"


async def test_open_mode_lets_every_request_through(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path)) as client:
        response = await client.get(PROTECTED)
    assert response.status_code == 200
    assert ".txt" in response.json()["supported_extensions"]


async def test_missing_api_key_is_refused_with_upstream_message(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path, api_key="k-123")) as client:
        response = await client.get(PROTECTED)
    assert response.status_code == 403
    assert response.json() == {"detail": "API Key required"}


async def test_wrong_api_key_is_refused_with_upstream_message(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path, api_key="k-123")) as client:
        response = await client.get(PROTECTED, headers={"X-API-Key": "k-124"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid API Key"}


async def test_right_api_key_is_accepted(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path, api_key="k-123")) as client:
        response = await client.get(PROTECTED, headers={"X-API-Key": "k-123"})
    assert response.status_code == 200


async def test_whitelist_globs_open_matching_paths_only(tmp_path: Path) -> None:
    config = make_config(tmp_path, api_key="k", whitelist_paths=["/documents/supported_*"])
    async with app_without_lifespan(config) as client:
        opened = await client.get(PROTECTED)
        closed = await client.get("/documents/scan-progress")
    assert opened.status_code == 200
    assert closed.status_code == 403


async def test_docs_login_and_auth_status_stay_open_with_a_key(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path, api_key="k")) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/auth-status"):
            assert (await client.get(path)).status_code == 200, path


def test_accounts_without_token_secret_refuse_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="token_secret"):
        create_app(make_config(tmp_path, accounts=ACCOUNTS))


def test_empty_api_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="api_key"):
        create_app(make_config(tmp_path, api_key=""))


async def test_login_returns_a_token_that_opens_protected_routes(tmp_path: Path) -> None:
    config = make_config(tmp_path, accounts=ACCOUNTS, token_secret=SECRET)
    async with app_without_lifespan(config) as client:
        refused = await client.get(PROTECTED)
        login = await client.post("/login", data={"username": "admin", "password": "s3cret-pass"})
        token = login.json()["access_token"]
        allowed = await client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert login.status_code == 200
    assert login.json()["auth_mode"] == "enabled"
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["sub"] == "admin"
    assert allowed.status_code == 200


async def test_login_with_wrong_password_is_401(tmp_path: Path) -> None:
    config = make_config(tmp_path, accounts=ACCOUNTS, token_secret=SECRET)
    async with app_without_lifespan(config) as client:
        response = await client.post("/login", data={"username": "admin", "password": "nope"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect credentials"}


async def test_repeated_failed_logins_lock_the_account_out(tmp_path: Path) -> None:
    config = make_config(tmp_path, accounts=ACCOUNTS, token_secret=SECRET)
    async with app_without_lifespan(config) as client:
        for _ in range(5):
            await client.post("/login", data={"username": "admin", "password": "nope"})
        locked = await client.post("/login", data={"username": "admin", "password": "s3cret-pass"})
    assert locked.status_code == 429


async def test_token_signed_with_another_secret_is_rejected(tmp_path: Path) -> None:
    config = make_config(tmp_path, accounts=ACCOUNTS, token_secret=SECRET)
    forged = jwt.encode(
        {"sub": "admin", "role": "user"},
        "another-long-random-secret-not-the-server-one",
        algorithm="HS256",
    )
    async with app_without_lifespan(config) as client:
        response = await client.get(PROTECTED, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert "login" in response.json()["detail"].lower()


async def test_guest_token_does_not_bypass_an_api_key(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path, api_key="k")) as client:
        status = (await client.get("/auth-status")).json()
        guest = status["access_token"]
        response = await client.get(PROTECTED, headers={"Authorization": f"Bearer {guest}"})
    assert status["auth_configured"] is False
    assert response.status_code == 403


async def test_api_key_still_works_when_accounts_are_configured(tmp_path: Path) -> None:
    config = make_config(tmp_path, api_key="k", accounts=ACCOUNTS, token_secret=SECRET)
    async with app_without_lifespan(config) as client:
        response = await client.get(PROTECTED, headers={"X-API-Key": "k"})
        status = (await client.get("/auth-status")).json()
    assert response.status_code == 200
    assert status["auth_configured"] is True
    assert "access_token" not in status or status["access_token"] is None


async def test_api_key_as_bearer_token_is_accepted_for_openai_style_clients(
    tmp_path: Path,
) -> None:
    async with app_without_lifespan(make_config(tmp_path, api_key="k-123")) as client:
        allowed = await client.get(PROTECTED, headers={"Authorization": "Bearer k-123"})
        refused = await client.get(PROTECTED, headers={"Authorization": "Bearer k-999"})
    assert allowed.status_code == 200
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Invalid API Key"}


async def test_cors_preflight_allows_configured_origin_only(tmp_path: Path) -> None:
    config = make_config(tmp_path, cors_origins=["https://ui.example"])
    headers = {"Access-Control-Request-Method": "POST"}
    async with app_without_lifespan(config) as client:
        allowed = await client.options(
            "/query", headers={**headers, "Origin": "https://ui.example"}
        )
        refused = await client.options(
            "/query", headers={**headers, "Origin": "https://evil.example"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://ui.example"
    assert refused.status_code == 400


async def test_auth_verify_checks_the_credentials(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path, api_key="k-123")) as client:
        good = await client.get("/auth/verify", headers={"X-API-Key": "k-123"})
        bad = await client.get("/auth/verify", headers={"X-API-Key": "nope"})
    assert good.json() == {"status": "ok"}
    assert bad.status_code == 403


async def test_bcrypt_hashed_account_password_logs_in(tmp_path: Path) -> None:
    digest = bcrypt.hashpw(b"hashed-pass", bcrypt.gensalt(rounds=4)).decode()
    accounts = [{"username": "ops", "password": "{bcrypt}" + digest}]
    config = make_config(tmp_path, accounts=accounts, token_secret=SECRET)
    async with app_without_lifespan(config) as client:
        good = await client.post("/login", data={"username": "ops", "password": "hashed-pass"})
        bad = await client.post("/login", data={"username": "ops", "password": digest})
    assert good.status_code == 200 and good.json()["access_token"]
    assert bad.status_code == 401


def test_malformed_bcrypt_password_refuses_to_start(tmp_path: Path) -> None:
    accounts = [{"username": "ops", "password": "{bcrypt}not-a-hash"}]
    with pytest.raises(ValueError, match="'ops' is not a bcrypt hash"):
        create_app(make_config(tmp_path, accounts=accounts, token_secret=SECRET))


async def test_a_key_protects_the_chat_apis_by_default(tmp_path: Path) -> None:
    async with app_without_lifespan(make_config(tmp_path, api_key="k")) as client:
        ollama = await client.get("/api/tags")
        openai = await client.get("/v1/models")
        with_bearer = await client.get("/api/version", headers={"Authorization": "Bearer k"})
    assert ollama.status_code == 403
    assert openai.status_code == 403
    assert with_bearer.status_code == 200
