"""LightRAG Server: graph-based retrieval-augmented generation.

Importing this package has no side effects and loads nothing heavy: ``LightRAG``,
``QueryParam`` and ``build_engine`` are imported on first access, so a backend
author importing ``lightrag.vocabulary.storage`` pays only for that module.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lightrag.compose import build_engine
    from lightrag.core.engine import LightRAG
    from lightrag.vocabulary.types import QueryParam

__all__ = ["LightRAG", "QueryParam", "__version__", "build_engine"]

__version__ = "0.1.0"

_LAZY = {
    "LightRAG": "lightrag.core.engine",
    "QueryParam": "lightrag.vocabulary.types",
    "build_engine": "lightrag.compose",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lightrag' has no attribute {name!r}")
    return getattr(import_module(module), name)
