"""The OpenAPI document against the running server, fuzzed by schemathesis.

The app (fake deterministic models, file storages) runs under uvicorn on loopback; every
operation of its ``/openapi.json`` gets generated requests, valid and invalid, and every
answer must be no 5xx, a status the document declares for that operation, with a
declared media type and a body that fits the declared schema. Examples are capped and
generation is derandomized with a fixed seed, so a run is modest and repeatable.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from lightrag.server.app import create_app

from .server_support import make_config

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (pip install -e '.[test]')"
)
from hypothesis import HealthCheck, given, settings  # noqa: E402  (comes with schemathesis)
from schemathesis import checks as st_checks  # noqa: E402

MAX_EXAMPLES = 8
"""Generated requests per operation and mode: about 700 requests in all."""

CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with its lifespan, served by uvicorn on a free loopback port."""
    root: Path = tmp_path_factory.mktemp("fuzz")
    app = create_app(make_config(root))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start the app for the fuzz test")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


@pytest.fixture(scope="module")
def api_schema(live_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{live_url}/openapi.json")


def _cases() -> list[tuple[str, str, str]]:
    """(method, path, mode) for every documented operation: positive always, negative
    where there is something to make invalid (a body or a query parameter). The app is
    only built, not started: nothing is written under the unused directory."""
    document = create_app(make_config(Path("/nonexistent/lightrag-fuzz"))).openapi()
    cases = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            cases.append((method.upper(), path, "positive"))
            queries = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            if "requestBody" in operation or queries:
                cases.append((method.upper(), path, "negative"))
    return cases


@pytest.mark.parametrize(("method", "path", "mode"), _cases())
def test_every_answer_is_declared_and_no_request_breaks_the_server(
    api_schema: Any, method: str, path: str, mode: str
) -> None:
    operation = api_schema[path][method]
    strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        case.call_and_validate(checks=CHECKS, timeout=30)

    check()
