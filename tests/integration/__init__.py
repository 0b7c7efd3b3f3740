"""Integration tests: real servers and processes started by the test tooling."""
