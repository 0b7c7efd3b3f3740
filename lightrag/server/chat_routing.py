"""Chat-front-end plumbing shared by the Ollama and OpenAI compatible routers.

A chat turn is routed by an optional prefix on the last user message:

- ``/local``, ``/global``, ``/hybrid``, ``/naive``, ``/mix``, ``/bypass`` pick the mode;
- ``/context`` (mix) and ``/localcontext`` ... ``/mixcontext`` return the retrieved
  context instead of an answer;
- ``/mode[instructions] query`` or ``/[instructions] query`` add instructions
  (``QueryParam.user_prompt``).

A prefix is a whole word followed by whitespace or ``[``; anything else (``/usr/bin``)
is part of the question. Open WebUI's own task prompts (chat title, tags, follow-up
questions, search queries, autocomplete) are recognised so that they go straight to
the LLM instead of through retrieval.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args

from lightrag.config.models import AppConfig
from lightrag.server.schemas import default_query_param
from lightrag.vocabulary.types import Message, QueryMode, QueryParam

__all__ = [
    "ChatRequestError",
    "ChatRoute",
    "ChatTurn",
    "Stopwatch",
    "build_query_param",
    "is_front_end_task",
    "iso_now",
    "message_text",
    "parse_chat_messages",
    "route_query",
]

_MODES: tuple[str, ...] = get_args(QueryMode)
_CONTEXT_MODES = ("local", "global", "hybrid", "naive", "mix")
_PREFIX = re.compile(r"^/(?P<word>[A-Za-z]*)(?:\[(?P<instructions>[^\]]*)\])?(?=\s|$)", re.DOTALL)

# Open WebUI task templates (title, tags, follow-ups, search queries) start with
# "### Task:" and quote the chat inside <chat_history> tags (autocomplete quotes
# <text>); older versions used free-form prompts quoting "\n<chat_history>\nUSER:".
_TASK_HEADER = re.compile(r"^\s*###\s*Task:", re.IGNORECASE)
_TASK_QUOTE = re.compile(r"<(chat_history|text)>", re.IGNORECASE)
_CHAT_HISTORY_BLOCK = re.compile(r"<chat_history>\s*\n\s*(USER|ASSISTANT):", re.IGNORECASE)


class ChatRequestError(ValueError):
    """A chat request that cannot be served as sent (400): the message says why."""


@dataclass(frozen=True, slots=True)
class ChatRoute:
    """What a user message asks for once its prefix is read."""

    query: str
    mode: QueryMode
    only_need_context: bool = False
    instructions: str | None = None


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """A chat request split into its parts: the question and what came before it."""

    query: str
    history: list[Message] = field(default_factory=list)
    system_prompt: str | None = None


def route_query(text: str, default_mode: QueryMode) -> ChatRoute:
    """Read the routing prefix of ``text``; no (or an unknown) prefix means ``default_mode``.

    Raises ``ChatRequestError`` when a prefix leaves no question.
    """
    stripped = text.lstrip()
    match = _PREFIX.match(stripped)
    if match is None:
        return ChatRoute(query=text.strip(), mode=default_mode)
    word = match.group("word").lower()
    instructions = match.group("instructions")
    mode: QueryMode | None = None
    only_context = False
    if word in _MODES:
        mode = word  # type: ignore[assignment]
    elif word == "context":
        mode, only_context = "mix", True
    elif word.endswith("context") and word.removesuffix("context") in _CONTEXT_MODES:
        mode, only_context = word.removesuffix("context"), True  # type: ignore[assignment]
    elif word == "" and instructions is not None:
        mode = default_mode
    if mode is None:
        return ChatRoute(query=text.strip(), mode=default_mode)
    query = stripped[match.end() :].strip()
    if not query:
        raise ChatRequestError(f"the prefix {match.group(0)!r} must be followed by a question")
    cleaned = instructions.strip() if instructions else None
    return ChatRoute(
        query=query, mode=mode, only_need_context=only_context, instructions=cleaned or None
    )


def is_front_end_task(text: str) -> bool:
    """Whether ``text`` is a chat front end's own task prompt (title, tags, follow-ups)."""
    if _TASK_HEADER.match(text) and _TASK_QUOTE.search(text):
        return True
    return _CHAT_HISTORY_BLOCK.search(text) is not None


def message_text(content: Any) -> str:
    """The text of a message ``content``: a string, or OpenAI-style parts (text parts joined).

    Raises ``ChatRequestError`` for any other shape.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                texts.append(part)
        return "\n".join(texts)
    raise ChatRequestError("message content must be a string or a list of content parts")


def parse_chat_messages(
    messages: Sequence[tuple[str, str]], *, system: str | None = None
) -> ChatTurn:
    """Split ``(role, text)`` pairs into the question (the last message), the history
    (earlier user/assistant turns) and the system prompt (``system`` plus system messages).

    Raises ``ChatRequestError`` when there are no messages, the last is not from the
    user, or it is empty.
    """
    if not messages:
        raise ChatRequestError("messages must not be empty")
    last_role, last_text = messages[-1]
    if last_role != "user":
        raise ChatRequestError(f"the last message must have role 'user', not {last_role!r}")
    if not last_text.strip():
        raise ChatRequestError("the last user message is empty")
    systems = [system] if system and system.strip() else []
    history: list[Message] = []
    for role, text in messages[:-1]:
        if role == "system":
            if text.strip():
                systems.append(text)
        elif role in ("user", "assistant"):
            history.append({"role": role, "content": text})
        # tool and function results carry no conversational text for retrieval
    system_prompt = "\n\n".join(part.strip() for part in systems) or None
    return ChatTurn(query=last_text, history=history, system_prompt=system_prompt)


def build_query_param(
    route: ChatRoute, turn: ChatTurn, config: AppConfig, *, stream: bool
) -> QueryParam:
    """The engine parameters for a routed chat turn, with the configured query defaults.

    The request's system prompt and any bracketed instructions become ``user_prompt``
    (for ``bypass`` that is the system prompt the LLM gets).
    """
    extra = [part for part in (turn.system_prompt, route.instructions) if part]
    return default_query_param(config).model_copy(
        update={
            "mode": route.mode,
            "only_need_context": route.only_need_context,
            "stream": stream,
            "conversation_history": [dict(message) for message in turn.history],
            "user_prompt": "\n\n".join(extra) or None,
        }
    )


def iso_now() -> str:
    """The current UTC time as RFC 3339 with a ``Z`` suffix (what Ollama sends)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Stopwatch:
    """Durations of one request in nanoseconds: total, and before/after the first piece."""

    def __init__(self) -> None:
        self.start = time.perf_counter_ns()
        self.first_piece: int | None = None

    def mark_first_piece(self) -> None:
        if self.first_piece is None:
            self.first_piece = time.perf_counter_ns()

    def durations(self) -> dict[str, int]:
        """``total_duration``, ``prompt_eval_duration`` and ``eval_duration`` (ns)."""
        end = time.perf_counter_ns()
        first = self.first_piece if self.first_piece is not None else end
        return {
            "total_duration": end - self.start,
            "prompt_eval_duration": first - self.start,
            "eval_duration": end - first,
        }
