"""Child process for the crash-resume test: ingests DOCS slowly and reports status counts.

Run as ``python resume_child.py WORKDIR``; prints one JSON line of status counts
every 20 ms, so the parent can SIGKILL it part-way through.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

DOCS = [
    f"Report {i}. Agent{i} Smith met Agent{i} Jones in Paris. "
    f"Paris hosts the Acme Corporation. Agent{i} Smith joined the Acme Corporation."
    for i in range(8)
]


async def main(workdir: Path) -> None:
    from lightrag.compose import open_storages
    from lightrag.config.models import RagConfig, StorageConfig
    from lightrag.core.engine import LightRAG
    from lightrag.testing.fakes import FakeChatModel, HashingEmbeddingModel

    config = RagConfig(max_async=1)
    embedding = HashingEmbeddingModel({"dim": 64})
    storages = open_storages(
        StorageConfig(), working_dir=workdir, workspace="", embedding_dim=64, cosine_threshold=0.2
    )
    rag = LightRAG(
        config=config,
        storages=storages,
        llm=FakeChatModel({"latency_ms": 150}),
        embedding=embedding,
    )
    await rag.initialize()
    await rag.enqueue(DOCS)

    async def report() -> None:
        while True:
            print(json.dumps(await storages.doc_status.status_counts()), flush=True)
            await asyncio.sleep(0.02)

    reporter = asyncio.create_task(report())
    await rag.process_queue()
    reporter.cancel()
    print("DONE", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
