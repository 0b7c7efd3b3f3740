"""Shared by the Ollama and OpenAI API tests: an app over a fake LLM that can echo what
it was sent, a few indexed documents, and a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from lightrag.compose import build_engine
from lightrag.config.models import AppConfig
from lightrag.core.engine import LightRAG
from lightrag.server.app import create_app
from lightrag.testing.fakes import (
    DEFAULT_HANDLERS,
    FakeChatModel,
    FakeHandler,
    FakeRequest,
    HashingEmbeddingModel,
)
from tests.unit.server.server_support import make_config

__all__ = [
    "DOCUMENTS",
    "ECHO_PREFIX",
    "OPEN_WEBUI_TITLE_PROMPT",
    "SOURCES",
    "ChatApp",
    "chat_app",
    "live_server",
    "make_config",
    "make_llm",
]

DOCUMENTS = [
    "Ada Lovelace worked with Charles Babbage on the Analytical Engine in London. "
    "Ada Lovelace wrote the first published algorithm for the Analytical Engine.",
    "Grace Hopper developed the first compiler at Remington Rand. "
    "Grace Hopper later promoted COBOL for business computing.",
]
SOURCES = ["lovelace.txt", "hopper.txt"]

ECHO_PREFIX = "ECHO"
OPEN_WEBUI_TITLE_PROMPT = (
    "### Task:\nGenerate a concise, 3-5 word title with an emoji summarizing the chat history.\n"
    '### Output:\nJSON format: { "title": "your concise title here" }\n'
    "### Chat History:\n<chat_history>\nUSER: Who was Ada Lovelace?\n"
    "ASSISTANT: A mathematician.\n</chat_history>"
)


def _is_direct(request: FakeRequest) -> bool:
    return request.prompt.startswith((ECHO_PREFIX, "### Task:"))


def _echo(_model: FakeChatModel, request: FakeRequest) -> str:
    return (
        f"direct reply; system={request.system_prompt}; history={len(request.history)}; "
        f"prompt={request.prompt[:40]}"
    )


def make_llm(**options: Any) -> FakeChatModel:
    """The fake LLM, plus an ``echo`` kind for prompts sent straight to it."""
    return FakeChatModel(
        options, handlers=[*DEFAULT_HANDLERS, FakeHandler("echo", _is_direct, _echo)]
    )


@dataclass
class ChatApp:
    client: httpx.AsyncClient
    app: FastAPI
    rag: LightRAG
    llm: FakeChatModel


@asynccontextmanager
async def chat_app(
    config: AppConfig, llm: FakeChatModel, *, index: bool = True
) -> AsyncIterator[ChatApp]:
    """The full app (``create_app``) over ``llm``; with ``index`` the documents are indexed."""
    rag = build_engine(config, llm=llm, embedding=HashingEmbeddingModel())
    app = create_app(config, rag=rag)
    try:
        async with (
            LifespanManager(app, startup_timeout=30, shutdown_timeout=60) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
            ) as client,
        ):
            if index:
                await rag.insert(DOCUMENTS, file_paths=SOURCES)
            yield ChatApp(client=client, app=app, rag=rag, llm=llm)
    finally:
        await rag.finalize()


@asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a free loopback port; yields its base URL.

    The app's lifespan must already be running (or be off): uvicorn's is disabled.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("uvicorn did not start on the loopback port")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
