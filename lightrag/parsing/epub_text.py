"""EPUB e-books via ``ebooklib``: the spine's documents in reading order."""

from __future__ import annotations

import io
import zipfile

from lightrag.parsing.errors import ParseError, describe_library_error
from lightrag.parsing.html_text import html_to_text

__all__ = ["extract_epub"]


def extract_epub(filename: str, data: bytes) -> str:
    """Visible text of each spine document, in reading order, separated by blank lines."""
    import ebooklib
    from ebooklib import epub
    from lxml.etree import LxmlError

    readable_errors = (
        epub.EpubException, LxmlError, zipfile.BadZipFile, KeyError, ValueError, AttributeError,
    )  # fmt: skip
    try:
        book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
    except readable_errors as exc:
        reason = describe_library_error(exc)
        raise ParseError(filename, f"is not a readable EPUB book ({reason})") from exc
    sections: list[str] = []
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        text = html_to_text(item.get_content())
        if text:
            sections.append(text)
    return "\n\n".join(sections)
