"""JSON, YAML and XML: validated, then rendered as readable text."""

from __future__ import annotations

import json
from typing import Any

from lightrag.parsing.errors import ParseError
from lightrag.parsing.plain_text import decode_text

__all__ = ["extract_json", "extract_xml", "extract_yaml"]


def extract_json(filename: str, data: bytes) -> str:
    """The JSON value pretty-printed (indent 2, non-ASCII kept), so chunks keep structure.

    JSON Lines (``.jsonl``) is accepted: one value per line. Raises ``ParseError``
    for invalid JSON, naming the line and column.
    """
    text = decode_text(filename, data)
    values: list[Any] = []
    try:
        if filename.lower().endswith(".jsonl"):
            values = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            values = [json.loads(text)]
    except json.JSONDecodeError as exc:
        raise ParseError(
            filename, f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from exc
    return "\n".join(json.dumps(value, indent=2, ensure_ascii=False) for value in values)


def extract_yaml(filename: str, data: bytes) -> str:
    """The YAML source as written (comments are content too), after checking it parses.

    Uses the safe loader: no tags that construct Python objects.
    """
    import yaml

    text = decode_text(filename, data)
    try:
        for _ in yaml.safe_load_all(text):
            pass
    except yaml.YAMLError as exc:
        raise ParseError(filename, f"is not valid YAML ({exc})") from exc
    return text


def extract_xml(filename: str, data: bytes) -> str:
    """One line per element holding text: ``path/to/tag [attr=value]: text``.

    Parsed with ``defusedxml`` so entity-expansion bombs and external entities are
    refused. The declared encoding is honoured.
    """
    from xml.etree.ElementTree import Element
    from xml.etree.ElementTree import ParseError as XmlSyntaxError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data)
    except DefusedXmlException as exc:
        raise ParseError(filename, f"uses forbidden XML constructs ({exc})") from exc
    except XmlSyntaxError as exc:
        raise ParseError(filename, f"is not well-formed XML ({exc})") from exc

    def local_name(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    lines: list[str] = []

    def walk(element: Element, path: str) -> None:
        here = f"{path}/{local_name(element.tag)}" if path else local_name(element.tag)
        text = " ".join((element.text or "").split())
        attributes = " ".join(f"{local_name(k)}={v}" for k, v in element.attrib.items())
        if text or attributes:
            label = f"{here} [{attributes}]" if attributes else here
            lines.append(f"{label}: {text}" if text else label)
        for child in element:
            walk(child, here)
            tail = " ".join((child.tail or "").split())
            if tail:
                lines.append(f"{here}: {tail}")

    walk(root, "")
    return "\n".join(lines)
