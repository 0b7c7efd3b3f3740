"""Every dependency of every route is ``async``: FastAPI runs a plain ``def``
dependency in its thread pool, a thread hop per dependency per request (12% of the
interpreter's time with 20 clients querying, benchmarks/query_under_load.py)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

from lightrag.config.models import AppConfig
from lightrag.server.app import create_app


def _calls(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _dependants(routes: Any) -> Iterator[tuple[str, Any]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, route.dependant
        # an included router (FastAPI 0.165): its routes with the include's dependencies
        for context in getattr(route, "effective_route_contexts", lambda: ())():
            yield context.path, context.dependant


def test_no_route_depends_on_a_plain_def_function(config: AppConfig) -> None:
    app = create_app(config)
    routes = list(_dependants(app.routes))  # a path once per method
    assert {"/query", "/api/chat"} <= {path for path, _ in routes}
    plain = {
        f"{path}: {call.__qualname__}"
        for path, dependant in routes
        for call in _calls(dependant)
        if inspect.isfunction(call)
        and not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))
    }
    assert not plain, sorted(plain)
