"""Query keywords: high-level (themes) and low-level (entities), extracted, parsed, cached.

``KeywordExtractor.extract`` returns the caller's keywords when it supplied any;
otherwise it asks the chat model (through the keyword prompt, or the model's own
``extract_keywords`` when it is a ``NativeRagModel``), parses the reply leniently
and caches the result under a key covering the query, the history used, the
model identity, the language and the prompt version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lightrag.core.cache import LLMCache
from lightrag.core.context import EngineContext
from lightrag.core.query_prompts import (
    KEYWORDS_SYSTEM_PROMPT,
    KEYWORDS_USER_PROMPT,
    QUERY_PROMPT_VERSION,
)
from lightrag.vocabulary.models import NativeRagModel
from lightrag.vocabulary.types import Message, QueryParam

__all__ = [
    "SHORT_QUERY_CHARS",
    "KeywordExtractor",
    "Keywords",
    "parse_keywords",
    "recent_history",
    "render_history",
]

SHORT_QUERY_CHARS = 50
"""A query shorter than this becomes its own low-level keyword when none were found."""

_HIGH_KEYS = ("high_level_keywords", "high_level", "hl_keywords", "high")
_LOW_KEYS = ("low_level_keywords", "low_level", "ll_keywords", "low")
_FENCE = re.compile(r"```[a-zA-Z]*")
_TRAILING_COMMA = re.compile(r",\s*([\]}])")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'')
_ROLES = frozenset({"user", "assistant", "system"})


@dataclass(frozen=True, slots=True)
class Keywords:
    """High- and low-level keywords of one query."""

    high: list[str] = field(default_factory=list)
    low: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.high or self.low)


def recent_history(history: Sequence[dict[str, str]], turns: int) -> list[Message]:
    """The last ``turns`` turns (a turn = one user message and the replies after it).

    Raises ``ValueError`` naming the entry when a message lacks a known ``role``
    or a string ``content``.
    """
    messages: list[Message] = []
    for index, entry in enumerate(history):
        role, content = entry.get("role"), entry.get("content")
        if role not in _ROLES or not isinstance(content, str):
            raise ValueError(
                f"conversation_history[{index}] must be {{'role': 'user'|'assistant'|'system', "
                f"'content': str}}, got {entry!r}"
            )
        messages.append(Message(role=role, content=content))
    if turns <= 0:
        return []
    user_positions = [i for i, message in enumerate(messages) if message["role"] == "user"]
    if len(user_positions) <= turns:
        return messages
    return messages[user_positions[-turns] :]


def render_history(history: Sequence[Message]) -> str:
    """History as ``role: content`` lines, or ``(none)``."""
    if not history:
        return "(none)"
    return "\n".join(f"{message['role']}: {message['content']}" for message in history)


def _clean_list(values: Iterable[Any]) -> list[str]:
    seen: set[str] = set()
    result: list[str] = []
    for value in values:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            continue
        text = str(value).strip().strip("\"'").strip()
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    return result


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return _clean_list(value.split(","))
    if isinstance(value, list | tuple):
        return _clean_list(value)
    return []


def _first_object(text: str) -> str | None:
    """The first balanced ``{...}`` in ``text``, or its unterminated tail when truncated."""
    start = text.find("{")
    if start < 0:
        return None
    depth, in_string, escaped = 0, False, False
    for position in range(start, len(text)):
        char = text[position]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start : position + 1]
    return text[start:]


def _pick(data: dict[str, Any], names: Sequence[str]) -> list[str]:
    lowered = {str(key).strip().lower(): value for key, value in data.items()}
    for name in names:
        if name in lowered:
            return _as_list(lowered[name])
    return []


def _scan_lists(text: str) -> Keywords:
    """Last resort for broken JSON: the quoted strings after each known key."""

    def after(names: Sequence[str]) -> list[str]:
        for name in names:
            match = re.search(rf"[\"']?{name}[\"']?\s*:\s*\[([^\]]*)", text, re.IGNORECASE)
            if match:
                return _clean_list(a or b for a, b in _QUOTED.findall(match.group(1)))
        return []

    return Keywords(high=after(_HIGH_KEYS), low=after(_LOW_KEYS))


def parse_keywords(text: str) -> Keywords:
    """Keywords from a model reply; tolerant of fences, prose, single quotes, trailing
    commas, truncation and alternative key names. Unparseable text gives empty lists."""
    body = _first_object(_FENCE.sub("", text))
    if body is None:
        return Keywords()
    candidates = [body, _TRAILING_COMMA.sub(r"\1", body)]
    candidates.append(candidates[-1].replace("'", '"'))
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            return Keywords(high=_pick(data, _HIGH_KEYS), low=_pick(data, _LOW_KEYS))
    return _scan_lists(body)


class KeywordExtractor:
    """Keywords for a query: supplied, cached, or extracted by the chat model."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def cache_key(self, query: str, history: Sequence[Message], mode: str) -> str:
        parts = [
            QUERY_PROMPT_VERSION,
            query,
            list(history),
            self.ctx.llm.identity,
            self.ctx.config.language,
        ]
        return LLMCache.key("keywords", mode, parts)

    async def extract(self, query: str, param: QueryParam, history: Sequence[Message]) -> Keywords:
        """The keywords to retrieve with (never raises on a malformed model reply).

        Supplied ``hl_keywords``/``ll_keywords`` are used as given. When extraction
        yields nothing and the query is short, the query becomes the low-level keyword.
        Either way each level keeps its first ``rag.max_query_keywords``.
        """
        return self._capped(await self._extract(query, param, history))

    def _capped(self, keywords: Keywords) -> Keywords:
        limit = self.ctx.config.max_query_keywords
        if len(keywords.high) <= limit and len(keywords.low) <= limit:
            return keywords
        return Keywords(high=keywords.high[:limit], low=keywords.low[:limit])

    async def _extract(self, query: str, param: QueryParam, history: Sequence[Message]) -> Keywords:
        if param.hl_keywords or param.ll_keywords:
            return Keywords(high=_clean_list(param.hl_keywords), low=_clean_list(param.ll_keywords))
        key = self.cache_key(query, history, param.mode)
        cached = await self.ctx.cache.get(key)
        if cached is not None:
            keywords = parse_keywords(cached)
        else:
            keywords = await self._ask_model(query, history)
            if not keywords.empty:  # an empty reply may be a glitch: do not pin it
                payload = {"high_level_keywords": keywords.high, "low_level_keywords": keywords.low}
                await self.ctx.cache.put(key, json.dumps(payload, ensure_ascii=False))
        if keywords.empty and len(query.strip()) < SHORT_QUERY_CHARS:
            return Keywords(high=[], low=[query.strip()])
        return keywords

    async def _ask_model(self, query: str, history: Sequence[Message]) -> Keywords:
        llm = self.ctx.llm
        if isinstance(llm, NativeRagModel):
            high, low = await llm.extract_keywords(query)
            return Keywords(high=_clean_list(high), low=_clean_list(low))
        reply = await llm.complete(
            KEYWORDS_USER_PROMPT.format(history=render_history(history), query=query),
            system_prompt=KEYWORDS_SYSTEM_PROMPT.format(language=self.ctx.config.language),
            json_mode=True,
        )
        return parse_keywords(reply)
