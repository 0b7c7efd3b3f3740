"""Storage contract suite: the behaviour every backend of a role must show.

How a backend plugs in: add ``tests/contract/test_<backend>.py`` with a subclass of
``KVStorageContract`` / ``VectorStorageContract`` / ``GraphStorageContract`` /
``DocStatusStorageContract`` that defines a ``backend`` fixture returning
``Backend(cls=..., params=..., persistent=...)``; when its server is not reachable
the fixture calls ``require_env(...)`` / ``require_tcp(...)`` (from ``.support``) so
the run skips and prints why. Each test runs in a fresh workspace that is dropped
at teardown, so a shared database is left clean.
See ``test_file_backends.py`` for the file defaults.
"""

import pytest

# The contract modules hold plain asserts outside test_*.py files: rewrite them too.
pytest.register_assert_rewrite(
    *(
        f"{__name__}.{name}"
        for name in ("kv", "doc_status", "vector", "graph", "graph_batch", "support")
    )
)
