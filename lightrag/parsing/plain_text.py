"""Plain text, source code and config files: decode bytes to text, strictly."""

from __future__ import annotations

import codecs

from lightrag.parsing.errors import ParseError

__all__ = ["decode_text", "extract_plain_text"]

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def decode_text(filename: str, data: bytes) -> str:
    """Decode ``data`` as UTF-8 (with or without BOM), or UTF-16/32 when a BOM says so.

    There is deliberately no guessing fallback (latin-1 would "succeed" on any
    bytes and index mojibake). Raises ``ParseError`` naming the first bad byte and
    how to fix it, or when the bytes look binary (NUL bytes in a UTF-8 file).
    Newlines are normalised to ``\\n``.
    """
    if data.startswith(_UTF32_BOMS):
        encoding = "utf-32"
    elif data.startswith(_UTF16_BOMS):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise ParseError(
            filename,
            f"is not valid {encoding.removesuffix('-sig').upper()} text (byte 0x{bad} at offset "
            f"{exc.start}); re-save the file as UTF-8",
        ) from exc
    if "\x00" in text:
        raise ParseError(filename, "contains NUL bytes: it looks like a binary file, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def extract_plain_text(filename: str, data: bytes) -> str:
    """The file's text as written (code and config files keep their layout)."""
    return decode_text(filename, data)
