"""Account passwords: plain (compared in constant time) or ``{bcrypt}<hash>`` as upstream.

``AUTH_ACCOUNTS='admin:{bcrypt}$2b$12$...'`` stores a bcrypt hash instead of the
password. bcrypt is slow on purpose, so callers run ``matches`` in a worker thread.
"""

from __future__ import annotations

import hmac

import bcrypt

__all__ = ["BCRYPT_PREFIX", "StoredPassword"]

BCRYPT_PREFIX = "{bcrypt}"
_DUMMY = b"\x00" * 32


class StoredPassword:
    """One account's password as configured."""

    def __init__(self, configured: str, *, username: str) -> None:
        if configured.startswith(BCRYPT_PREFIX):
            digest = configured[len(BCRYPT_PREFIX) :].encode()
            if not digest.startswith((b"$2a$", b"$2b$", b"$2y$")) or len(digest) != 60:
                raise ValueError(
                    f"server.accounts: the {BCRYPT_PREFIX} password of {username!r} is not a "
                    "bcrypt hash (expected 60 characters starting with $2b$)"
                )
            self._bcrypt: bytes | None = digest
            self._plain = b""
        else:
            self._bcrypt = None
            self._plain = configured.encode()

    def matches(self, password: str) -> bool:
        """Whether ``password`` is this one (blocking for bcrypt hashes)."""
        if self._bcrypt is not None:
            return bcrypt.checkpw(password.encode(), self._bcrypt)
        return hmac.compare_digest(password.encode(), self._plain)

    @staticmethod
    def dummy_check(password: str) -> bool:
        """Spend comparable time for an unknown user, so timing does not reveal names."""
        hmac.compare_digest(password.encode(), _DUMMY)
        return False
