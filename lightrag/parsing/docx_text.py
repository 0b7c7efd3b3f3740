"""Word ``.docx`` via ``python-docx``: paragraphs and tables in document order."""

from __future__ import annotations

import io
import re
import zipfile
from typing import TYPE_CHECKING

from lightrag.parsing.errors import ParseError, describe_library_error

if TYPE_CHECKING:
    from docx.table import Table

__all__ = ["extract_docx"]

_HEADING_STYLE = re.compile(r"^Heading (\d)$")


def _table_lines(table: Table) -> list[str]:
    """One line per row, cells joined by `` | ``; horizontally merged cells once."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # python-docx yields a merged cell once per grid column it spans.
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def extract_docx(filename: str, data: bytes) -> str:
    """Body paragraphs (headings marked with ``#``) and tables as they appear.

    Headers, footers and comments are left out. Raises ``ParseError`` when the
    archive is not a Word document.
    """
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    try:
        return _read_docx(data)
    except (PackageNotFoundError, LxmlError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        reason = describe_library_error(exc)
        raise ParseError(filename, f"is not a readable Word document ({reason})") from exc


def _read_docx(data: bytes) -> str:
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    blocks: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines = _table_lines(block)
            if lines:
                blocks.append("\n".join(lines))
            continue
        text = block.text.strip()
        if not text:
            continue
        style_name = block.style.name if block.style is not None else ""
        heading = _HEADING_STYLE.match(style_name or "")
        if heading:
            text = "#" * int(heading.group(1)) + " " + text
        blocks.append(text)
    return "\n\n".join(blocks)
