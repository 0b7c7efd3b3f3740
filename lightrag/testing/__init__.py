"""Test and benchmark support: deterministic fake models, registered only on request.

The product's registries and config tree do not know the fakes. A test session
(``tests/conftest.py``), a benchmark or ``python -m lightrag.testing.serve`` calls
``register_fakes()``, which adds the ``fake`` chat and embedding bindings to the
registries and this package's ``conf/`` (options ``llm/fake.yaml`` and
``embedding/fake.yaml``) to the config search path. Nothing happens on import.
"""

from __future__ import annotations

from pathlib import Path

from lightrag.config.search_path import add_config_dir
from lightrag.registry import Entry
from lightrag.registry.models import chat_registry, embedding_registry

__all__ = ["FAKES_CONF_DIR", "register_fakes"]

FAKES_CONF_DIR = Path(__file__).resolve().parent / "conf"

_CHAT = Entry(
    "fake",
    "lightrag.testing.fakes:FakeChatModel",
    description="deterministic fake for tests (lightrag.testing)",
)
_EMBEDDING = Entry(
    "fake",
    "lightrag.testing.fakes:HashingEmbeddingModel",
    description="deterministic hashing embedder for tests (lightrag.testing)",
)


def register_fakes() -> None:
    """Make ``llm=fake`` and ``embedding=fake`` selectable in this process (idempotent)."""
    for registry, entry in ((chat_registry, _CHAT), (embedding_registry, _EMBEDDING)):
        if entry.name not in registry.names():
            registry.add(entry)
    add_config_dir(FAKES_CONF_DIR)
