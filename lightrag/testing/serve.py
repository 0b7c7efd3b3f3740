"""``python -m lightrag.testing.serve [launcher arguments]``: the launcher with the fakes.

Same command line as ``lightrag-server``; ``llm=fake`` and ``embedding=fake`` are
selectable. For the server-process tests and the HTTP benchmarks, not for users.
"""

from __future__ import annotations

import sys

from lightrag.cli import main
from lightrag.testing import register_fakes

if __name__ == "__main__":
    register_fakes()
    sys.exit(main())
