"""Split a document into token-window chunks (optionally first by a separator character).

Chunks are content-addressed per document (``lightrag.vocabulary.ids.chunk_id``), so
re-chunking the same document with the same settings yields the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from lightrag.config.models import RagConfig
from lightrag.core.tokenizer import Tokenizer
from lightrag.vocabulary import ids
from lightrag.vocabulary.types import ChunkRecord

__all__ = ["ChunkingOptions", "chunk_document", "token_windows"]


@dataclass(frozen=True, slots=True)
class ChunkingOptions:
    """How to cut: windows of ``chunk_size`` tokens overlapping by ``overlap`` tokens.

    With ``split_by_character`` the text is first split on that string; pieces
    longer than ``chunk_size`` are re-windowed unless ``split_by_character_only``.
    Raises ``ValueError`` when the sizes are not usable.
    """

    chunk_size: int = 1200
    overlap: int = 100
    split_by_character: str | None = None
    split_by_character_only: bool = False

    def __post_init__(self) -> None:
        if self.chunk_size <= 0:
            raise ValueError(f"chunk_token_size must be positive, got {self.chunk_size}")
        if not 0 <= self.overlap < self.chunk_size:
            raise ValueError(
                "chunk_overlap_token_size must be >= 0 and smaller than chunk_token_size "
                f"({self.chunk_size}), got {self.overlap}"
            )
        if self.split_by_character == "":
            raise ValueError("split_by_character must be a non-empty string or None")

    @classmethod
    def from_config(cls, config: RagConfig) -> ChunkingOptions:
        """The options ``config`` sets (``chunk_token_size``, ``chunk_overlap_token_size``,
        ``split_by_character``, ``split_by_character_only``); ``ValueError`` as above."""
        return cls(
            chunk_size=config.chunk_token_size,
            overlap=config.chunk_overlap_token_size,
            split_by_character=config.split_by_character,
            split_by_character_only=config.split_by_character_only,
        )


def token_windows(tokens: list[int], chunk_size: int, overlap: int) -> list[list[int]]:
    """Windows of ``chunk_size`` tokens, each starting ``chunk_size - overlap`` after the last.

    The last window ends at the end of ``tokens``; no window lies wholly inside
    the previous one (upstream emits such a redundant tail window).
    """
    if not tokens:
        return []
    step = chunk_size - overlap
    windows: list[list[int]] = []
    start = 0
    while True:
        windows.append(tokens[start : start + chunk_size])
        if start + chunk_size >= len(tokens):
            return windows
        start += step


def _pieces(tokenizer: Tokenizer, content: str, options: ChunkingOptions) -> list[tuple[str, int]]:
    """(text, token count) of every piece before de-duplication, in order."""
    size, overlap = options.chunk_size, options.overlap
    if options.split_by_character is None:
        parts = [content]
        rewindow = True
    else:
        parts = content.split(options.split_by_character)
        rewindow = not options.split_by_character_only
    out: list[tuple[str, int]] = []
    for part in parts:
        tokens = tokenizer.encode(part.strip())
        if not tokens:
            continue
        if len(tokens) <= size or not rewindow:
            out.append((part.strip(), len(tokens)))
            continue
        for window in token_windows(tokens, size, overlap):
            text = tokenizer.decode(window).strip()
            if text:
                out.append((text, len(window)))
    return out


def chunk_document(
    tokenizer: Tokenizer,
    content: str,
    *,
    document_id: str,
    file_path: str,
    options: ChunkingOptions,
) -> dict[str, ChunkRecord]:
    """The chunks of one document, keyed by chunk id, in document order.

    Whitespace-only pieces are dropped; a piece whose text repeats an earlier
    one of the same document is kept once (same id). ``chunk_order_index``
    numbers the kept chunks from 0. An empty document gives no chunks.
    """
    chunks: dict[str, ChunkRecord] = {}
    for text, token_count in _pieces(tokenizer, content, options):
        key = ids.chunk_id(document_id, text)
        if key in chunks:
            continue
        chunks[key] = ChunkRecord(
            content=text,
            tokens=token_count,
            chunk_order_index=len(chunks),
            full_doc_id=document_id,
            file_path=file_path,
        )
    return chunks
