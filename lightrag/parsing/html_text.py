"""HTML via ``beautifulsoup4``: visible text, without scripts, styles and templates."""

from __future__ import annotations

import re

__all__ = ["extract_html", "html_to_text"]

_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "canvas", "iframe", "object")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")


def html_to_text(markup: str | bytes) -> str:
    """Visible text of an HTML document or fragment: one line per text run, no blank lines.

    Bytes are decoded by BeautifulSoup from the document's declared charset (or
    detected; undecodable bytes become U+FFFD rather than failing).
    """
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(list(_INVISIBLE_TAGS)):
        tag.decompose()
    for comment in soup.find_all(string=lambda node: isinstance(node, Comment)):
        comment.extract()
    text = soup.get_text(separator="\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def extract_html(filename: str, data: bytes) -> str:
    """The page's visible text (title included)."""
    return html_to_text(data)
