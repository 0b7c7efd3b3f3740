"""Checks of the server settings that must pass before anything heavy is imported.

The launcher runs ``check_server_config`` right after the configuration is composed
and before it imports the server stack, the backends or any model (spaCy, ONNX,
database drivers): a refusal the operator can fix (accounts without a token secret,
a TLS file that is missing, a key given twice) then arrives in a fraction of a second
instead of after the model imports. Only the standard library and the typed config
are used here.

``StartupRefusal`` is the error for every start-up the server refuses; its message is
one line saying what is wrong, where (the setting or file) and how to fix it. The
launcher prints it without a traceback and exits with ``REFUSAL_EXIT_STATUS``.
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path

from lightrag.config.models import WORKSPACE_NAME_PATTERN, ServerConfig

__all__ = [
    "REFUSAL_EXIT_STATUS",
    "StartupRefusal",
    "check_auth_config",
    "check_server_config",
    "check_tls",
]

REFUSAL_EXIT_STATUS = 3
"""Exit status of a refused start (uvicorn's own start-up failure status)."""


class StartupRefusal(ValueError):
    """The server must not start as configured; the message says what, where and the fix."""


def check_tls(server: ServerConfig) -> tuple[Path, Path] | None:
    """The certificate and key files when TLS is on; ``None`` when off.

    Raises ``StartupRefusal`` naming the setting when ``ssl`` is on without both
    files, or when a file does not exist or cannot be read.
    """
    if not server.ssl:
        return None
    if server.ssl_certfile is None or server.ssl_keyfile is None:
        raise StartupRefusal(
            "server.ssl is on but server.ssl_certfile and server.ssl_keyfile are not both set "
            "(--ssl-certfile / SSL_CERTFILE and --ssl-keyfile / SSL_KEYFILE)"
        )
    for setting, path in (
        ("ssl_certfile", server.ssl_certfile),
        ("ssl_keyfile", server.ssl_keyfile),
    ):
        if not path.is_file():
            raise StartupRefusal(
                f"server.{setting}: {str(path)!r} does not exist or is not a file: "
                "give the path of a PEM file, or turn server.ssl off"
            )
    _check_pem(server.ssl_certfile, server.ssl_keyfile)
    return server.ssl_certfile, server.ssl_keyfile


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(1 << 16)
    except OSError as exc:
        raise StartupRefusal(
            f"{str(path)!r} cannot be read ({exc.strerror}): let the user running the "
            "server read it"
        ) from None


def _check_pem(certfile: Path, keyfile: Path) -> None:
    """Refuse a certificate or key that ``ssl`` cannot load, saying which file is wrong."""
    if b"-----BEGIN CERTIFICATE-----" not in _head(certfile):
        raise StartupRefusal(
            f"server.ssl_certfile: {str(certfile)!r} is not a PEM certificate (no "
            "'-----BEGIN CERTIFICATE-----' line): give the PEM-encoded certificate"
        )
    key = _head(keyfile)
    if b"PRIVATE KEY-----" not in key:
        raise StartupRefusal(
            f"server.ssl_keyfile: {str(keyfile)!r} is not a PEM private key (no "
            "'-----BEGIN ... PRIVATE KEY-----' line): give the PEM-encoded private key"
        )
    if b"ENCRYPTED" in key:
        raise StartupRefusal(
            f"server.ssl_keyfile: {str(keyfile)!r} is encrypted: give an unencrypted key "
            "(openssl pkey -in KEY -out KEY.plain)"
        )
    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # an encrypted key would prompt on the terminal: fail instead
        context.load_cert_chain(certfile, keyfile, password=lambda: b"")
    except (ssl.SSLError, OSError) as exc:
        raise StartupRefusal(
            f"server.ssl_certfile {str(certfile)!r} and server.ssl_keyfile {str(keyfile)!r} "
            f"cannot be used together ({exc}): give the certificate and its own private key"
        ) from None


def _check_scope_names(names: list[str], where: str, default: str) -> None:
    pattern = re.compile(WORKSPACE_NAME_PATTERN)
    bad = [name for name in names if name != default and not pattern.fullmatch(name)]
    if bad:
        raise StartupRefusal(
            f"{where} names invalid workspace(s) {', '.join(map(repr, bad))}: workspace names "
            "are 1 to 48 lower-case letters, digits and '_' (or the configured workspace)"
        )


def check_auth_config(config: ServerConfig) -> None:
    """Raise ``StartupRefusal`` for an auth setup that must not start."""
    if config.accounts and (
        config.token_secret is None or not config.token_secret.get_secret_value()
    ):
        raise StartupRefusal(
            "server.accounts is set but server.token_secret is empty: set TOKEN_SECRET "
            "(or server.token_secret) to a long random string; there is no default secret"
        )
    if config.api_key is not None and not config.api_key.get_secret_value():
        raise StartupRefusal("server.api_key is set but empty: give a key or leave it unset")
    names = [account.username for account in config.accounts]
    if len(set(names)) != len(names):
        raise StartupRefusal("server.accounts lists the same username twice: remove one")
    keys = [scoped.key.get_secret_value() for scoped in config.api_keys]
    if any(not key for key in keys):
        raise StartupRefusal("server.api_keys has an empty key: give a key or remove the entry")
    admin = config.api_key.get_secret_value() if config.api_key else None
    if len(set(keys)) != len(keys) or admin in keys:
        raise StartupRefusal(
            "server.api_keys repeats a key (or repeats server.api_key): each key must be unique"
        )
    query_keys = [key.get_secret_value() for key in config.query_api_keys]
    if any(not key for key in query_keys):
        raise StartupRefusal(
            "server.query_api_keys has an empty key (LIGHTRAG_QUERY_API_KEYS): remove it"
        )
    if len(set(query_keys)) != len(query_keys) or set(query_keys) & {admin, *keys}:
        raise StartupRefusal(
            "server.query_api_keys repeats a key, or repeats server.api_key or server.api_keys "
            "(LIGHTRAG_QUERY_API_KEYS): a query key must differ from every other key"
        )
    for index, scoped in enumerate(config.api_keys):
        _check_scope_names(scoped.workspaces, f"server.api_keys[{index}]", config.workspace)
    for account in config.accounts:
        if account.workspaces is not None:
            where = f"server.accounts[{account.username!r}]"
            _check_scope_names(account.workspaces, where, config.workspace)


def check_server_config(config: ServerConfig) -> None:
    """Every check the server settings must pass before start-up (auth, TLS files).

    Raises ``StartupRefusal`` with a one-line message for the first problem.
    """
    check_auth_config(config)
    check_tls(config)
