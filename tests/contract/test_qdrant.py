"""The vector contract suite run against Qdrant: local mode always, a server when configured.

Server mode runs only when ``LIGHTRAG_TEST_QDRANT_URL`` is set (and
``LIGHTRAG_TEST_QDRANT_API_KEY`` when the server needs a key): no Qdrant server can
be installed on the test machine, so these tests skip saying so otherwise.
"""

from __future__ import annotations

import os
import uuid

import pytest

from .support import Backend, require_env
from .vector import VectorStorageContract

pytestmark = pytest.mark.qdrant

vdb_qdrant = pytest.importorskip(
    "lightrag.storage.vdb_qdrant", reason="extra `qdrant` not installed"
)


class TestQdrantLocalVectorStorage(VectorStorageContract):
    in_process = True  # no server: the database-only tests do not apply

    @pytest.fixture
    def backend(self) -> Backend:
        return Backend(vdb_qdrant.QdrantVectorStorage, {}, persistent=True)


class TestQdrantServerVectorStorage(VectorStorageContract):
    @pytest.fixture
    def backend(self) -> Backend:
        url = require_env("LIGHTRAG_TEST_QDRANT_URL", "Qdrant server")
        params = {
            "url": url,
            "api_key": os.environ.get("LIGHTRAG_TEST_QDRANT_API_KEY") or None,
            # a collection prefix per run: the dimension-8 test collections stay apart
            "collection_prefix": f"lightrag_ct_{uuid.uuid4().hex[:8]}_",
        }
        return Backend(vdb_qdrant.QdrantVectorStorage, params, persistent=True)
