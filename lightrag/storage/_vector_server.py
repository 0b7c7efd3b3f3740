"""What the vector storages on a server (Milvus, Chroma) share: collection names, addresses.

Input checks are those of every vector storage (``lightrag.storage._vectors``).

Each (workspace, namespace) gets its own collection. Its name is readable (the
sanitised workspace and namespace) and ends with a short hash of the raw pair, so
two pairs that sanitise alike (``"a-b"`` and ``"a_b"``) never share a collection.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

__all__ = ["collection_name", "server_address"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def collection_name(prefix: str, workspace: str, namespace: str, *, max_length: int) -> str:
    """``<prefix>_<workspace>_<namespace>_<hash8>`` with only ``[A-Za-z0-9_]``.

    Starts with ``prefix`` (a letter) and ends with hex digits, which suits both
    Milvus (letters, digits, underscores; first a letter) and Chroma (must start
    and end alphanumeric).
    """
    digest = hashlib.sha256(f"{workspace}\0{namespace}".encode()).hexdigest()[:8]
    readable = "_".join(
        part for part in (prefix, _UNSAFE.sub("_", workspace), _UNSAFE.sub("_", namespace)) if part
    )
    return f"{readable[: max_length - 9]}_{digest}"


def server_address(uri: str, default_port: int) -> str:
    """``host:port`` of a server URI, without user or password (for error messages)."""
    parts = urlsplit(uri if "://" in uri else f"http://{uri}")
    try:
        port = parts.port or default_port
    except ValueError:
        port = default_port
    return f"{parts.hostname or 'localhost'}:{port}"
