"""Chat and embedding bindings by name (see ``lightrag.registry``).

The test fakes are not here: ``lightrag.testing.register_fakes()`` adds them.
"""

from __future__ import annotations

from lightrag.registry import Entry, Registry

__all__ = ["chat_registry", "embedding_registry"]

chat_registry = Registry(
    "llm binding",
    [
        Entry("ollama", "lightrag.llm.ollama:OllamaChatModel", description="Ollama /api/chat"),
        Entry(
            "openai",
            "lightrag.llm.openai:OpenAIChatModel",
            aliases=("openai-compatible",),
            description="OpenAI and OpenAI-compatible chat completions",
        ),
        Entry(
            "azure_openai",
            "lightrag.llm.azure_openai:AzureOpenAIChatModel",
            aliases=("azure-openai", "azure"),
            description="Azure OpenAI deployments",
        ),
        Entry("lollms", "lightrag.llm.lollms:LollmsChatModel", description="LoLLMs generate"),
        Entry(
            "embedded",
            "lightrag.llm.embedded.chat:EmbeddedChatModel",
            extra="embedded",
            description="offline: spaCy extraction and extractive answers, no LLM",
        ),
    ],
)

embedding_registry = Registry(
    "embedding binding",
    [
        Entry(
            "ollama", "lightrag.llm.ollama:OllamaEmbeddingModel", description="Ollama /api/embed"
        ),
        Entry(
            "openai",
            "lightrag.llm.openai:OpenAIEmbeddingModel",
            aliases=("openai-compatible",),
            description="OpenAI and OpenAI-compatible embeddings",
        ),
        Entry(
            "azure_openai",
            "lightrag.llm.azure_openai:AzureOpenAIEmbeddingModel",
            aliases=("azure-openai", "azure"),
            description="Azure OpenAI embedding deployment",
        ),
        Entry("lollms", "lightrag.llm.lollms:LollmsEmbeddingModel", description="LoLLMs embedding"),
        Entry(
            "embedded",
            "lightrag.llm.embedded.embedding:EmbeddedEmbeddingModel",
            extra="embedded",
            description="offline: int8 ONNX all-MiniLM-L6-v2 shipped in a wheel",
        ),
    ],
)
