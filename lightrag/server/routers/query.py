"""Query routes: ``/query`` (whole answer), ``/query/stream`` (NDJSON), ``/query/data``."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from lightrag.config.models import AppConfig
from lightrag.server.deps import ConfigDep, RagDep
from lightrag.server.limits import check_query_length
from lightrag.server.query_guard import GuardDep, QueryTimeoutError
from lightrag.server.schemas import (
    NDJSONResponse,
    QueryDataResponse,
    QueryRequest,
    QueryResponse,
    QueryStreamLine,
    Responses,
    default_query_param,
    error_response,
)
from lightrag.vocabulary.models import ModelError
from lightrag.vocabulary.types import QueryParam, StreamingAnswer

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter(tags=["query"])

_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_MODEL_FAILED: Responses = {
    502: error_response("The LLM or embedding model answered something unusable"),
    503: error_response("The model backend is down or too slow (`Retry-After` set)"),
    504: error_response("The query ran past `server.query_timeout` and was stopped"),
}


def _param(request: QueryRequest, config: AppConfig, *, stream: bool) -> QueryParam:
    check_query_length(request.query, config.server)
    return request.to_param(defaults=default_query_param(config), stream=stream)


def _references(items: list[Any], with_content: bool) -> list[dict[str, Any]]:
    exclude = None if with_content else {"content"}
    return [item.model_dump(exclude=exclude, exclude_none=True) for item in items]


@router.post("/query", response_model_exclude_none=True, responses=_MODEL_FAILED)
async def query(
    request: QueryRequest, rag: RagDep, config: ConfigDep, guard: GuardDep
) -> QueryResponse:
    """Answer a question in the chosen mode; ``references`` lists the sources used.
    A client that disconnects cancels the work; past ``server.query_timeout``: 504."""
    result = await guard.run(rag.query(request.query, _param(request, config, stream=False)))
    references = None
    if request.include_references:
        references = [
            ref if request.include_chunk_content else ref.model_copy(update={"content": None})
            for ref in result.references
        ]
    return QueryResponse(
        response=result.response, references=references, llm_generated=result.llm_generated
    )


def _line(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, ensure_ascii=False) + "\n").encode()


async def _ndjson(answer: StreamingAnswer, request: QueryRequest) -> AsyncIterator[bytes]:
    """References line (optional), then one ``{"response": piece}`` line per piece;
    an ``{"error": ...}`` line if the stream fails after the headers went out."""
    try:
        if request.include_references:
            yield _line(
                {"references": _references(answer.references, request.include_chunk_content)}
            )
        async for piece in answer.pieces:
            if piece:
                yield _line({"response": piece})
    except ModelError as exc:
        # The status line is already sent: report the failure in-band, as upstream does.
        logger.error("query stream failed: %s", exc)
        yield _line({"error": f"Model call failed: {exc}"})
    except QueryTimeoutError as exc:
        yield _line({"error": str(exc)})
    except Exception as exc:
        logger.exception("query stream failed")
        yield _line({"error": str(exc) or type(exc).__name__})
    finally:
        close = getattr(answer.pieces, "aclose", None)
        if close is not None:
            await close()


@router.post(
    "/query/stream",
    response_class=NDJSONResponse,
    responses={
        **_MODEL_FAILED,
        200: {"model": QueryStreamLine, "description": "NDJSON: one `QueryStreamLine` a line"},
    },
)
async def query_stream(
    request: QueryRequest, rag: RagDep, config: ConfigDep, guard: GuardDep
) -> StreamingResponse:
    """Stream the answer as NDJSON (``stream: false`` sends one line with everything).
    Past ``server.query_timeout`` before the first line: 504; after it: an ``error`` line."""
    if request.stream is False:
        result = await guard.run(rag.query(request.query, _param(request, config, stream=False)))
        payload: dict[str, Any] = {"response": result.response}
        if request.include_references:
            payload = {
                "references": _references(result.references, request.include_chunk_content),
                **payload,
            }
        return StreamingResponse(
            iter([_line(payload)]), media_type="application/x-ndjson", headers=_STREAM_HEADERS
        )
    answer = await guard.run(rag.query_stream(request.query, _param(request, config, stream=True)))
    answer.pieces = guard.stream(answer.pieces)
    return StreamingResponse(
        _ndjson(answer, request), media_type="application/x-ndjson", headers=_STREAM_HEADERS
    )


@router.post("/query/data", responses=_MODEL_FAILED)
async def query_data(
    request: QueryRequest, rag: RagDep, config: ConfigDep, guard: GuardDep
) -> QueryDataResponse:
    """Retrieval only: keywords, entities, relationships, chunks and references; no LLM
    answer."""
    context = await guard.run(rag.retrieve(request.query, _param(request, config, stream=False)))
    return QueryDataResponse(
        status="success",
        message="Nothing relevant was found" if context.is_empty else "Retrieval succeeded",
        data={
            "entities": context.entities,
            "relationships": context.relationships,
            "chunks": context.chunks,
            "references": _references(context.references, request.include_chunk_content),
        },
        metadata={
            "query_mode": context.mode,
            "keywords": {
                "high_level": context.high_level_keywords,
                "low_level": context.low_level_keywords,
            },
        },
    )
