"""A protocol-faithful model server for the binding tests, on 127.0.0.1 under uvicorn.

It speaks the real request/response shapes of Ollama (``/api/chat`` NDJSON,
``/api/embed``, ``/api/embeddings``), OpenAI (``/v1/chat/completions`` SSE,
``/v1/embeddings`` float or base64), Azure OpenAI (``/openai/deployments/{d}/...``
with ``api-version`` and ``api-key``) and LoLLMs (``/lollms_generate``,
``/lollms_embed``). Tests script faults per path (``plan``), switch behaviours
(``ServerState`` fields) and read what the server saw (``seen``, ``disconnects``,
``max_in_flight``). Answers are deterministic: ``answer_for(prompt)``; vectors
come from the real hashing embedder.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from lightrag.testing.fakes import HashingEmbeddingModel

FAST_RETRIES = {"retry_initial_delay": 0.01, "retry_max_delay": 2.0}
"""Binding settings that keep retry back-off short in tests."""


def answer_for(prompt: str) -> str:
    """The deterministic answer of the server to a last user turn."""
    return f"You said: {prompt}. That is all."


def pieces_of(text: str) -> list[str]:
    """How the server splits an answer into stream pieces (word by word, spaces kept)."""
    words = text.split(" ")
    return [word + (" " if i < len(words) - 1 else "") for i, word in enumerate(words)]


@dataclass
class Step:
    """One scripted reply for the next request to a path (replaces the normal one).

    A 200 step with a ``body`` replies that body as is (malformed-reply tests)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before replying (status 200: then reply normally)


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class ServerState:
    embed_dim: int = 8
    required_key: str | None = None  # OpenAI / Ollama / LoLLMs: "Bearer <key>"
    azure_key: str = "azure-secret-key"
    ollama_legacy: bool = False  # no /api/embed (servers before 0.3)
    reject_response_format: bool = False
    float_only_embeddings: bool = False  # ignore encoding_format (some compat servers)
    stream_pause: float = 0.0  # seconds between stream pieces
    stream_break_after: int | None = None  # drop the connection after n pieces
    stream_error_after: int | None = None  # send the protocol's error event after n pieces
    handler_delay: float = 0.0  # every request waits this long (concurrency tests)
    seen: list[Seen] = field(default_factory=list)
    plans: dict[str, deque[Step]] = field(default_factory=dict)
    disconnects: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def plan(self, path: str, *steps: Step) -> None:
        self.plans.setdefault(path, deque()).extend(steps)

    def bodies(self, path: str) -> list[Any]:
        return [seen.body for seen in self.seen if seen.path == path]


class ModelProtocolServer:
    """The app plus its uvicorn thread; ``url`` is ``http://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        self.state = ServerState()
        self._embedder = HashingEmbeddingModel({"dim": self.state.embed_dim})
        self.app = Starlette(
            routes=[
                Route("/api/chat", self.ollama_chat, methods=["POST"]),
                Route("/api/embed", self.ollama_embed, methods=["POST"]),
                Route("/api/embeddings", self.ollama_embeddings, methods=["POST"]),
                Route("/v1/chat/completions", self.openai_chat, methods=["POST"]),
                Route("/v1/embeddings", self.openai_embeddings, methods=["POST"]),
                Route(
                    "/openai/deployments/{deployment}/chat/completions",
                    self.azure_chat,
                    methods=["POST"],
                ),
                Route(
                    "/openai/deployments/{deployment}/embeddings",
                    self.azure_embeddings,
                    methods=["POST"],
                ),
                Route("/lollms_generate", self.lollms_generate, methods=["POST"]),
                Route("/lollms_embed", self.lollms_embed, methods=["POST"]),
            ]
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # lifecycle -------------------------------------------------------------

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0, log_level="error", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the model protocol server did not start within 10 s")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def reset(self) -> None:
        self.state = ServerState()
        self._embedder = HashingEmbeddingModel({"dim": self.state.embed_dim})

    # shared plumbing -------------------------------------------------------

    def vector(self, text: str) -> list[float]:
        if self._embedder.dim != self.state.embed_dim:
            self._embedder = HashingEmbeddingModel({"dim": self.state.embed_dim})
        return [float(x) for x in self._embedder.embed_one(text)]

    async def _admit(self, request: Request) -> tuple[Any, Response | None]:
        """Record the request, apply the scripted step or delay; a reply replaces normal handling."""
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode()
        path = request.url.path
        self.state.seen.append(
            Seen(path, dict(request.query_params), dict(request.headers), body, time.monotonic())
        )
        plan = self.state.plans.get(path)
        step = plan.popleft() if plan else None
        delay = (step.delay if step else 0.0) + self.state.handler_delay
        if delay and not await self._wait_or_disconnect(request, delay):
            return body, Response(status_code=499)
        if step is not None and (step.status != 200 or step.body is not None):
            content = step.body if step.body is not None else {"error": f"scripted {step.status}"}
            if isinstance(content, str):
                return body, PlainTextResponse(content, step.status, headers=step.headers)
            return body, JSONResponse(content, step.status, headers=step.headers)
        return body, None

    async def _wait_or_disconnect(self, request: Request, seconds: float) -> bool:
        """Sleep ``seconds``; False (and a recorded disconnect) if the client went away."""
        self.state.in_flight += 1
        self.state.max_in_flight = max(self.state.max_in_flight, self.state.in_flight)
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    self.state.disconnects.append(request.url.path)
                    return False
                await asyncio.sleep(0.02)
            return True
        finally:
            self.state.in_flight -= 1

    def _bearer_rejected(self, request: Request) -> Response | None:
        key = self.state.required_key
        if key is None or request.headers.get("authorization") == f"Bearer {key}":
            return None
        sent = request.headers.get("authorization", "")
        message = f"Incorrect API key provided: {sent.removeprefix('Bearer ')}."
        return JSONResponse(
            {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            401,
        )

    async def _pieces(
        self, path: str, pieces: list[str], fail: Any
    ) -> AsyncIterator[tuple[int, str]]:
        """Stream helper: pause, break or signal an error as the state asks; records disconnects."""
        finished = False
        try:
            for index, piece in enumerate(pieces):
                if (
                    self.state.stream_break_after is not None
                    and index == self.state.stream_break_after
                ):
                    finished = True
                    raise ConnectionAbortedError("scripted connection drop mid-stream")
                if (
                    self.state.stream_error_after is not None
                    and index == self.state.stream_error_after
                ):
                    finished = True
                    yield -1, fail
                    return
                if index and self.state.stream_pause:
                    await asyncio.sleep(self.state.stream_pause)
                yield index, piece
            finished = True
        finally:
            if not finished:
                self.state.disconnects.append(path)

    # Ollama ------------------------------------------------------------------

    async def ollama_chat(self, request: Request) -> Response:
        body, reply = await self._admit(request)
        if reply is not None:
            return reply
        if (rejected := self._bearer_rejected(request)) is not None:
            return rejected
        model = body["model"]
        text = answer_for(body["messages"][-1]["content"])
        if body.get("format") == "json":
            text = json.dumps({"answer": text})
        stamp = "2026-01-01T00:00:00.000000Z"
        if not body.get("stream", True):
            return JSONResponse(
                {
                    "model": model,
                    "created_at": stamp,
                    "message": {"role": "assistant", "content": text},
                    "done": True,
                    "done_reason": "stop",
                    "total_duration": 1000,
                    "prompt_eval_count": 5,
                    "eval_count": 7,
                }
            )

        async def lines() -> AsyncIterator[str]:
            async for index, piece in self._pieces(request.url.path, pieces_of(text), None):
                if index < 0:
                    yield json.dumps({"error": "model runner crashed mid-answer"}) + "\n"
                    return
                chunk = {
                    "model": model,
                    "created_at": stamp,
                    "done": False,
                    "message": {"role": "assistant", "content": piece},
                }
                yield json.dumps(chunk) + "\n"
            final = {
                "model": model,
                "created_at": stamp,
                "done": True,
                "done_reason": "stop",
                "message": {"role": "assistant", "content": ""},
                "total_duration": 1000,
                "eval_count": 7,
            }
            yield json.dumps(final) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def ollama_embed(self, request: Request) -> Response:
        body, reply = await self._admit(request)
        if reply is not None:
            return reply
        if self.state.ollama_legacy:
            return PlainTextResponse("404 page not found", 404)
        if (rejected := self._bearer_rejected(request)) is not None:
            return rejected
        if body["model"] == "missing":
            return JSONResponse({"error": 'model "missing" not found, try pulling it first'}, 404)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return JSONResponse(
            {
                "model": body["model"],
                "embeddings": [self.vector(t) for t in inputs],
                "total_duration": 1000,
                "load_duration": 10,
                "prompt_eval_count": len(inputs),
            }
        )

    async def ollama_embeddings(self, request: Request) -> Response:
        body, reply = await self._admit(request)
        if reply is not None:
            return reply
        return JSONResponse({"embedding": self.vector(body["prompt"])})

    # OpenAI ------------------------------------------------------------------

    async def openai_chat(self, request: Request) -> Response:
        body, reply = await self._admit(request)
        if reply is not None:
            return reply
        if (rejected := self._bearer_rejected(request)) is not None:
            return rejected
        return self._openai_chat_reply(request, body)

    def _openai_chat_reply(self, request: Request, body: dict[str, Any]) -> Response:
        if "response_format" in body and self.state.reject_response_format:
            return JSONResponse(
                {
                    "error": {
                        "message": "'response_format' is not supported by this server",
                        "type": "invalid_request_error",
                        "param": "response_format",
                    }
                },
                400,
            )
        model = body["model"]
        text = answer_for(body["messages"][-1]["content"])
        if body.get("response_format", {}).get("type") == "json_object":
            text = json.dumps({"answer": text})
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 1700000000,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "logprobs": None,
                            "message": {"role": "assistant", "content": text, "refusal": None},
                        }
                    ],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
                }
            )

        def chunk(delta: dict[str, Any], finish: str | None) -> str:
            payload = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 1700000000,
                "model": model,
                "choices": [
                    {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
                ],
            }
            return f"data: {json.dumps(payload)}\n\n"

        async def events() -> AsyncIterator[str]:
            yield ": keep-alive comment\n\n"
            yield chunk({"role": "assistant", "content": ""}, None)
            async for index, piece in self._pieces(request.url.path, pieces_of(text), None):
                if index < 0:
                    error = {
                        "error": {
                            "message": "upstream model overloaded mid-answer",
                            "type": "server_error",
                        }
                    }
                    yield f"data: {json.dumps(error)}\n\n"
                    return
                yield chunk({"content": piece}, None)
            yield chunk({}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def openai_embeddings(self, request: Request) -> Response:
        body, reply = await self._admit(request)
        if reply is not None:
            return reply
        if (rejected := self._bearer_rejected(request)) is not None:
            return rejected
        return self._openai_embeddings_reply(body)

    def _openai_embeddings_reply(self, body: dict[str, Any]) -> Response:
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        as_base64 = body.get("encoding_format") == "base64" and not self.state.float_only_embeddings
        data = []
        for index, text in enumerate(inputs):
            vector = self.vector(text)
            encoded: Any = (
                base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
                if as_base64
                else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        data.reverse()  # clients must order by "index", not by position
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
            }
        )

    # Azure OpenAI --------------------------------------------------------------

    def _azure_rejected(self, request: Request) -> Response | None:
        if "api-version" not in request.query_params:
            return JSONResponse({"error": {"code": "404", "message": "Resource not found"}}, 404)
        if request.headers.get("api-key") != self.state.azure_key:
            return JSONResponse(
                {
                    "error": {
                        "code": "401",
                        "message": "Access denied due to invalid subscription key",
                    }
                },
                401,
            )
        return None

    async def azure_chat(self, request: Request) -> Response:
        body, reply = await self._admit(request)
        if reply is not None:
            return reply
        if (rejected := self._azure_rejected(request)) is not None:
            return rejected
        return self._openai_chat_reply(request, body)

    async def azure_embeddings(self, request: Request) -> Response:
        body, reply = await self._admit(request)
        if reply is not None:
            return reply
        if (rejected := self._azure_rejected(request)) is not None:
            return rejected
        return self._openai_embeddings_reply(body)

    # LoLLMs --------------------------------------------------------------------

    async def lollms_generate(self, request: Request) -> Response:
        body, reply = await self._admit(request)
        if reply is not None:
            return reply
        if (rejected := self._bearer_rejected(request)) is not None:
            return rejected
        last_line = body["prompt"].rsplit("\n", 1)[-1]
        text = answer_for(last_line)
        if not body.get("stream"):
            return PlainTextResponse(text)

        async def chunks() -> AsyncIterator[str]:
            async for index, piece in self._pieces(request.url.path, pieces_of(text), None):
                if index >= 0:
                    yield piece

        return StreamingResponse(chunks(), media_type="text/plain")

    async def lollms_embed(self, request: Request) -> Response:
        body, reply = await self._admit(request)
        if reply is not None:
            return reply
        return JSONResponse({"vector": self.vector(body["text"])})
