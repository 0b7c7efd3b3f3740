"""Validation of what callers enqueue: texts, document ids and file paths."""

from __future__ import annotations

from collections.abc import Sequence

from lightrag.vocabulary import ids

__all__ = ["checked_ids", "checked_paths", "checked_texts", "content_summary"]


def content_summary(content: str, limit: int = 100) -> str:
    text = " ".join(content[: limit * 2].split())
    return text if len(text) <= limit else text[:limit].rstrip() + "..."


def checked_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        texts = [texts]
    contents: list[str] = []
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"texts[{index}] is a {type(text).__name__}, expected a string")
        if not text.strip():
            raise ValueError(f"texts[{index}] is empty or only whitespace")
        contents.append(text.strip())
    return contents


def checked_ids(given: Sequence[str] | None, contents: list[str]) -> list[str]:
    if given is None:
        return [ids.doc_id(content) for content in contents]
    if len(given) != len(contents):
        raise ValueError(f"got {len(given)} ids for {len(contents)} texts; give one id per text")
    cleaned = [str(i).strip() for i in given]
    if any(not i for i in cleaned):
        raise ValueError("document ids must be non-empty strings")
    if len(set(cleaned)) != len(cleaned):
        raise ValueError("document ids must be unique within one request")
    return cleaned


def checked_paths(given: Sequence[str] | None, count: int) -> list[str]:
    if given is None:
        return ["unknown_source"] * count
    if isinstance(given, str):
        given = [given]
    if len(given) != count:
        raise ValueError(f"got {len(given)} file paths for {count} texts; give one per text")
    return [str(p).strip() or "unknown_source" for p in given]
