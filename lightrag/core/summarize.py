"""Turn a list of descriptions into one: joined, or summarised by the LLM (map-reduce)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from lightrag.core import extraction_prompts as prompts
from lightrag.core.context import EngineContext
from lightrag.core.graph_fields import unique_texts
from lightrag.core.llm_calls import InsertLLM
from lightrag.vocabulary.models import ModelError, NativeRagModel
from lightrag.vocabulary.types import GRAPH_FIELD_SEP

__all__ = ["DescriptionSummarizer", "SummaryMemo"]

SummaryMemo = dict[frozenset[str], str]
"""Summaries already made: the set of descriptions summarised -> the summary."""


class DescriptionSummarizer:
    """Joins descriptions, or has the LLM summarise them when they are many or long."""

    def __init__(self, ctx: EngineContext, llm: InsertLLM) -> None:
        self.ctx = ctx
        self.llm = llm

    def needs_summary(self, descriptions: Sequence[str]) -> bool:
        if len(descriptions) < 2:
            return False
        if len(descriptions) >= self.ctx.config.force_llm_summary_on_merge:
            return True
        joined = GRAPH_FIELD_SEP.join(descriptions)
        limit = self.ctx.config.summary_max_tokens
        # cheap exit: a token is never shorter than one character here
        return len(joined) > limit and self.ctx.tokenizer.count(joined) > limit

    async def combine(
        self,
        name: str,
        kind: str,
        descriptions: Sequence[str],
        memo: SummaryMemo | None = None,
        summarise: bool = True,
    ) -> str:
        """One description: the joined list, or an LLM summary when ``needs_summary``.

        ``memo`` holds summaries made earlier (set of descriptions -> summary): one
        whose descriptions are all in ``descriptions`` stands in for them, so a merge
        re-computed after other writers added descriptions needs no new LLM call.
        New summaries are recorded in it. Without ``summarise``, a list that needs a
        new summary is joined instead (another writer is making its summary).
        """
        items = unique_texts(descriptions)
        if memo:
            items = _reuse_summary(items, memo)
        if not summarise or not self.needs_summary(items):
            return GRAPH_FIELD_SEP.join(items)
        summary = await self.summarize(name, kind, items)
        if memo is not None:
            memo[frozenset(items)] = summary
        return summary

    async def summarize(self, name: str, kind: str, descriptions: Sequence[str]) -> str:
        """Map-reduce: summarise groups of at most ``summary_context_size`` tokens until one fits."""
        model = self.ctx.llm
        config = self.ctx.config
        tokenizer = self.ctx.tokenizer
        items = [tokenizer.truncate(d, config.summary_context_size) for d in descriptions]
        while True:
            counts = [tokenizer.count(item) for item in items]
            if sum(counts) <= config.summary_context_size or len(items) <= 2:
                return await self._one(model, name, kind, items)
            groups: list[list[str]] = [[]]
            used = 0
            for item, count in zip(items, counts, strict=True):
                if groups[-1] and used + count > config.summary_context_size:
                    groups.append([])
                    used = 0
                groups[-1].append(item)
                used += count
            if len(groups) == len(items):  # every item fills a group alone: pair them up
                groups = [items[i : i + 2] for i in range(0, len(items), 2)]
            items = list(
                await asyncio.gather(
                    *(
                        self._one(model, name, kind, group) if len(group) > 1 else _same(group[0])
                        for group in groups
                    )
                )
            )

    async def _one(self, model: object, name: str, kind: str, items: Sequence[str]) -> str:
        """One summary of ``items``; raises ``ModelError`` for a blank one (it would
        replace every description with nothing)."""
        if isinstance(model, NativeRagModel):
            summary = (await model.summarize_descriptions(name, items)).strip()
        else:
            prompt = prompts.build_summary_prompt(
                name,
                items,
                kind=kind,
                language=self.ctx.config.language,
                length=self.ctx.config.summary_length_recommended,
            )
            summary = (await self.llm.complete("summary", prompt)).strip()
        if not summary:
            raise ModelError(
                f"{self.ctx.llm.identity}: blank summary of the {len(items)} descriptions "
                f"of the {kind} {name!r}"
            )
        return summary


async def _same(text: str) -> str:
    return text


def _reuse_summary(items: list[str], memo: SummaryMemo) -> list[str]:
    """``items`` with the largest memorised set they contain replaced by its summary."""
    present = set(items)
    covered = [group for group in memo if len(group) > 1 and group <= present]
    if not covered:
        return items
    best = max(covered, key=len)
    return [memo[best], *(item for item in items if item not in best)]
