"""Markdown (``.md``, ``.mdx``): kept as Markdown, which LLMs read well."""

from __future__ import annotations

import re

from lightrag.parsing.plain_text import decode_text

__all__ = ["extract_markdown"]

# YAML front matter carries metadata (layout, tags) rather than content.
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def extract_markdown(filename: str, data: bytes) -> str:
    """The Markdown source without front matter and HTML comments."""
    text = decode_text(filename, data)
    text = _FRONT_MATTER.sub("", text, count=1)
    return _HTML_COMMENT.sub("", text)
