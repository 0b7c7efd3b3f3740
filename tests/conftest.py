"""Suite-wide plugins: every server launcher module contributes its session fixture.

A module ``tests/integration/servers/<name>.py`` (other than ``base``, ``fixtures`` and
private ``_helpers``)
defines a launcher and a session-scoped ``<name>_server`` fixture; it is loaded
here so that contract, integration and end-to-end tests can all ask for it.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

_SERVERS = Path(__file__).parent / "integration" / "servers"

pytest_plugins = [
    f"integration.servers.{module.name}"
    for module in pkgutil.iter_modules([str(_SERVERS)])
    if module.name not in {"base", "fixtures"} and not module.name.startswith("_")
]


def pytest_configure(config: object) -> None:
    """Make the test fakes (``llm=fake``, ``embedding=fake``) selectable in this session."""
    from lightrag.testing import register_fakes

    register_fakes()
