"""Resource limits applied before a parser opens a file, and the zip-bomb guard."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from lightrag.parsing.errors import ParseError

__all__ = ["ParsingLimits", "check_zip_archive"]

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ParsingLimits:
    """Upper bounds for one file.

    ``max_uncompressed_bytes`` and ``max_compression_ratio`` apply to zip-based
    formats (docx, pptx, xlsx, odt, epub); the ratio is only enforced once the
    declared uncompressed size exceeds ``ratio_check_floor_bytes``, because tiny
    archives of repetitive XML legitimately compress very well.
    """

    max_uncompressed_bytes: int = 512 * _MIB
    max_compression_ratio: float = 200.0
    ratio_check_floor_bytes: int = 16 * _MIB
    max_zip_entries: int = 20_000
    max_pdf_pages: int = 10_000


def check_zip_archive(filename: str, data: bytes, limits: ParsingLimits) -> None:
    """Refuse an archive that is not a zip or whose declared content is too large.

    The check reads only the central directory. It is sufficient because Python's
    ``zipfile`` never inflates an entry past its declared ``file_size`` (and fails
    the CRC check when the data disagrees), so a member cannot lie its way past it.
    Raises ``ParseError`` naming the file and the limit exceeded.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise ParseError(filename, f"not a valid zip-based document ({exc})") from exc
    if len(members) > limits.max_zip_entries:
        raise ParseError(
            filename,
            f"archive has {len(members)} entries, more than the limit of {limits.max_zip_entries}",
        )
    uncompressed = sum(member.file_size for member in members)
    compressed = sum(member.compress_size for member in members)
    if uncompressed > limits.max_uncompressed_bytes:
        raise ParseError(
            filename,
            f"archive declares {uncompressed} uncompressed bytes, more than the limit of "
            f"{limits.max_uncompressed_bytes} (possible zip bomb)",
        )
    if uncompressed > limits.ratio_check_floor_bytes:
        ratio = uncompressed / max(compressed, 1)
        if ratio > limits.max_compression_ratio:
            raise ParseError(
                filename,
                f"archive compression ratio {ratio:.0f}:1 exceeds the limit of "
                f"{limits.max_compression_ratio:.0f}:1 (possible zip bomb)",
            )
