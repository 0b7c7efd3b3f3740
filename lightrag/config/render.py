"""The resolved configuration as YAML with every secret redacted.

Typed secrets (``SecretStr``) print as ``**********``. Backend parameters are an
open mapping, so their secrets are recognised by key name (password, api_key,
token, secret, ...) and credentials inside URLs (``scheme://user:pw@host``) are
masked too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from lightrag.config.models import AppConfig

__all__ = ["REDACTED", "is_secret_key", "redact_params", "render_config"]

REDACTED = "**********"
_SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "secret", "token", "apikey", "credential", "credentials"}
)
_URL_CREDENTIALS = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<pw>[^@\s]+)(?=@)", re.I)


def is_secret_key(key: str) -> bool:
    """Whether a parameter named ``key`` holds a secret (``api_key``, ``db_password``, ...)."""
    words = re.split(r"[_\-.]", key.lower())
    return bool(_SECRET_WORDS.intersection(words)) or words[-1] == "key"


def _redact(key: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _redact(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(key, item) for item in value]
    if isinstance(value, str):
        if value and is_secret_key(key):
            return REDACTED
        return _URL_CREDENTIALS.sub(lambda m: m.group("head") + REDACTED, value)
    return value


def redact_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with secret-looking values and URL passwords replaced by ``REDACTED``."""
    return {str(key): _redact(str(key), value) for key, value in params.items()}


def render_config(config: AppConfig, choices: Mapping[str, str] | None = None) -> str:
    """YAML of ``config`` (secrets redacted), headed by the group options chosen."""
    data = config.model_dump(mode="json")
    data["llm"] = redact_params(data["llm"])
    data["embedding"] = redact_params(data["embedding"])
    data["storage"] = {role: redact_params(choice) for role, choice in data["storage"].items()}
    header = ""
    if choices:
        header = "".join(f"# {group}: {option}\n" for group, option in sorted(choices.items()))
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
