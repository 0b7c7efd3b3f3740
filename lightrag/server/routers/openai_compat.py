"""OpenAI-compatible chat API: ``POST /v1/chat/completions`` and ``GET /v1/models``.

OpenAI clients (the ``openai`` SDK, LibreChat, ...) use the server as one model
(``name:tag`` from the config). The last user message is answered through the RAG
engine with the same prefix routing as the Ollama API (``/local``, ``/mixcontext``,
``/bypass``, ...); earlier messages are the conversation history; system messages
become instructions. Streaming uses server-sent events: ``chat.completion.chunk``
objects, an optional usage chunk (``stream_options.include_usage``), then
``data: [DONE]``. Errors use OpenAI's ``{"error": {...}}`` shape.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from lightrag.config.models import AppConfig
from lightrag.core.engine import LightRAG
from lightrag.server.chat_answers import (
    complete_chat,
    count_prompt_tokens,
    count_tokens,
    stream_chat,
)
from lightrag.server.chat_routing import message_text, parse_chat_messages
from lightrag.server.deps import ChatRagDep, ConfigDep, model_workspace, visible_workspaces
from lightrag.server.model_errors import model_error_headers, model_error_status
from lightrag.server.query_guard import GuardDep
from lightrag.server.schemas import Responses, error_response, require_in_schema
from lightrag.vocabulary.models import ModelError

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter(tags=["openai"])

_STARTING: Responses = {503: error_response("The server is starting")}

_CREATED = 1705276800  # 2024-01-15T00:00:00Z, the emulated model's release date
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class ChatCompletionMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[Any] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """``POST /v1/chat/completions`` body. Sampling fields are accepted and ignored:
    the configured LLM's settings apply."""

    # ``messages`` required and non-empty, as the schema says; the route answers 400
    # (OpenAI's status for an unusable request) rather than 422 when they are not.
    model_config = ConfigDict(extra="allow", json_schema_extra=require_in_schema("messages"))

    model: str = ""
    messages: list[ChatCompletionMessage] = Field(
        default_factory=list, json_schema_extra={"minItems": 1}
    )
    stream: bool = False
    stream_options: StreamOptions | None = None


class ChatCompletion(BaseModel):
    """A whole ``chat.completion`` (``stream: false``)."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, int]


def model_id(config: AppConfig) -> str:
    """The model id clients select: ``name:tag``."""
    return f"{config.server.simulated_model_name}:{config.server.simulated_model_tag}"


def _workspace_model_id(config: AppConfig, workspace: str) -> str:
    if workspace == config.server.workspace:
        return model_id(config)
    return f"{config.server.simulated_model_name}:{workspace}"


@router.get("/v1/models", responses=_STARTING)
async def list_models(request: Request, config: ConfigDep) -> dict[str, Any]:
    """One model per workspace the caller may use (``lightrag:latest`` the default,
    ``lightrag:<workspace>`` the others), as an OpenAI model list."""
    return {
        "object": "list",
        "data": [
            {
                "id": _workspace_model_id(config, workspace),
                "object": "model",
                "created": _CREATED,
                "owned_by": "lightrag",
            }
            for workspace in await visible_workspaces(request)
        ],
    }


class OpenAIModel(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """OpenAI's error body."""

    error: OpenAIErrorBody


@router.get(
    "/v1/models/{model:path}",
    response_model=OpenAIModel,
    responses={404: {"model": OpenAIError, "description": "No model of that id"}, **_STARTING},
)
async def retrieve_model(
    model: Annotated[str, Path(description="A model id of `GET /v1/models`")],
    request: Request,
    config: ConfigDep,
) -> OpenAIModel | JSONResponse:
    """One model of ``GET /v1/models`` (``models.retrieve`` in the SDK); 404 in OpenAI's
    error shape for any other id."""
    listed = [_workspace_model_id(config, ws) for ws in await visible_workspaces(request)]
    if model not in listed:
        body = {
            "error": {
                "message": f"The model {model!r} does not exist",
                "type": "invalid_request_error",
                "param": "model",
                "code": "model_not_found",
            }
        }
        return JSONResponse(body, status_code=404)
    return OpenAIModel(id=model, created=_CREATED, owned_by="lightrag")


def _error(
    status_code: int, message: str, kind: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """OpenAI's error shape (the SDK turns it into ``BadRequestError`` and friends)."""
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return JSONResponse(body, status_code=status_code, headers=headers)


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


async def _sse(
    pieces: AsyncIterator[str],
    *,
    rag: LightRAG,
    completion_id: str,
    model: str,
    prompt_tokens: int,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    """Role chunk, one chunk per piece, the ``stop`` chunk, usage (if asked), ``[DONE]``.
    A failure after the headers went out is sent as an ``error`` event (the SDK raises it)."""
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    produced: list[str] = []
    try:
        yield _event(chunk({"role": "assistant", "content": ""}, None))
        async for piece in pieces:
            if piece:
                produced.append(piece)
                yield _event(chunk({"content": piece}, None))
        yield _event(chunk({}, "stop"))
        if include_usage:
            usage = _usage(prompt_tokens, count_tokens(rag, "".join(produced)))
            yield _event({**chunk({}, None), "choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"
    except Exception as exc:
        logger.exception("OpenAI-compatible stream failed")
        message = str(exc) or type(exc).__name__
        yield _event({"error": {"message": message, "type": "server_error", "code": None}})
    finally:
        close = getattr(pieces, "aclose", None)
        if close is not None:
            await close()


@router.post(
    "/v1/chat/completions",
    response_model=None,
    responses={
        200: {
            "model": ChatCompletion,
            "description": "A `chat.completion`, or server-sent `chat.completion.chunk` events "
            "ending with `data: [DONE]` (`stream: true`)",
            "content": {"text/event-stream": {}},
        },
        400: {"model": OpenAIError, "description": "Unusable messages"},
        422: {
            "description": "Malformed body, or a question over `server.max_query_length`",
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/HTTPValidationError"},
                            {"$ref": "#/components/schemas/OpenAIError"},
                        ]
                    }
                }
            },
        },
        502: {"model": OpenAIError, "description": "The LLM answered something unusable"},
        503: {"model": OpenAIError, "description": "The LLM is down or too slow (`Retry-After`)"},
        504: {"model": OpenAIError, "description": "Ran past `server.query_timeout`; stopped"},
    },
)
async def chat_completions(
    request: ChatCompletionRequest, rag: ChatRagDep, config: ConfigDep, guard: GuardDep
) -> JSONResponse | StreamingResponse:
    """Answer the last user message through the RAG engine, whole or streamed (SSE).
    The workspace is the header's, else the model's (``lightrag:<workspace>``)."""
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    selected = model_workspace(request.model, config) is not None
    model = request.model.strip() if selected else model_id(config)
    try:
        turn = parse_chat_messages([(m.role, message_text(m.content)) for m in request.messages])
        prompt_tokens = count_prompt_tokens(rag, turn)
        if request.stream:
            pieces = guard.stream(await guard.run(stream_chat(rag, config, turn)))
            include_usage = bool(request.stream_options and request.stream_options.include_usage)
            body = _sse(
                pieces,
                rag=rag,
                completion_id=completion_id,
                model=model,
                prompt_tokens=prompt_tokens,
                include_usage=include_usage,
            )
            return StreamingResponse(body, media_type="text/event-stream", headers=_SSE_HEADERS)
        reply = await guard.run(complete_chat(rag, config, turn))
    except HTTPException as exc:
        kind = "timeout" if exc.status_code == 504 else "invalid_request_error"
        return _error(exc.status_code, str(exc.detail), kind)
    except ValueError as exc:
        return _error(400, str(exc), "invalid_request_error")
    except ModelError as exc:
        logger.warning("LLM call for /v1/chat/completions failed: %s", exc)
        return _error(model_error_status(exc), str(exc), "upstream_error", model_error_headers(exc))
    return JSONResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": _usage(prompt_tokens, count_tokens(rag, reply)),
        }
    )
