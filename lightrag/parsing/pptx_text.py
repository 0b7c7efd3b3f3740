"""PowerPoint ``.pptx`` via ``python-pptx``: slide text, tables and speaker notes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from lightrag.parsing.errors import ParseError, describe_library_error

__all__ = ["extract_pptx"]


def _shape_texts(shapes: Iterable[Any]) -> Iterator[str]:
    """Texts of shapes in z-order, descending into groups; tables row by row."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shape_texts(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                if any(cells):
                    yield " | ".join(cells)
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            text = shape.text_frame.text.strip()
            if text:
                yield text


def extract_pptx(filename: str, data: bytes) -> str:
    """One block per slide (its shapes' text, then its notes), separated by blank lines."""
    from lxml.etree import LxmlError
    from pptx.exc import PackageNotFoundError

    try:
        return _read_pptx(data)
    except (PackageNotFoundError, LxmlError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        reason = describe_library_error(exc)
        raise ParseError(filename, f"is not a readable PowerPoint file ({reason})") from exc


def _read_pptx(data: bytes) -> str:
    from pptx import Presentation

    presentation = Presentation(io.BytesIO(data))
    slides: list[str] = []
    for slide in presentation.slides:
        parts = list(_shape_texts(slide.shapes))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                parts.append(notes.text.strip())
        if parts:
            slides.append("\n".join(parts))
    return "\n\n".join(slides)
