"""Ollama emulation: the server looks like an Ollama instance with one model.

Chat front ends that speak Ollama (Open WebUI and others) list the model with
``/api/tags`` and talk to it with ``/api/chat``, which answers through the RAG
engine (see ``lightrag.server.chat_routing`` for the prefix routing);
``/api/generate`` goes straight to the LLM. Streaming responses are NDJSON lines
shaped like Ollama's own, ending with a ``done: true`` line that carries the
durations (nanoseconds) and token counts (estimated with the engine's tokenizer).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from lightrag.config.models import AppConfig
from lightrag.core.engine import LightRAG
from lightrag.server.chat_answers import (
    complete_chat,
    count_prompt_tokens,
    count_tokens,
    stream_chat,
)
from lightrag.server.chat_routing import (
    ChatRequestError,
    ChatTurn,
    Stopwatch,
    iso_now,
    message_text,
    parse_chat_messages,
)
from lightrag.server.deps import ChatRagDep, ConfigDep, model_workspace, visible_workspaces
from lightrag.server.limits import check_query_length
from lightrag.server.model_errors import model_error_headers, model_error_status
from lightrag.server.query_guard import GuardDep
from lightrag.server.schemas import (
    NDJSONResponse,
    Responses,
    error_response,
    require_in_schema,
)
from lightrag.vocabulary.models import ModelError

__all__ = ["OLLAMA_API_VERSION", "router"]

logger = logging.getLogger(__name__)

OLLAMA_API_VERSION = "0.9.3"
"""The Ollama version reported by ``/api/version`` (clients gate features on it)."""

_MODEL_SIZE = 7365960935
_MODEL_DIGEST = "sha256:lightrag"
_MODEL_MODIFIED_AT = "2024-01-15T00:00:00Z"
_MODEL_EXPIRES_AT = "2050-12-31T14:38:31.83753-07:00"
_NDJSON = "application/x-ndjson"
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class _AnyContentTypeIsJson(APIRoute):
    """Parses a POST body as JSON whatever its declared type: some Ollama clients send
    ``application/octet-stream`` or nothing at all."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            declared = request.headers.get("content-type", "")
            if request.method == "POST" and not declared.startswith("application/json"):
                headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
                headers.append((b"content-type", b"application/json"))
                request = Request({**request.scope, "headers": headers}, request.receive)
            return await handler(request)

        return handle


router = APIRouter(tags=["ollama"], route_class=_AnyContentTypeIsJson)

_STARTING: Responses = {503: error_response("The server is starting")}


class OllamaMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[Any] | None = ""
    images: list[str] | None = None


class OllamaChatRequest(BaseModel):
    """``POST /api/chat`` body (Ollama's fields; unknown ones are accepted and ignored)."""

    # ``messages`` required and non-empty, as the schema says; the route answers 400
    # (upstream's status for an unusable request) rather than 422 when they are not.
    model_config = ConfigDict(extra="allow", json_schema_extra=require_in_schema("messages"))

    model: str = ""
    messages: list[OllamaMessage] = Field(default_factory=list, json_schema_extra={"minItems": 1})
    stream: bool = True
    system: str | None = None
    options: dict[str, Any] | None = None


class OllamaChatChunk(BaseModel):
    """A ``/api/chat`` answer: the whole reply (``stream: false``), or one NDJSON line
    (``done: false`` lines carry pieces; the ``done: true`` line the counts and timings)."""

    model_config = ConfigDict(extra="allow")

    model: str
    created_at: str
    message: dict[str, Any]
    done: bool
    done_reason: str | None = None
    error: str | None = None


class OllamaGenerateChunk(BaseModel):
    """A ``/api/generate`` answer or NDJSON line: as ``OllamaChatChunk`` with ``response``."""

    model_config = ConfigDict(extra="allow")

    model: str
    created_at: str
    response: str
    done: bool
    done_reason: str | None = None
    error: str | None = None


class OllamaGenerateRequest(BaseModel):
    """``POST /api/generate`` body: a prompt sent straight to the LLM."""

    model_config = ConfigDict(extra="allow")

    model: str = ""
    # Not blank, as the schema says; the route answers 400 for a blank one, as upstream.
    prompt: str = Field(json_schema_extra={"minLength": 1, "pattern": r"\S"})
    system: str | None = None
    stream: bool = True
    options: dict[str, Any] | None = None


def model_name(config: AppConfig) -> str:
    """The emulated model's ``name:tag``."""
    return f"{config.server.simulated_model_name}:{config.server.simulated_model_tag}"


def _workspace_model(config: AppConfig, workspace: str) -> str:
    """``lightrag:latest`` for the default workspace, ``lightrag:<workspace>`` otherwise."""
    if workspace == config.server.workspace:
        return model_name(config)
    return f"{config.server.simulated_model_name}:{workspace}"


def _answering_model(config: AppConfig, requested: str) -> str:
    """The model name an answer carries: the requested one when it names a workspace."""
    return (
        requested.strip() if model_workspace(requested, config) is not None else model_name(config)
    )


def _model_entry(
    config: AppConfig, family: str, parameter_size: str, name: str | None = None
) -> dict[str, Any]:
    name = name or model_name(config)
    return {
        "name": name,
        "model": name,
        "size": _MODEL_SIZE,
        "digest": _MODEL_DIGEST,
        "modified_at": _MODEL_MODIFIED_AT,
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": parameter_size,
            "quantization_level": "Q4_0",
        },
    }


@router.get("/api/version")
async def version() -> dict[str, str]:
    """The Ollama version this server emulates."""
    return {"version": OLLAMA_API_VERSION}


@router.get("/api/tags", responses=_STARTING)
async def tags(request: Request, config: ConfigDep) -> dict[str, Any]:
    """One model per workspace the caller may use: ``lightrag:latest`` (the default
    workspace) and ``lightrag:<workspace>``."""
    names = [_workspace_model(config, ws) for ws in await visible_workspaces(request)]
    return {"models": [_model_entry(config, "lightrag", "13B", name) for name in names]}


class OllamaShowRequest(BaseModel):
    """``POST /api/show`` body: ``model`` (``name`` in clients before Ollama 0.3)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"anyOf": [{"required": ["model"]}, {"required": ["name"]}]},
    )

    model: str | None = Field(default=None, min_length=1)
    name: str | None = Field(default=None, min_length=1, description="older clients' `model`")
    verbose: bool = False


class OllamaModelDetails(BaseModel):
    parent_model: str
    format: str
    family: str
    families: list[str]
    parameter_size: str
    quantization_level: str


class OllamaShowResponse(BaseModel):
    """Ollama's model details, as ``ollama show`` and the client's ``show()`` read them."""

    modelfile: str
    parameters: str
    template: str
    license: str
    details: OllamaModelDetails
    model_info: dict[str, Any]
    capabilities: list[str]
    modified_at: str


class OllamaError(BaseModel):
    """Ollama's error body."""

    error: str


def _show_entry(config: AppConfig, name: str) -> dict[str, Any]:
    details = _model_entry(config, "lightrag", "13B", name)["details"]
    server = config.server
    return {
        "modelfile": f"# LightRAG knowledge base served as an Ollama model\nFROM {name}\n",
        "parameters": "",
        "template": "{{ .Prompt }}",
        "license": "",
        "details": details,
        "model_info": {
            "general.architecture": "lightrag",
            "general.basename": server.simulated_model_name,
            "general.parameter_count": 13_000_000_000,
            "lightrag.llm_binding": config.llm.type,
            "lightrag.embedding_binding": config.embedding.type,
        },
        "capabilities": ["completion"],
        "modified_at": _MODEL_MODIFIED_AT,
    }


@router.post(
    "/api/show",
    response_model=OllamaShowResponse,
    responses={
        400: {"model": OllamaError, "description": "Neither `model` nor `name` given"},
        404: {"model": OllamaError, "description": "No model of that name"},
        **_STARTING,
    },
)
async def show(
    body: OllamaShowRequest, request: Request, config: ConfigDep
) -> OllamaShowResponse | JSONResponse:
    """Details of one listed model (``/api/tags``); a name without a tag means ``:latest``,
    as in Ollama. 404 for a model this server does not list."""
    requested = (body.model or body.name or "").strip()
    if not requested:
        return _error(400, "model is required")
    name = requested if ":" in requested else f"{requested}:latest"
    listed = [_workspace_model(config, ws) for ws in await visible_workspaces(request)]
    if name not in listed:
        return _error(404, f"model {requested!r} not found")
    return OllamaShowResponse.model_validate(_show_entry(config, name))


@router.get("/api/ps", responses=_STARTING)
async def running_models(request: Request, config: ConfigDep) -> dict[str, Any]:
    """The models as "loaded" (they always are)."""
    entries = []
    for workspace in await visible_workspaces(request):
        entry = _model_entry(config, "lightrag", "13B", _workspace_model(config, workspace))
        entry.update({"expires_at": _MODEL_EXPIRES_AT, "size_vram": 0})
        entries.append(entry)
    return {"models": entries}


def _chat_answers(answer: type[BaseModel]) -> Responses:
    """The answers of ``/api/chat`` and ``/api/generate``: NDJSON lines when streaming
    (the default), one JSON object otherwise; errors in Ollama's shape."""
    validation = {"$ref": "#/components/schemas/HTTPValidationError"}
    return {
        200: {
            "model": answer,
            "description": "NDJSON lines (`stream`, the default), or one object",
            "content": {"application/json": {"schema": {"$ref": _ref(answer)}}},
        },
        400: {"model": OllamaError, "description": "Unusable messages or prompt"},
        422: {
            "description": "Malformed body, or a question over `server.max_query_length`",
            "content": {
                "application/json": {"schema": {"anyOf": [validation, _ref_to(OllamaError)]}}
            },
        },
        502: {"model": OllamaError, "description": "The LLM answered something unusable"},
        503: {"model": OllamaError, "description": "The LLM is down or too slow (`Retry-After`)"},
        504: {"model": OllamaError, "description": "Ran past `server.query_timeout`; stopped"},
    }


def _ref(model: type[BaseModel]) -> str:
    return f"#/components/schemas/{model.__name__}"


def _ref_to(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _ref(model)}


def _error(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """Ollama's error shape: ``{"error": message}``."""
    return JSONResponse({"error": message}, status_code=status_code, headers=headers)


def _line(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, ensure_ascii=False) + "\n").encode()


def _max_tokens(options: dict[str, Any] | None) -> int | None:
    """Ollama's ``options.num_predict`` (``-1`` or absent: no limit)."""
    value = (options or {}).get("num_predict")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ChatRequestError("options.num_predict must be an integer")
    return value if value > 0 else None


def _final_fields(
    watch: Stopwatch, prompt_tokens: int, eval_tokens: int, done_reason: str = "stop"
) -> dict[str, Any]:
    timings = watch.durations()
    return {
        "done_reason": done_reason,
        "done": True,
        "total_duration": timings["total_duration"],
        "load_duration": 0,
        "prompt_eval_count": prompt_tokens,
        "prompt_eval_duration": timings["prompt_eval_duration"],
        "eval_count": eval_tokens,
        "eval_duration": timings["eval_duration"],
    }


async def _ndjson(
    pieces: AsyncIterator[str],
    *,
    rag: LightRAG,
    name: str,
    watch: Stopwatch,
    prompt_tokens: int,
    shape: Callable[[str], dict[str, Any]],
) -> AsyncIterator[bytes]:
    """Content lines, then the ``done`` line; a failure after the headers went out is
    reported in-band (a visible content line, then a ``done`` line with ``error``)."""
    produced: list[str] = []
    try:
        async for piece in pieces:
            if not piece:
                continue
            watch.mark_first_piece()
            produced.append(piece)
            yield _line({"model": name, "created_at": iso_now(), **shape(piece), "done": False})
        eval_tokens = count_tokens(rag, "".join(produced))
        final = _final_fields(watch, prompt_tokens, eval_tokens)
        yield _line({"model": name, "created_at": iso_now(), **shape(""), **final})
    except Exception as exc:
        logger.exception("Ollama-compatible stream failed")
        message = str(exc) or type(exc).__name__
        yield _line(
            {
                "model": name,
                "created_at": iso_now(),
                **shape(f"\n\nError: {message}"),
                "done": False,
            }
        )
        yield _line(
            {"model": name, "created_at": iso_now(), **shape(""), "done": True, "error": message}
        )
    finally:
        await _aclose(pieces)


async def _aclose(pieces: AsyncIterator[str]) -> None:
    close = getattr(pieces, "aclose", None)
    if close is not None:
        await close()


def _chat_shape(text: str) -> dict[str, Any]:
    return {"message": {"role": "assistant", "content": text, "images": None}}


def _generate_shape(text: str) -> dict[str, Any]:
    return {"response": text}


def _stream_response(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type=_NDJSON, headers=_STREAM_HEADERS)


@router.post(
    "/api/chat",
    response_model=None,
    response_class=NDJSONResponse,
    responses=_chat_answers(OllamaChatChunk),
)
async def chat(
    request: OllamaChatRequest, rag: ChatRagDep, config: ConfigDep, guard: GuardDep
) -> JSONResponse | StreamingResponse:
    """Answer the last user message through the RAG engine (prefix routing; earlier
    messages are the conversation history). Streams NDJSON unless ``stream`` is false.
    The workspace is the header's, else the model name's (``lightrag:<workspace>``)."""
    watch = Stopwatch()
    name = _answering_model(config, request.model)
    try:
        turn: ChatTurn = parse_chat_messages(
            [(m.role, message_text(m.content)) for m in request.messages], system=request.system
        )
        prompt_tokens = count_prompt_tokens(rag, turn)
        if request.stream:
            pieces = guard.stream(await guard.run(stream_chat(rag, config, turn)))
            return _stream_response(
                _ndjson(
                    pieces,
                    rag=rag,
                    name=name,
                    watch=watch,
                    prompt_tokens=prompt_tokens,
                    shape=_chat_shape,
                )
            )
        reply = await guard.run(complete_chat(rag, config, turn))
    except HTTPException as exc:
        return _error(exc.status_code, str(exc.detail))
    except ValueError as exc:
        return _error(400, str(exc))
    except ModelError as exc:
        logger.warning("LLM call for /api/chat failed: %s", exc)
        return _error(model_error_status(exc), str(exc), model_error_headers(exc))
    watch.mark_first_piece()
    final = _final_fields(watch, prompt_tokens, count_tokens(rag, reply))
    return JSONResponse(
        {"model": name, "created_at": iso_now(), **_chat_shape(reply), **final},
    )


@router.post(
    "/api/generate",
    response_model=None,
    response_class=NDJSONResponse,
    responses=_chat_answers(OllamaGenerateChunk),
)
async def generate(
    request: OllamaGenerateRequest, rag: ChatRagDep, config: ConfigDep, guard: GuardDep
) -> JSONResponse | StreamingResponse:
    """Send ``prompt`` (with the request's ``system`` prompt) straight to the LLM, no RAG."""
    watch = Stopwatch()
    name = _answering_model(config, request.model)
    if not request.prompt.strip():
        return _error(400, "prompt must not be empty")
    try:
        check_query_length(request.prompt, config.server)
    except HTTPException as exc:
        return _error(exc.status_code, str(exc.detail))
    try:
        max_tokens = _max_tokens(request.options)
        prompt_tokens = count_tokens(rag, request.prompt) + count_tokens(rag, request.system or "")
        if request.stream:
            pieces = guard.stream(
                rag.chat_stream(request.prompt, system_prompt=request.system, max_tokens=max_tokens)
            )
            return _stream_response(
                _ndjson(
                    pieces,
                    rag=rag,
                    name=name,
                    watch=watch,
                    prompt_tokens=prompt_tokens,
                    shape=_generate_shape,
                )
            )
        reply = await guard.run(
            rag.chat(request.prompt, system_prompt=request.system, max_tokens=max_tokens)
        )
    except HTTPException as exc:
        return _error(exc.status_code, str(exc.detail))
    except ValueError as exc:
        return _error(400, str(exc))
    except ModelError as exc:
        logger.warning("LLM call for /api/generate failed: %s", exc)
        return _error(model_error_status(exc), str(exc), model_error_headers(exc))
    watch.mark_first_piece()
    final = _final_fields(watch, prompt_tokens, count_tokens(rag, reply))
    return JSONResponse({"model": name, "created_at": iso_now(), "response": reply, **final})
