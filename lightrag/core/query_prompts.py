"""Prompts of the query side: keyword extraction and the grounded answer.

Every template here is written for this project. ``QUERY_PROMPT_VERSION`` is part
of every keyword and answer cache key: bump it whenever a template changes so that
answers produced by the old wording are not served again.

The first line of each system prompt is a stable marker (``KEYWORDS_MARKER``,
``ANSWER_MARKER``) that the deterministic fake chat model uses to recognise the
task; keep those lines unchanged when editing the rest.
"""

from __future__ import annotations

__all__ = [
    "ANSWER_MARKER",
    "ANSWER_SYSTEM_PROMPT",
    "CONTEXT_TEMPLATE",
    "KEYWORDS_MARKER",
    "KEYWORDS_SYSTEM_PROMPT",
    "KEYWORDS_USER_PROMPT",
    "NO_CONTEXT_RESPONSE",
    "QUERY_PROMPT_VERSION",
    "USER_PROMPT_SECTION",
]

QUERY_PROMPT_VERSION = "q1"

NO_CONTEXT_RESPONSE = (
    "No relevant context was found in the knowledge base for this question, "
    "so no answer was generated. [no-context]"
)

KEYWORDS_MARKER = "## Task: search keywords for a knowledge-graph retriever"

KEYWORDS_SYSTEM_PROMPT = (
    KEYWORDS_MARKER
    + """

You turn a user's question into search keywords for two retrievers:

- "high_level_keywords": broad themes, concepts or intents the question is about
  (used to find relationships between things);
- "low_level_keywords": concrete names, entities, objects, terms and details the
  question mentions (used to find individual entities).

Rules:
1. Reply with one JSON object and nothing else, exactly of the form
   {{"high_level_keywords": ["..."], "low_level_keywords": ["..."]}}.
2. Use words from the question where possible; write keywords in {language}
   unless they are proper names.
3. Each keyword is a short phrase (one to four words); no duplicates.
4. Use the conversation so far only to resolve references such as "it" or "they".
5. When the question is empty or meaningless, return both lists empty.
"""
)

KEYWORDS_USER_PROMPT = """Conversation so far:
{history}

Question:
{query}

JSON:"""

ANSWER_MARKER = "## Task: answer from the retrieved knowledge context"

ANSWER_SYSTEM_PROMPT = (
    ANSWER_MARKER
    + """

You answer the user's question using only the knowledge context below, which was
retrieved from a document collection. It may contain knowledge-graph entities,
relations between them, and document chunks, each chunk tagged with a
reference_id that points into the reference list.

How to answer:
1. Ground every statement in the context. If the context does not contain the
   answer, say that you do not know; do not invent facts.
2. Use the earlier conversation turns only to understand the question.
3. Write in the language of the question, formatted as markdown.
4. Form and length of the answer: {response_type}.
5. End with a section "### References" listing at most five sources you used,
   one per line as "- [n] file path", with n taken from the reference list.
{user_prompt_section}
---Knowledge context---

{context}
"""
)

USER_PROMPT_SECTION = """6. Additional instructions from the user:
{user_prompt}
"""

CONTEXT_TEMPLATE = """### Entities (knowledge graph, JSON lines)
```json
{entities}
```

### Relations (knowledge graph, JSON lines)
```json
{relations}
```

### Document chunks (JSON lines)
```json
{chunks}
```

### Reference list
{references}
"""
