"""The vector contract suite run against the Faiss storage (in process, always available)."""

from __future__ import annotations

import pytest

from .support import Backend
from .vector import VectorStorageContract

pytestmark = pytest.mark.faiss

faiss_storage = pytest.importorskip(
    "lightrag.storage.vdb_faiss", reason="extra `faiss` not installed"
)


class TestFaissVectorStorage(VectorStorageContract):
    in_process = True  # no server: the database-only tests do not apply

    @pytest.fixture
    def backend(self) -> Backend:
        return Backend(faiss_storage.FaissVectorStorage, {}, persistent=True)
