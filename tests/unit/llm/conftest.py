"""Fixtures for the HTTP binding tests: one protocol server per session, reset per test."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from model_protocol_server import ModelProtocolServer


@pytest.fixture(scope="session")
def protocol_server() -> Iterator[ModelProtocolServer]:
    server = ModelProtocolServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(protocol_server: ModelProtocolServer) -> ModelProtocolServer:
    """The shared server with fresh state (no plans, nothing seen)."""
    protocol_server.reset()
    return protocol_server


@pytest.fixture
def closed_port_url() -> str:
    """A 127.0.0.1 URL on which nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
