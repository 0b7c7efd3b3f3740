"""Rich Text Format via ``striprtf``."""

from __future__ import annotations

from lightrag.parsing.errors import ParseError

__all__ = ["extract_rtf"]


def extract_rtf(filename: str, data: bytes) -> str:
    """The document's text. RTF is 7-bit ASCII with escapes for everything else.

    Raises ``ParseError`` when the bytes do not start with an RTF header.
    """
    from striprtf.striprtf import rtf_to_text

    head = data.lstrip()[:5]
    if head != b"{\\rtf":
        raise ParseError(filename, "is not an RTF document (missing '{\\rtf' header)")
    # Escapes carry the non-ASCII characters; any stray 8-bit byte is read as
    # cp1252, RTF's usual default code page.
    markup = data.decode("cp1252", errors="replace")
    try:
        text = rtf_to_text(markup, errors="replace")
    except (ValueError, IndexError, LookupError) as exc:
        raise ParseError(filename, f"is not a readable RTF document ({exc})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")
