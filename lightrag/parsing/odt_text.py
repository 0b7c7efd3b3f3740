"""OpenDocument text (``.odt``) via ``odfpy``: headings, paragraphs, lists, tables."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from lightrag.parsing.errors import ParseError, describe_library_error

__all__ = ["extract_odt"]

_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def _walk(node: Any, blocks: list[str]) -> None:
    """Append text blocks of ``node``'s subtree in document order."""
    from odf import teletype

    for child in node.childNodes:
        qname = getattr(child, "qname", None)
        if qname is None:
            continue
        if qname in ((_TEXT_NS, "p"), (_TEXT_NS, "h")):
            text = teletype.extractText(child).strip()
            if text:
                if qname[1] == "h":
                    level = int(child.getAttribute("outlinelevel") or 1)
                    text = "#" * level + " " + text
                blocks.append(text)
        elif qname == (_TABLE_NS, "table-row"):
            cells = [
                " ".join(teletype.extractText(cell).split())
                for cell in child.childNodes
                if getattr(cell, "qname", None) == (_TABLE_NS, "table-cell")
            ]
            if any(cells):
                blocks.append(" | ".join(cells))
        else:
            _walk(child, blocks)


def extract_odt(filename: str, data: bytes) -> str:
    """Text blocks in document order; headings marked with ``#``; table rows `` | ``-joined."""
    from xml.sax import SAXException

    from odf.opendocument import load

    try:
        document = load(io.BytesIO(data))
    except (SAXException, zipfile.BadZipFile, KeyError, ValueError, AttributeError) as exc:
        reason = describe_library_error(exc)
        raise ParseError(filename, f"is not a readable OpenDocument text file ({reason})") from exc
    if not document.mimetype.startswith("application/vnd.oasis.opendocument.text"):
        raise ParseError(filename, f"is an OpenDocument of type {document.mimetype!r}, not text")
    if document.text is None:
        # odfpy reports a malformed content.xml by leaving the body empty.
        raise ParseError(filename, "is not a readable OpenDocument text file (no text body)")
    blocks: list[str] = []
    _walk(document.text, blocks)
    return "\n\n".join(blocks)
