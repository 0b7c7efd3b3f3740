"""File parsing: turn an uploaded file (name + bytes) into text for indexing.

``extract_text(filename, data)`` dispatches on the extension to one module per
family (plain text and code, Markdown, PDF, Word, PowerPoint, Excel, HTML, CSV,
JSON, XML, YAML, RTF, OpenDocument text, EPUB). Libraries are imported lazily
from the ``parsing`` extra; nothing is installed at run time.
"""

from __future__ import annotations

from lightrag.parsing.dispatch import (
    SUPPORTED_EXTENSIONS,
    extract_text,
    extract_text_async,
    file_extension,
)
from lightrag.parsing.errors import ParseError, UnsupportedFileType
from lightrag.parsing.limits import ParsingLimits

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "ParseError",
    "ParsingLimits",
    "UnsupportedFileType",
    "extract_text",
    "extract_text_async",
    "file_extension",
]
