"""CSV and TSV via the standard ``csv`` module: one line per row, cells `` | ``-joined."""

from __future__ import annotations

import csv
import io

from lightrag.parsing.errors import ParseError
from lightrag.parsing.plain_text import decode_text

__all__ = ["extract_csv"]


def extract_csv(filename: str, data: bytes) -> str:
    """Rows with cells joined by `` | `` (the header row first, as written).

    The delimiter is ``\\t`` for ``.tsv`` and sniffed (``,;|\\t``) for ``.csv``.
    Raises ``ParseError`` for undecodable bytes or malformed quoting.
    """
    text = decode_text(filename, data)
    delimiter = "\t"
    if not filename.lower().endswith(".tsv"):
        try:
            delimiter = csv.Sniffer().sniff(text[:16384], delimiters=",;|\t").delimiter
        except csv.Error:
            delimiter = ","  # single-column or irregular files: plain comma CSV
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    lines: list[str] = []
    try:
        for row in reader:
            cells = [" ".join(cell.split()) for cell in row]
            if any(cells):
                lines.append(" | ".join(cells))
    except csv.Error as exc:
        raise ParseError(filename, f"is not valid CSV (line {reader.line_num}: {exc})") from exc
    return "\n".join(lines)
