"""The HTTP plumbing every network binding shares.

One ``HttpClient`` per binding instance: a pooled ``httpx.AsyncClient``, a
``max_async`` slot pool shared by all callers of that instance (served query
first: ``lightrag.vocabulary.priority``), a per-call
timeout, and retries with exponential backoff and jitter on connection
errors, 429 and 5xx (honouring ``Retry-After``), never on other statuses.
Every failure surfaces as ``HttpModelError`` whose message names the binding,
the host and the model, with the API key redacted.

Timeout semantics: a non-streamed call must finish each attempt within
``timeout`` seconds (asyncio deadline around send + read); a streamed call must
receive its first byte, and then each next piece, within ``timeout`` seconds
(a long answer that keeps flowing is not cut off). Timeouts are not retried.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from lightrag.vocabulary.models import ModelError, ModelUnavailableError
from lightrag.vocabulary.priority import PrioritySlots

__all__ = [
    "HttpClient",
    "HttpModelConfig",
    "HttpModelError",
    "HttpModelUnavailableError",
    "redact_url",
]

logger = logging.getLogger(__name__)

_RETRYABLE_TRANSPORT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
_NOT_RETRIED_5XX = frozenset({501, 505})
_BODY_EXCERPT = 400


class HttpModelError(ModelError):
    """A model call that failed for good; ``status_code`` is the HTTP status if any."""

    def __init__(self, message: str, *, status_code: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail


class HttpModelUnavailableError(HttpModelError, ModelUnavailableError):
    """The backend was unreachable, timed out or answered 429/5xx on every attempt."""


class HttpModelConfig(BaseModel):
    """Parameters every HTTP binding accepts (binding configs extend this)."""

    model_config = ConfigDict(extra="forbid")

    host: str
    model: str = Field(min_length=1)
    api_key: SecretStr | None = None
    timeout: float | None = Field(300.0, description="seconds per call; null or 0 = none")
    connect_timeout: float = Field(10.0, gt=0)
    max_async: int = Field(4, ge=1, description="concurrent requests, shared by all callers")
    max_retries: int = Field(3, ge=0)
    retry_initial_delay: float = Field(1.0, ge=0)
    retry_max_delay: float = Field(60.0, ge=0, description="longest wait between attempts")
    headers: dict[str, str] = Field(default_factory=dict)
    verify_tls: bool = True
    use_env_proxy: bool = Field(True, description="honour HTTP(S)_PROXY / NO_PROXY")

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"host must be an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, SecretStr) and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("timeout", mode="before")
    @classmethod
    def _no_timeout(cls, value: Any) -> Any:
        # The seed accepts TIMEOUT=None and upstream users set 0 to mean "no limit".
        if value is None or (isinstance(value, str) and value.strip().lower() in {"", "none"}):
            return None
        if isinstance(value, int | float | str) and float(value) == 0:
            return None
        if float(value) < 0:
            raise ValueError(f"timeout must be positive, 0 or null, got {value!r}")
        return value


def redact_url(url: str) -> str:
    """``url`` without user info (``https://user:pw@host`` -> ``https://host``)."""
    parsed = httpx.URL(url)
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    return str(parsed).rstrip("/")


def _retry_after_seconds(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_detail(body: bytes) -> str:
    """The server's own error message if the body is a known error shape, else an excerpt."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        return text[:_BODY_EXCERPT]
    if isinstance(payload, dict):
        error = payload.get("error", payload.get("detail"))
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:_BODY_EXCERPT]
        if isinstance(error, str):
            return error[:_BODY_EXCERPT]
        if isinstance(payload.get("message"), str):  # vLLM / LiteLLM: {"message": ...}
            return str(payload["message"])[:_BODY_EXCERPT]
    return text[:_BODY_EXCERPT]


class HttpClient:
    """A pooled, rate-limited, retrying JSON-over-HTTP client for one binding."""

    def __init__(
        self,
        *,
        binding: str,
        role: str,
        config: HttpModelConfig,
        base_url: str | None = None,
        auth_headers: Mapping[str, str] | None = None,
        model_label: str | None = None,
    ) -> None:
        self.config = config
        self.base_url = (base_url or config.host).rstrip("/")
        self.describe = (
            f"{binding} {role} model {model_label or config.model!r} at {redact_url(self.base_url)}"
        )
        secrets = {s for s in self._secret_values(auth_headers) if len(s) >= 4}
        self._secrets = sorted(secrets, key=len, reverse=True)  # "Bearer k" before "k"
        self._slots = PrioritySlots(config.max_async)
        self._random = random.Random()
        timeout = config.timeout
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers={**config.headers, **dict(auth_headers or {})},
            timeout=httpx.Timeout(timeout, connect=min(config.connect_timeout, timeout or 1e9)),
            limits=httpx.Limits(
                max_connections=config.max_async * 2,
                max_keepalive_connections=config.max_async,
            ),
            verify=config.verify_tls,
            trust_env=config.use_env_proxy,
        )

    def _secret_values(self, auth_headers: Mapping[str, str] | None) -> list[str]:
        values = []
        if self.config.api_key is not None:
            values.append(self.config.api_key.get_secret_value())
        extra = {
            name: value
            for name, value in self.config.headers.items()
            if any(word in name.lower() for word in ("key", "auth", "token", "secret"))
        }
        for value in [*(auth_headers or {}).values(), *extra.values()]:
            values.append(value)
            values.extend(value.split()[1:])  # "Bearer <key>" -> also "<key>"
        return values

    def redact(self, text: str) -> str:
        """``text`` with every configured secret replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def error(
        self,
        what: str,
        *,
        status_code: int | None = None,
        detail: str = "",
        unavailable: bool = False,
    ) -> HttpModelError:
        """An ``HttpModelError`` saying ``what`` went wrong with this binding (secrets
        redacted); ``unavailable`` for a backend that is down or too slow (may recover)."""
        message = f"{self.describe}: {what}"
        if detail:
            message += f": {detail}"
        kind = HttpModelUnavailableError if unavailable else HttpModelError
        return kind(self.redact(message), status_code=status_code, detail=self.redact(detail))

    def _backoff(self, attempt: int) -> float:
        cap = min(self.config.retry_max_delay, self.config.retry_initial_delay * 2**attempt)
        return cap * self._random.uniform(0.5, 1.0)

    async def _send(
        self, path: str, body: Any, params: Mapping[str, str] | None, *, stream: bool
    ) -> httpx.Response:
        """One successful (2xx) response, after retries; raises ``HttpModelError`` otherwise.

        The caller holds a slot of the semaphore. A streamed response is returned
        unread and must be closed by the caller.
        """
        attempts = self.config.max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            request = self._client.build_request("POST", path, json=body, params=params)
            try:
                # A streamed call's deadline is per piece (httpx read timeout), not total.
                async with asyncio.timeout(None if stream else self.config.timeout):
                    response = await self._client.send(request, stream=stream)
            except TimeoutError as exc:
                raise self.error(
                    f"no answer within {self.config.timeout}s", unavailable=True
                ) from exc
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout) and not last:
                    await self._sleep_before_retry(attempt, f"connect timeout ({exc!r})")
                    continue
                raise self.error(
                    f"no response within {self.config.timeout}s", unavailable=True
                ) from exc
            except _RETRYABLE_TRANSPORT as exc:
                if last:
                    raise self.error(
                        f"connection failed after {attempts} attempts: {exc!r}", unavailable=True
                    ) from exc
                await self._sleep_before_retry(attempt, f"connection error ({exc!r})")
                continue
            except httpx.HTTPError as exc:
                raise self.error(f"request failed: {exc!r}") from exc
            if response.is_success:
                return response
            body_bytes = await response.aread()
            await response.aclose()
            status = response.status_code
            detail = _error_detail(body_bytes)
            retryable = status == 429 or (status >= 500 and status not in _NOT_RETRIED_5XX)
            if not retryable:
                raise self.error(f"HTTP {status}", status_code=status, detail=detail)
            if last:
                raise self.error(
                    f"HTTP {status} after {attempts} attempts",
                    status_code=status,
                    detail=detail,
                    unavailable=True,
                )
            wait = _retry_after_seconds(response)
            if wait is not None and wait > self.config.retry_max_delay:
                raise self.error(
                    f"HTTP {status}; server asks to retry after {wait:.0f}s, more than "
                    f"retry_max_delay={self.config.retry_max_delay}s",
                    status_code=status,
                    detail=detail,
                    unavailable=True,
                )
            await self._sleep_before_retry(attempt, f"HTTP {status}", wait)
        raise AssertionError("unreachable: the retry loop returns or raises")

    async def _sleep_before_retry(
        self, attempt: int, reason: str, retry_after: float | None = None
    ) -> None:
        delay = retry_after if retry_after is not None else self._backoff(attempt)
        logger.warning(
            "%s: %s; retry %d/%d in %.2fs",
            self.describe,
            self.redact(reason),
            attempt + 1,
            self.config.max_retries,
            delay,
        )
        await asyncio.sleep(delay)

    async def post_json(
        self, path: str, body: Any, *, params: Mapping[str, str] | None = None
    ) -> Any:
        """POST ``body`` as JSON to ``path`` (relative to the base URL); the decoded JSON reply."""
        response = await self.post(path, body, params=params)
        try:
            return response.json()
        except ValueError as exc:
            raise self.error("the reply is not JSON", detail=response.text[:_BODY_EXCERPT]) from exc

    async def post(
        self, path: str, body: Any, *, params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """POST ``body`` as JSON; the fully read 2xx response (each attempt within ``timeout``)."""
        async with self._slots.slot():
            return await self._send(path, body, params, stream=False)

    @asynccontextmanager
    async def stream(
        self, path: str, body: Any, *, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[httpx.Response]:
        """POST ``body`` and yield the 2xx response unread, for ``aiter_lines``/``aiter_text``.

        Leaving the block closes the response (and its connection when unfinished,
        so the server sees the client go away). Transport failures while reading
        become ``HttpModelError``; they are not retried (pieces were delivered).
        """
        async with self._slots.slot():
            response = await self._send(path, body, params, stream=True)
            try:
                yield response
            except httpx.TimeoutException as exc:
                raise self.error(
                    f"stream stalled: nothing received for {self.config.timeout}s",
                    unavailable=True,
                ) from exc
            except httpx.HTTPError as exc:
                raise self.error(f"stream broke off: {exc!r}") from exc
            finally:
                await response.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()
