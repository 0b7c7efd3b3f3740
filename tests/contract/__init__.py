"""Storage contract suite: the behaviour every backend of a role must show.

How a backend plugs in: add ``tests/contract/test_<backend>.py`` with a subclass of
``KVStorageContract`` / ``VectorStorageContract`` / ``GraphStorageContract`` /
``DocStatusStorageContract`` that defines a ``backend`` fixture returning
``Backend(cls=..., params=..., persistent=..., restart=...)``; when its server is not
reachable the fixture calls ``require_env(...)`` / ``require_tcp(...)`` (from
``.support``) so the run skips and prints why. Each test runs in a fresh workspace
that is dropped at teardown, so a shared database is left clean.

Database-only tests (they skip, saying why, for the file backends): two instances on
one namespace and workspace seeing each other's writes run when the class sets
``shared = True``; reconnect after a server restart runs when ``Backend.restart`` is
given (``launcher_restart(launcher, server)`` builds it from a test-server launcher).
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
