"""What the server runs, in a few log lines at start-up, and a warning when it is open.

``summary_lines(config, recipe)`` says the recipe, the storage of each role, the LLM
and embedding models, the auth state, the CORS policy, the bind address and where
the API docs are; secrets never appear (backend parameters go through the same
redaction as ``--print-config``). ``exposure_warning(config)`` is the warning for a
server that listens beyond loopback with no API key and no accounts.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from lightrag.config.models import AppConfig, BackendChoice, ServerConfig
from lightrag.config.render import redact_params

__all__ = [
    "base_url",
    "exposure_warning",
    "is_loopback",
    "log_startup_summary",
    "summary_lines",
]

logger = logging.getLogger("lightrag.server")

_MODEL_KEYS = ("model", "deployment", "spacy_model")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def base_url(server: ServerConfig) -> str:
    """The URL a client on this machine uses (``0.0.0.0`` shown as ``127.0.0.1``)."""
    scheme = "https" if server.ssl else "http"
    host = server.host
    if host in {"0.0.0.0", ""}:
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{server.port}"


def _model(choice: BackendChoice) -> str:
    params: dict[str, Any] = redact_params(choice.params())
    name = next((str(params[key]) for key in _MODEL_KEYS if params.get(key)), None)
    text = choice.type if name is None else f"{choice.type} {name}"
    host = params.get("host") or params.get("base_url") or params.get("endpoint")
    return f"{text} at {host}" if host else text


def _auth(server: ServerConfig) -> str:
    parts = []
    if server.api_key is not None:
        parts.append("admin API key")
    if server.api_keys:
        parts.append(f"{len(server.api_keys)} workspace key(s)")
    if server.query_api_keys:
        parts.append(f"{len(server.query_api_keys)} query key(s)")
    if server.accounts:
        parts.append(f"{len(server.accounts)} account(s)")
    if not parts:
        return "off (no API key, no accounts: every route is open)"
    return "on (" + ", ".join(parts) + ")"


def _cors(server: ServerConfig) -> str:
    origins = server.cors_origins
    if origins is None:
        return "any origin may read; cross-origin writes refused (server.cors_origins unset)"
    if "*" in origins:
        return "any origin may read and write (server.cors_origins: *)"
    return "read and write from " + ", ".join(origins)


def summary_lines(config: AppConfig, recipe: str | None) -> list[str]:
    """The start-up summary, one fact per line."""
    server = config.server
    storage = config.storage
    url = base_url(server)
    scheme = "https" if server.ssl else "http"
    workspace = server.workspace or "(default)"
    return [
        f"recipe: {recipe or '(none: conf/config.yaml defaults and overrides)'}",
        f"storages: kv={storage.kv.type} vector={storage.vector.type} "
        f"graph={storage.graph.type} doc_status={storage.doc_status.type} "
        f"(working dir {server.working_dir}, workspace {workspace})",
        f"llm: {_model(config.llm)}",
        f"embedding: {_model(config.embedding)}",
        f"auth: {_auth(server)}",
        f"cors: {_cors(server)}",
        f"listening on {scheme}://{server.host}:{server.port}",
        f"API docs: {url}/docs (OpenAPI: {url}/openapi.json)",
    ]


def exposure_warning(config: AppConfig) -> str | None:
    """A warning when the server listens beyond loopback with no key and no accounts."""
    server = config.server
    secured = server.api_key or server.api_keys or server.query_api_keys or server.accounts
    if secured or is_loopback(server.host):
        return None
    return (
        f"server.host is {server.host!r}: the server is reachable from the network with no "
        "API key and no accounts, so anyone who can reach it can read and delete the index. "
        "Set LIGHTRAG_API_KEY (server.api_key), or bind to 127.0.0.1 (--host 127.0.0.1)"
    )


def log_startup_summary(config: AppConfig, recipe: str | None) -> None:
    """Log the summary (INFO) and, when the server is open to the network, the warning."""
    for line in summary_lines(config, recipe):
        logger.info("%s", line)
    warning = exposure_warning(config)
    if warning is not None:
        logger.warning("%s", warning)
