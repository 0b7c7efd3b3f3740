"""Extension -> parser table and the ``extract_text`` entry points."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import PurePath

from lightrag.parsing.csv_text import extract_csv
from lightrag.parsing.docx_text import extract_docx
from lightrag.parsing.epub_text import extract_epub
from lightrag.parsing.errors import ParseError, UnsupportedFileType
from lightrag.parsing.html_text import extract_html
from lightrag.parsing.limits import ParsingLimits, check_zip_archive
from lightrag.parsing.markdown_text import extract_markdown
from lightrag.parsing.odt_text import extract_odt
from lightrag.parsing.pdf_text import extract_pdf
from lightrag.parsing.plain_text import extract_plain_text
from lightrag.parsing.pptx_text import extract_pptx
from lightrag.parsing.rtf_text import extract_rtf
from lightrag.parsing.structured_text import extract_json, extract_xml, extract_yaml
from lightrag.parsing.xlsx_text import extract_xlsx

__all__ = ["SUPPORTED_EXTENSIONS", "extract_text", "extract_text_async", "file_extension"]

Parser = Callable[[str, bytes], str]

# Text-like types read as UTF-8 text, layout kept (upstream's list plus a few).
_PLAIN_TEXT_EXTENSIONS = (
    ".txt", ".text", ".log", ".tex", ".rst", ".conf", ".cfg", ".ini", ".toml", ".properties",
    ".sql", ".bat", ".ps1", ".sh", ".bash", ".zsh",
    ".c", ".h", ".cpp", ".cc", ".hpp", ".cs", ".java", ".kt", ".scala", ".go", ".rs", ".rb",
    ".php", ".py", ".pyi", ".r", ".swift", ".m", ".js", ".jsx", ".mjs", ".ts", ".tsx",
    ".vue", ".css", ".scss", ".less", ".lua", ".pl", ".dart",
)  # fmt: skip

# Formats that are zip archives and get the bomb check before any parser opens them.
_ZIP_PARSERS: dict[str, Parser] = {
    ".docx": extract_docx,
    ".pptx": extract_pptx,
    ".xlsx": extract_xlsx,
    ".odt": extract_odt,
    ".epub": extract_epub,
}

_PARSERS: dict[str, Parser] = {
    **dict.fromkeys(_PLAIN_TEXT_EXTENSIONS, extract_plain_text),
    ".md": extract_markdown,
    ".mdx": extract_markdown,
    ".markdown": extract_markdown,
    ".html": extract_html,
    ".htm": extract_html,
    ".xhtml": extract_html,
    ".csv": extract_csv,
    ".tsv": extract_csv,
    ".json": extract_json,
    ".jsonl": extract_json,
    ".xml": extract_xml,
    ".yaml": extract_yaml,
    ".yml": extract_yaml,
    ".rtf": extract_rtf,
    **_ZIP_PARSERS,
}

SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(sorted([*_PARSERS, ".pdf"]))
"""Every extension ``extract_text`` accepts, lower case with the dot, sorted."""


def file_extension(filename: str) -> str:
    """The lower-cased last suffix of ``filename`` (``""`` when it has none)."""
    return PurePath(filename).suffix.lower()


def extract_text(filename: str, data: bytes, *, limits: ParsingLimits | None = None) -> str:
    """The text content of a file named ``filename`` whose bytes are ``data``.

    The parser is chosen by extension (case-insensitive). Returns the text with
    ``\\n`` line ends and surrounding whitespace stripped; never empty.

    Raises ``UnsupportedFileType`` for an unknown extension and ``ParseError`` for
    content that is corrupt, encrypted, not UTF-8 (text types), larger than
    ``limits`` (zip bombs), nested too deeply, or that holds no text. Synchronous and CPU-bound: in
    async code use ``extract_text_async``.
    """
    limits = limits or ParsingLimits()
    extension = file_extension(filename)
    if extension not in _PARSERS and extension != ".pdf":
        raise UnsupportedFileType(filename, SUPPORTED_EXTENSIONS)
    if not data:
        raise ParseError(filename, "is an empty file")
    try:
        if extension == ".pdf":
            text = extract_pdf(filename, data, limits)
        else:
            parser = _PARSERS[extension]
            if extension in _ZIP_PARSERS:
                check_zip_archive(filename, data, limits)
            text = parser(filename, data)
    except RecursionError as exc:
        # JSON, YAML and XML readers recurse once per nesting level.
        raise ParseError(filename, "is nested too deeply to read") from exc
    text = text.strip()
    if not text:
        raise ParseError(filename, "contains no extractable text")
    return text


async def extract_text_async(
    filename: str, data: bytes, *, limits: ParsingLimits | None = None
) -> str:
    """``extract_text`` run in a worker thread so the event loop keeps serving."""
    return await asyncio.to_thread(partial(extract_text, filename, data, limits=limits))
