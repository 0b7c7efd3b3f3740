"""Errors raised while turning an uploaded file into text.

Both derive from ``ValueError`` so callers that only care about "bad input" can
catch one type; the server maps them to 4xx responses.
"""

from __future__ import annotations

import re

__all__ = ["ParseError", "UnsupportedFileType", "describe_library_error"]

_IN_MEMORY_FILE_REPR = re.compile(r"'?<_io\.BytesIO object at 0x[0-9a-f]+>'?")


class UnsupportedFileType(ValueError):
    """The file's extension is not one ``extract_text`` knows how to read."""

    def __init__(self, filename: str, supported: tuple[str, ...]) -> None:
        self.filename = filename
        self.supported = supported
        super().__init__(
            f"{filename!r}: unsupported file type; supported extensions are {', '.join(supported)}"
        )


class ParseError(ValueError):
    """The file has a supported type but its content could not be turned into text.

    ``reason`` says what was wrong (corrupt, encrypted, not UTF-8, empty, too large).
    """

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        super().__init__(f"{filename!r}: {reason}")


def describe_library_error(exc: BaseException) -> str:
    """``"<ExceptionType>: <message>"`` of a parser library error, for a ParseError reason.

    Libraries name the in-memory buffer (``<_io.BytesIO object at 0x...>``) where
    they would name a file; that noise is replaced by ``the file``.
    """
    message = _IN_MEMORY_FILE_REPR.sub("the file", str(exc)).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
