"""Authentication: API key (``X-API-Key``) and optional accounts with JWT bearer tokens.

Modes, from the server config:

- no key, no accounts: every route is open.
- ``api_key``: every non-whitelisted route needs ``X-API-Key`` equal to it
  (compared in constant time; ``Authorization: Bearer <key>`` works too, for
  OpenAI-style clients) or, when accounts exist, a valid bearer token.
- ``accounts`` (passwords plain or ``{bcrypt}<hash>``): ``POST /login`` (OAuth2
  password form) returns a JWT signed with ``token_secret``; there is no default
  secret, and ``create_app`` refuses to start with accounts but no secret.

- ``api_keys``: keys scoped to workspaces; a request with one reaches only the
  workspaces it lists (403 elsewhere). ``api_key`` and accounts without a
  ``workspaces`` list are admins: every workspace, and creating or deleting them.
- ``query_api_keys``: query-only keys (every workspace): GET routes and the query
  and chat routes (``QUERY_ROUTES``); any other write answers 403 with a message.

Whitelisted paths (``server.whitelist_paths``, ``*`` globs) are open in every
mode; ``/login``, ``/auth-status`` and ``/ready`` always are. When no accounts
are configured, ``/auth-status`` hands out a guest token signed with a random
per-process key: it grants nothing the open mode would not.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Annotated, Any, Literal

import jwt
from fastapi import APIRouter, Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel

import lightrag
from lightrag.config.models import ServerConfig
from lightrag.config.server_checks import check_auth_config
from lightrag.server.passwords import StoredPassword
from lightrag.server.schemas import error_response

__all__ = [
    "ALWAYS_OPEN_PATHS",
    "API_VERSION",
    "QUERY_ROUTES",
    "Authenticator",
    "WorkspaceScope",
    "check_auth_config",
    "require_auth",
    "router",
]

API_VERSION = "0344"
"""The upstream API generation this server speaks (reported by login and health)."""

ALWAYS_OPEN_PATHS = frozenset({"/", "/login", "/auth-status", "/ready"})
QUERY_ROUTES = frozenset(
    {
        "/query",
        "/query/stream",
        "/query/data",
        "/api/chat",
        "/api/generate",
        "/api/show",
        "/v1/chat/completions",
        "/documents/paginated",
    }
)
"""The POST routes a query key may call: they answer or list, and change nothing."""
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ALGORITHM = "HS256"
_MAX_FAILED_LOGINS = 5
_LOCKOUT_WINDOW_SECONDS = 300.0

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_bearer = OAuth2PasswordBearer(tokenUrl="login", auto_error=False)


class WorkspaceScope:
    """The workspaces a caller may use: ``names`` (``None``: all of them); a
    ``query_only`` caller may only read and query them."""

    __slots__ = ("names", "query_only")

    def __init__(self, names: frozenset[str] | None, *, query_only: bool = False) -> None:
        self.names = names
        self.query_only = query_only

    @property
    def admin(self) -> bool:
        return self.names is None and not self.query_only

    def may_call(self, method: str, path: str) -> bool:
        """Whether this caller may send ``method`` to ``path`` (query keys: reads and
        ``QUERY_ROUTES`` only)."""
        if not self.query_only:
            return True
        return method.upper() in _READ_METHODS or path.rstrip("/") in QUERY_ROUTES

    def allows(self, workspace: str) -> bool:
        return self.names is None or workspace in self.names


_ADMIN = WorkspaceScope(None)
_QUERY = WorkspaceScope(None, query_only=True)


class Authenticator:
    """Checks credentials for one server; holds the login lockout counters."""

    def __init__(self, config: ServerConfig) -> None:
        check_auth_config(config)
        self._api_key = config.api_key.get_secret_value().encode() if config.api_key else None
        self._scoped_keys = [
            (scoped.key.get_secret_value().encode(), WorkspaceScope(frozenset(scoped.workspaces)))
            for scoped in config.api_keys
        ]
        self._scoped_keys += [
            (key.get_secret_value().encode(), _QUERY) for key in config.query_api_keys
        ]
        self._account_scopes = {
            account.username: WorkspaceScope(
                None if account.workspaces is None else frozenset(account.workspaces)
            )
            for account in config.accounts
        }
        self._accounts = {
            account.username: StoredPassword(
                account.password.get_secret_value(), username=account.username
            )
            for account in config.accounts
        }
        self._secret = (
            config.token_secret.get_secret_value()
            if config.accounts and config.token_secret
            else secrets.token_urlsafe(32)  # guest tokens only; never configured, never shared
        )
        self._expire = timedelta(hours=config.token_expire_hours)
        self._whitelist = tuple(config.whitelist_paths)
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    @property
    def accounts_enabled(self) -> bool:
        return bool(self._accounts)

    @property
    def open_access(self) -> bool:
        """True when neither a key nor accounts are configured."""
        return self._api_key is None and not self._accounts and not self._scoped_keys

    @property
    def auth_mode(self) -> Literal["enabled", "disabled"]:
        return "enabled" if self._accounts else "disabled"

    def is_whitelisted(self, path: str) -> bool:
        return path in ALWAYS_OPEN_PATHS or any(
            fnmatchcase(path, pattern) for pattern in self._whitelist
        )

    # tokens ------------------------------------------------------------------------

    def create_token(self, username: str, role: Literal["user", "guest"]) -> str:
        now = datetime.now(UTC)
        payload = {"sub": username, "role": role, "iat": now, "exp": now + self._expire}
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM)

    def token_user(self, token: str) -> str | None:
        """The account name of a valid, unexpired user token; ``None`` otherwise."""
        try:
            payload = jwt.decode(token, self._secret, algorithms=[_ALGORITHM])
        except jwt.InvalidTokenError:
            return None
        username = payload.get("sub")
        if payload.get("role") != "user" or username not in self._accounts:
            return None
        return str(username)

    def key_matches(self, key: str) -> bool:
        return self.key_scope(key) is not None

    def key_scope(self, key: str) -> WorkspaceScope | None:
        """The scope of API key ``key`` (admin for ``api_key``); ``None`` when no key
        matches. Every configured key is compared, in constant time each."""
        offered = key.encode()
        found: WorkspaceScope | None = None
        if self._api_key is not None and hmac.compare_digest(offered, self._api_key):
            found = _ADMIN
        for stored, scope in self._scoped_keys:
            if hmac.compare_digest(offered, stored):
                found = scope
        return found

    def scope(self, api_key: str | None, token: str | None) -> WorkspaceScope | None:
        """The workspaces these credentials open (all in open mode); ``None`` when they
        authenticate nobody."""
        if self.open_access:
            return _ADMIN
        for key in (api_key, token):  # OpenAI-style clients send the key as a bearer token
            if key is not None:
                scope = self.key_scope(key)
                if scope is not None:
                    return scope
        if token is not None and self._accounts:
            user = self.token_user(token)
            if user is not None:
                return self._account_scopes[user]
        return None

    # checks --------------------------------------------------------------------------

    def is_authenticated(self, api_key: str | None, token: str | None) -> bool:
        """Whether these credentials grant access (always true in open mode)."""
        return self.scope(api_key, token) is not None

    def check(self, path: str, api_key: str | None, token: str | None, method: str = "GET") -> None:
        """Raise 401/403 (upstream's messages) unless the request may reach ``path``;
        403 for a query key sending a write."""
        if self.is_whitelisted(path):
            return
        scope = self.scope(api_key, token)
        if scope is not None:
            if not scope.may_call(method, path):
                raise HTTPException(
                    status_code=status.HTTP_403_FORBIDDEN,
                    detail=f"This key is a query key (server.query_api_keys): it may read "
                    f"and query, not {method.upper()} {path}; use the admin key "
                    "(server.api_key) for changes",
                )
            return
        if token is not None and self._accounts:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="Invalid or expired token. Please login again.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if self._api_key is not None or self._scoped_keys:
            offered = api_key is not None or token is not None
            detail = "Invalid API Key" if offered else "API Key required"
            raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=detail)
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="No credentials provided. Please login.",
            headers={"WWW-Authenticate": "Bearer"},
        )

    async def login(self, username: str, password: str) -> str:
        """A user token for valid credentials; 401 when wrong, 429 when locked out."""
        now = time.monotonic()
        failures = self._failures[username]
        while failures and now - failures[0] > _LOCKOUT_WINDOW_SECONDS:
            failures.popleft()
        if len(failures) >= _MAX_FAILED_LOGINS:
            raise HTTPException(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                detail="Too many failed login attempts; try again later",
            )
        stored = self._accounts.get(username)
        if stored is None:
            matches = StoredPassword.dummy_check(password)
        else:
            matches = await asyncio.to_thread(stored.matches, password)  # bcrypt is slow
        if not matches:
            failures.append(now)
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED, detail="Incorrect credentials"
            )
        failures.clear()
        return self.create_token(username, "user")


async def get_authenticator(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]


async def require_auth(
    request: Request,
    auth: AuthenticatorDep,
    api_key: Annotated[str | None, Security(_api_key_header)],
    token: Annotated[str | None, Security(_bearer)],
) -> None:
    """Route dependency: 401/403 unless the request is authenticated or whitelisted."""
    auth.check(request.url.path, api_key, token, request.method)


def request_scope(request: Request) -> WorkspaceScope | None:
    """The workspaces the request's credentials open; ``None`` when it has none valid
    (it reached a whitelisted route)."""
    auth: Authenticator = request.app.state.auth
    api_key = request.headers.get("X-API-Key")
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else None
    return auth.scope(api_key, token)


def request_is_authenticated(request: Request) -> bool:
    """Whether the request carries valid credentials (for whitelisted routes that show more
    to authenticated callers, such as ``/health``)."""
    return request_scope(request) is not None


# routes ------------------------------------------------------------------------------


class LoginResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    auth_mode: Literal["enabled", "disabled"]
    message: str | None = None
    core_version: str
    api_version: str


class AuthStatusResponse(BaseModel):
    auth_configured: bool
    access_token: str | None = None
    token_type: Literal["bearer"] | None = None
    auth_mode: Literal["enabled", "disabled"]
    message: str | None = None
    core_version: str
    api_version: str


router = APIRouter(tags=["authentication"])


def _versions() -> dict[str, Any]:
    return {"core_version": lightrag.__version__, "api_version": API_VERSION}


@router.post(
    "/login",
    responses={
        401: error_response("Incorrect credentials"),
        429: error_response("Too many failed logins; wait before trying again"),
    },
)
async def login(
    auth: AuthenticatorDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> LoginResponse:
    """Exchange account credentials for a bearer token (a guest token when no accounts)."""
    if not auth.accounts_enabled:
        return LoginResponse(
            access_token=auth.create_token("guest", "guest"),
            auth_mode="disabled",
            message="Authentication is not configured; guest access",
            **_versions(),
        )
    token = await auth.login(form.username, form.password)
    return LoginResponse(access_token=token, auth_mode="enabled", **_versions())


@router.get("/auth/verify", dependencies=[Depends(require_auth)])
async def verify_credentials() -> dict[str, str]:
    """``{"status": "ok"}`` when the request's credentials are valid (401/403 otherwise)."""
    return {"status": "ok"}


@router.get("/auth-status")
async def auth_status(auth: AuthenticatorDep) -> AuthStatusResponse:
    """Whether login is required; a guest token when it is not."""
    if auth.accounts_enabled:
        return AuthStatusResponse(auth_configured=True, auth_mode="enabled", **_versions())
    return AuthStatusResponse(
        auth_configured=False,
        access_token=auth.create_token("guest", "guest"),
        token_type="bearer",
        auth_mode="disabled",
        message="Authentication is not configured; guest access",
        **_versions(),
    )
