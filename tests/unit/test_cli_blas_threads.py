"""The server's numpy BLAS pool: one thread unless the operator chose otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lightrag import cli


def test_blas_pool_defaults_to_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "4")
    cli._limit_blas_threads()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["MKL_NUM_THREADS"] == "4"  # the operator's choice is kept


def test_entry_point_does_not_import_numpy_before_the_limit() -> None:
    # the pools read the variables once, when numpy loads: it must not be loaded earlier
    code = "import sys, lightrag.cli; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
