"""Excel ``.xlsx`` via ``openpyxl`` in read-only mode: every sheet, row by row."""

from __future__ import annotations

import io
import zipfile

from lightrag.parsing.errors import ParseError, describe_library_error

__all__ = ["extract_xlsx"]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def extract_xlsx(filename: str, data: bytes) -> str:
    """Per sheet a ``# Sheet: <name>`` line, then non-empty rows with tab-joined cells.

    Cached formula results are used (``data_only``); trailing empty cells are dropped.
    """
    from xml.etree.ElementTree import ParseError as XmlSyntaxError

    from lxml.etree import LxmlError
    from openpyxl.utils.exceptions import InvalidFileException

    readable_errors = (
        InvalidFileException, LxmlError, XmlSyntaxError, zipfile.BadZipFile,
        KeyError, ValueError, TypeError, OSError,
    )  # fmt: skip
    try:
        return _read_xlsx(data)
    except readable_errors as exc:
        reason = describe_library_error(exc)
        raise ParseError(filename, f"is not a readable Excel workbook ({reason})") from exc


def _read_xlsx(data: bytes) -> str:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets: list[str] = []
        for sheet in workbook.worksheets:
            lines: list[str] = []
            for row in sheet.iter_rows(values_only=True):
                cells = [_cell_text(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append("\t".join(cells))
            if lines:
                sheets.append(f"# Sheet: {sheet.title}\n" + "\n".join(lines))
    finally:
        workbook.close()
    return "\n\n".join(sheets)
