"""The query side of the engine: keywords -> retrieval -> context -> answer (or stream).

Answers are cached under a key that covers every input that changes them: the
mode, query, history used, retrieval parameters and budgets, response type, user
instructions, keywords, the chat model's identity, the prompt version and a
digest of the full prompt (so new or deleted documents that change the context
also change the key). Streamed answers are cached once the stream completes.
Nothing here persists storages: the cache is flushed by the storage lifecycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial

from lightrag.core.cache import LLMCache, cache_digest
from lightrag.core.context import EngineContext
from lightrag.core.context_builder import BuiltContext, build_context, render_system_prompt
from lightrag.core.keywords import KeywordExtractor, Keywords, recent_history
from lightrag.core.query_prompts import NO_CONTEXT_RESPONSE, QUERY_PROMPT_VERSION
from lightrag.core.retrieval import Retriever
from lightrag.vocabulary.models import NativeRagModel
from lightrag.vocabulary.priority import Priority, at_query_priority, running_at
from lightrag.vocabulary.types import (
    Message,
    QueryParam,
    QueryResult,
    Reference,
    RetrievedContext,
    StreamingAnswer,
)

__all__ = ["QueryEngine"]


@dataclass(slots=True)
class _Prepared:
    """Everything decided before the model is asked."""

    query: str
    param: QueryParam
    history: list[Message]
    keywords: Keywords
    built: BuiltContext
    retrieved: RetrievedContext

    @property
    def system_prompt(self) -> str:
        """The context as the model's system prompt (rendered on demand: a native RAG
        model answers from ``retrieved`` and never reads it)."""
        return render_system_prompt(self.built.text, self.param)

    @property
    def full_prompt(self) -> str:
        return f"{self.system_prompt}\n---User query---\n\n{self.query}"


async def _once(text: str) -> AsyncIterator[str]:
    yield text


def _check_query(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("query must be a non-empty string")
    return text.strip()


class QueryEngine:
    """Answers questions over the indexed documents in the six query modes."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.keywords = KeywordExtractor(ctx)
        self.retriever = Retriever(ctx)

    # public API --------------------------------------------------------------------

    async def retrieve(self, text: str, param: QueryParam) -> RetrievedContext:
        """Retrieval only (no answer): keywords, entities, relationships, chunks, references.

        Runs at query priority. Raises ``ValueError`` for an empty query or malformed
        conversation history.
        """
        with running_at(Priority.QUERY):
            return await self._retrieve(text, param)

    async def query(self, text: str, param: QueryParam) -> QueryResult:
        """The whole answer; ``only_need_context``/``only_need_prompt`` return the context
        or the full prompt without calling the model; an empty retrieval returns the
        no-context answer (``llm_generated=False``) without calling the model. Runs at
        query priority (``lightrag.vocabulary.priority``)."""
        with running_at(Priority.QUERY):
            return await self._query(text, param)

    async def query_stream(self, text: str, param: QueryParam) -> StreamingAnswer:
        """The answer as pieces (references known up front). A cache hit, the context,
        the prompt and the no-context answer come as one piece. The complete streamed
        text is cached; a stream closed early is not. Retrieval and every piece run at
        query priority."""
        with running_at(Priority.QUERY):
            answer = await self._query_stream(text, param)
        return StreamingAnswer(
            references=answer.references,
            pieces=at_query_priority(answer.pieces),
            llm_generated=answer.llm_generated,
        )

    # implementations -----------------------------------------------------------------

    async def _retrieve(self, text: str, param: QueryParam) -> RetrievedContext:
        query = _check_query(text)
        history = recent_history(param.conversation_history, param.history_turns)
        if param.mode == "bypass":
            return RetrievedContext(mode="bypass")
        return (await self._prepare(query, param, history)).retrieved

    async def _query(self, text: str, param: QueryParam) -> QueryResult:
        query = _check_query(text)
        history = recent_history(param.conversation_history, param.history_turns)
        if param.mode == "bypass":
            return await self._bypass(query, param, history)
        prepared = await self._prepare(query, param, history)
        early = self._without_model(prepared)
        if early is not None:
            return early
        key = self._answer_key(prepared)
        references = self._references(prepared)
        cached = await self.ctx.cache.get(key)
        if cached is not None:
            return QueryResult(
                response=cached, references=references, context=prepared.retrieved, cached=True
            )
        answer = await self._answer(prepared)
        await self._remember(key, answer)
        return QueryResult(response=answer, references=references, context=prepared.retrieved)

    async def _query_stream(self, text: str, param: QueryParam) -> StreamingAnswer:
        query = _check_query(text)
        history = recent_history(param.conversation_history, param.history_turns)
        if param.mode == "bypass":
            if param.only_need_context or param.only_need_prompt:
                bypassed = await self._bypass(query, param, history)
                return StreamingAnswer(
                    references=[], pieces=_once(bypassed.response), llm_generated=False
                )
            key = self._bypass_key(query, param, history)
            cached = await self.ctx.cache.get(key)
            if cached is not None:
                return StreamingAnswer(references=[], pieces=_once(cached))
            source = self.ctx.llm.stream(
                query, system_prompt=self._bypass_system(param), history=history
            )
            return StreamingAnswer(references=[], pieces=self._cache_when_done(source, key))
        prepared = await self._prepare(query, param, history)
        early = self._without_model(prepared)
        if early is not None:
            return StreamingAnswer(
                references=early.references,
                pieces=_once(early.response),
                llm_generated=early.llm_generated,
            )
        references = self._references(prepared)
        key = self._answer_key(prepared)
        cached = await self.ctx.cache.get(key)
        if cached is not None:
            return StreamingAnswer(references=references, pieces=_once(cached))
        if isinstance(self.ctx.llm, NativeRagModel):
            answer = await self._answer(prepared)
            await self._remember(key, answer)
            return StreamingAnswer(references=references, pieces=_once(answer))
        source = self.ctx.llm.stream(
            prepared.query, system_prompt=prepared.system_prompt, history=prepared.history
        )
        return StreamingAnswer(references=references, pieces=self._cache_when_done(source, key))

    # steps ---------------------------------------------------------------------------

    async def _prepare(self, query: str, param: QueryParam, history: list[Message]) -> _Prepared:
        if param.mode == "naive":
            keywords = Keywords()
        else:
            keywords = await self.keywords.extract(query, param, history)
        candidates = await self.retriever.search(param.mode, query, keywords, param)
        # Tokenising every candidate is CPU work: off the event loop, so that other
        # requests (and the streams already answering) keep moving meanwhile.
        built = await asyncio.to_thread(
            partial(
                build_context,
                entities=candidates.entities,
                relations=candidates.relations,
                chunks=candidates.chunks,
                query=query,
                history=history,
                param=param,
                tokenizer=self.ctx.tokenizer,
            )
        )
        retrieved = RetrievedContext(
            mode=param.mode,
            high_level_keywords=keywords.high,
            low_level_keywords=keywords.low,
            entities=built.entities,
            relationships=built.relations,
            chunks=built.chunks,
            references=built.references,
        )
        return _Prepared(
            query=query,
            param=param,
            history=history,
            keywords=keywords,
            built=built,
            retrieved=retrieved,
        )

    def _references(self, prepared: _Prepared) -> list[Reference]:
        return list(prepared.built.references) if prepared.param.include_references else []

    def _without_model(self, prepared: _Prepared) -> QueryResult | None:
        """The result when the model is not to be called (empty, context or prompt only)."""
        references = self._references(prepared)
        if prepared.retrieved.is_empty:
            return QueryResult(
                response=NO_CONTEXT_RESPONSE, context=prepared.retrieved, llm_generated=False
            )
        if prepared.param.only_need_context:
            text = prepared.built.text
        elif prepared.param.only_need_prompt:
            text = prepared.full_prompt
        else:
            return None
        return QueryResult(
            response=text, references=references, context=prepared.retrieved, llm_generated=False
        )

    async def _answer(self, prepared: _Prepared) -> str:
        llm = self.ctx.llm
        if isinstance(llm, NativeRagModel):
            return await llm.answer_from_context(prepared.query, prepared.retrieved)
        return await llm.complete(
            prepared.query, system_prompt=prepared.system_prompt, history=prepared.history
        )

    def _answer_key(self, prepared: _Prepared) -> str:
        if not self.ctx.cache.enabled:
            return ""  # a disabled cache reads and stores nothing: no digest of the context
        param = prepared.param
        parts = [
            QUERY_PROMPT_VERSION,
            param.mode,
            prepared.query,
            list(prepared.history),
            param.top_k,
            param.chunk_top_k,
            self.ctx.config.related_chunk_number,
            param.max_entity_tokens,
            param.max_relation_tokens,
            param.max_total_tokens,
            param.response_type,
            param.user_prompt or "",
            prepared.keywords.high,
            prepared.keywords.low,
            self.ctx.llm.identity,
            isinstance(self.ctx.llm, NativeRagModel),
            cache_digest([prepared.system_prompt]),
        ]
        return LLMCache.key("query", param.mode, parts)

    # bypass --------------------------------------------------------------------------

    @staticmethod
    def _bypass_system(param: QueryParam) -> str | None:
        extra = (param.user_prompt or "").strip()
        return extra or None

    def _bypass_key(self, query: str, param: QueryParam, history: Sequence[Message]) -> str:
        parts = [
            QUERY_PROMPT_VERSION,
            "bypass",
            query,
            list(history),
            param.user_prompt or "",
            self.ctx.llm.identity,
        ]
        return LLMCache.key("query", "bypass", parts)

    async def _bypass(self, query: str, param: QueryParam, history: list[Message]) -> QueryResult:
        """Straight to the model with the history; no retrieval, no references."""
        if param.only_need_context:
            return QueryResult(response="", llm_generated=False)
        if param.only_need_prompt:
            return QueryResult(response=query, llm_generated=False)
        key = self._bypass_key(query, param, history)
        cached = await self.ctx.cache.get(key)
        if cached is not None:
            return QueryResult(response=cached, cached=True)
        answer = await self.ctx.llm.complete(
            query, system_prompt=self._bypass_system(param), history=history
        )
        await self._remember(key, answer)
        return QueryResult(response=answer)

    # streaming -----------------------------------------------------------------------

    async def _cache_when_done(self, source: AsyncIterator[str], key: str) -> AsyncIterator[str]:
        """Relay ``source``; cache the joined text only when it ends normally. Closing
        this iterator closes ``source`` (which cancels the model request)."""
        pieces: list[str] = []
        try:
            async for piece in source:
                pieces.append(piece)
                yield piece
        finally:
            close = getattr(source, "aclose", None)
            if close is not None:
                await close()
        await self._remember(key, "".join(pieces))

    async def _remember(self, key: str, answer: str) -> None:
        """Cache an answer unless it is blank (a blank reply is a failure, not an answer)."""
        if answer.strip():
            await self.ctx.cache.put(key, answer)
