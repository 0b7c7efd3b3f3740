"""PDF via ``pypdf``: the text layer of every page (scanned images have none)."""

from __future__ import annotations

import io

from lightrag.parsing.errors import ParseError, describe_library_error
from lightrag.parsing.limits import ParsingLimits

__all__ = ["extract_pdf"]


def extract_pdf(filename: str, data: bytes, limits: ParsingLimits) -> str:
    """Page texts separated by blank lines.

    PDFs encrypted with an empty user password (common for "no-copy" files) are
    opened; others raise ``ParseError`` asking for an unencrypted copy.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    readable_errors = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError)
    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and not reader.decrypt("")
    except readable_errors as exc:
        raise ParseError(
            filename, f"is not a readable PDF ({describe_library_error(exc)})"
        ) from exc
    if locked:
        raise ParseError(filename, "is a password-protected PDF; upload an unencrypted copy")
    try:
        page_count = len(reader.pages)
        if page_count > limits.max_pdf_pages:
            raise ParseError(
                filename, f"has {page_count} pages, more than the limit of {limits.max_pdf_pages}"
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except ParseError:
        raise
    except readable_errors as exc:
        raise ParseError(filename, f"has unreadable pages ({describe_library_error(exc)})") from exc
    return "\n\n".join(page.strip() for page in pages if page.strip())
