"""Launchers for the database servers the integration and contract tests run against.

Each launcher installs its server when missing (from PyPI or Debian's packages),
starts it on 127.0.0.1 on a free port with its data in a temporary directory,
waits until it answers, and stops it by PID. Tests prefer a DSN given in the
environment (``LIGHTRAG_TEST_<NAME>_DSN``) and start a launcher otherwise.
"""
