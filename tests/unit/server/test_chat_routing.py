"""Prefix routing, front-end task detection and message splitting for chat APIs."""

from __future__ import annotations

import pytest

from lightrag.server.chat_routing import (
    ChatRequestError,
    ChatRoute,
    is_front_end_task,
    message_text,
    parse_chat_messages,
    route_query,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain question", ChatRoute("plain question", "hybrid")),
        ("/local who?", ChatRoute("who?", "local")),
        ("/GLOBAL who?", ChatRoute("who?", "global")),
        ("/bypass  hi there ", ChatRoute("hi there", "bypass")),
        ("/mix\nwho?", ChatRoute("who?", "mix")),
        ("/context who?", ChatRoute("who?", "mix", only_need_context=True)),
        ("/naivecontext who?", ChatRoute("who?", "naive", only_need_context=True)),
        ("/hybrid[in French] who?", ChatRoute("who?", "hybrid", instructions="in French")),
        ("/[be brief] who?", ChatRoute("who?", "hybrid", instructions="be brief")),
        ("/[  ] who?", ChatRoute("who?", "hybrid")),
        ("/localwho?", ChatRoute("/localwho?", "hybrid")),
        ("/usr/bin is a path", ChatRoute("/usr/bin is a path", "hybrid")),
        ("/bypasscontext x", ChatRoute("/bypasscontext x", "hybrid")),
    ],
)
def test_route_query_reads_the_prefix(text: str, expected: ChatRoute) -> None:
    assert route_query(text, "hybrid") == expected


def test_route_query_without_a_question_after_the_prefix_is_an_error() -> None:
    with pytest.raises(ChatRequestError, match="'/naive' must be followed by a question"):
        route_query("/naive   ", "mix")


@pytest.mark.parametrize(
    "text",
    [
        "### Task:\nGenerate tags.\n### Chat History:\n<chat_history>\nUSER: hi\n</chat_history>",
        "### Task:\nComplete the text.\n<text>Once upon</text>",
        "Create a concise title.\n<chat_history>\nUSER: hi\nASSISTANT: hello\n</chat_history>",
    ],
)
def test_open_webui_task_prompts_are_recognised(text: str) -> None:
    assert is_front_end_task(text)


@pytest.mark.parametrize(
    "text", ["What is <chat_history>?", "### Task: summarise my notes", "Who is Ada?"]
)
def test_ordinary_questions_are_not_front_end_tasks(text: str) -> None:
    assert not is_front_end_task(text)


def test_parse_chat_messages_splits_system_history_and_question() -> None:
    turn = parse_chat_messages(
        [
            ("system", "Be kind."),
            ("user", "Q1"),
            ("assistant", "A1"),
            ("tool", "tool output"),
            ("user", "Q2"),
        ],
        system="Global rule.",
    )
    assert turn.query == "Q2"
    assert turn.history == [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
    ]
    assert turn.system_prompt == "Global rule.\n\nBe kind."


def test_message_text_joins_text_parts_and_ignores_images() -> None:
    parts = [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {}}, "b"]
    assert message_text(parts) == "a\nb"
    assert message_text(None) == ""


def test_message_text_rejects_other_shapes() -> None:
    with pytest.raises(ChatRequestError, match="content must be a string"):
        message_text({"text": "x"})
