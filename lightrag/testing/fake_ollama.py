"""A fake Ollama server: the ``ollama`` bindings' endpoints, answered by the test fakes.

``/api/chat`` (whole or NDJSON stream) is answered by ``FakeChatModel`` (extraction,
keywords, summaries and answers in each prompt's format), ``/api/embed`` and
``/api/embeddings`` by ``HashingEmbeddingModel``; every request first waits
``latency_ms``, like a model server that takes its time, so that benchmarks can run
the real HTTP bindings with realistic latency and no model. ``/api/tags`` and
``/api/version`` answer as Ollama does. For benchmarks and tests only:

    python -m lightrag.testing.fake_ollama --port 11434 --latency-ms 100 --dim 1024
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel
from lightrag.vocabulary.types import Message

__all__ = ["fake_ollama_app", "main"]

_PIECE_CHARS = 24


def _split_messages(messages: list[dict[str, Any]]) -> tuple[str, str | None, list[Message]]:
    """``(last user prompt, system prompt, history)`` of an Ollama ``messages`` list."""
    system = "\n".join(m.get("content", "") for m in messages if m.get("role") == "system")
    turns = [m for m in messages if m.get("role") in ("user", "assistant")]
    if not turns or turns[-1].get("role") != "user":
        raise ValueError("messages must end with a user message")
    history = [Message(role=m["role"], content=str(m.get("content", ""))) for m in turns[:-1]]
    return str(turns[-1].get("content", "")), system or None, history


def fake_ollama_app(*, latency_ms: float = 100.0, dim: int = 1024) -> Starlette:
    """The fake server's ASGI app; every model request waits ``latency_ms`` first."""
    chat = FakeChatModel()
    embedder = HashingEmbeddingModel({"dim": dim})
    delay = latency_ms / 1000

    async def body_of(request: Request) -> dict[str, Any]:
        payload = json.loads(await request.body() or b"{}")
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        await asyncio.sleep(delay)
        return payload

    async def api_chat(request: Request) -> Response:
        try:
            payload = await body_of(request)
            prompt, system, history = _split_messages(list(payload.get("messages") or []))
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        answer = await chat.complete(
            prompt,
            system_prompt=system,
            history=history,
            json_mode=payload.get("format") == "json",
        )
        model = str(payload.get("model", "fake"))
        if payload.get("stream", True) is False:
            return JSONResponse(
                {
                    "model": model,
                    "message": {"role": "assistant", "content": answer},
                    "done": True,
                    "done_reason": "stop",
                }
            )

        async def lines() -> AsyncIterator[str]:
            for start in range(0, len(answer), _PIECE_CHARS):
                piece = answer[start : start + _PIECE_CHARS]
                message = {"role": "assistant", "content": piece}
                yield json.dumps({"model": model, "message": message, "done": False}) + "\n"
                await asyncio.sleep(0)
            final = {"role": "assistant", "content": ""}
            yield json.dumps({"model": model, "message": final, "done": True}) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def api_embed(request: Request) -> Response:
        try:
            payload = await body_of(request)
            inputs = payload["input"]
        except (ValueError, KeyError) as exc:
            return JSONResponse({"error": f"bad request: {exc}"}, status_code=400)
        texts = [inputs] if isinstance(inputs, str) else [str(text) for text in inputs]
        vectors = await embedder.embed(texts)
        return JSONResponse({"model": payload.get("model", "fake"), "embeddings": vectors.tolist()})

    async def api_embeddings(request: Request) -> Response:
        try:
            payload = await body_of(request)
            text = str(payload["prompt"])
        except (ValueError, KeyError) as exc:
            return JSONResponse({"error": f"bad request: {exc}"}, status_code=400)
        return JSONResponse({"embedding": (await embedder.embed([text]))[0].tolist()})

    async def api_tags(request: Request) -> Response:
        return JSONResponse({"models": [{"name": "fake:latest", "model": "fake:latest"}]})

    async def api_version(request: Request) -> Response:
        return JSONResponse({"version": "0.9.3"})

    return Starlette(
        routes=[
            Route("/api/chat", api_chat, methods=["POST"]),
            Route("/api/embed", api_embed, methods=["POST"]),
            Route("/api/embeddings", api_embeddings, methods=["POST"]),
            Route("/api/tags", api_tags, methods=["GET"]),
            Route("/api/version", api_version, methods=["GET"]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--dim", type=int, default=1024)
    args = parser.parse_args(argv)
    app = fake_ollama_app(latency_ms=args.latency_ms, dim=args.dim)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
