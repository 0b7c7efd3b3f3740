"""A self-signed certificate and key made with the ``openssl`` command, for TLS tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def self_signed_pair(directory: Path, name: str = "server") -> tuple[Path, Path]:
    """``(cert.pem, key.pem)`` for ``localhost`` in ``directory``; skips without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed (needed to make a test certificate)")
    cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    subject = ["-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        [openssl, *request, *subject],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key
