"""How a failed model call is answered: 503 when the backend is down or too slow
(``ModelUnavailableError``: retrying later may succeed, so ``Retry-After`` is set),
502 when it answered something unusable."""

from __future__ import annotations

from lightrag.vocabulary.models import ModelError, ModelUnavailableError

__all__ = ["RETRY_AFTER_SECONDS", "model_error_headers", "model_error_status"]

RETRY_AFTER_SECONDS = 30


def model_error_status(exc: ModelError) -> int:
    return 503 if isinstance(exc, ModelUnavailableError) else 502


def model_error_headers(exc: ModelError) -> dict[str, str]:
    return (
        {"Retry-After": str(RETRY_AFTER_SECONDS)} if isinstance(exc, ModelUnavailableError) else {}
    )
