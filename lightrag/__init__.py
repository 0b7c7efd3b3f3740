"""LightRAG Server: graph-based retrieval-augmented generation.

Importing this package has no side effects: nothing reads the environment,
opens files or starts threads until you build and initialise an engine.
"""

from lightrag.core.engine import LightRAG
from lightrag.core.types import QueryParam

__all__ = ["LightRAG", "QueryParam", "__version__"]

__version__ = "0.1.0"
