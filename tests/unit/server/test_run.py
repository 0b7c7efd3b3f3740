"""TLS settings are checked before the server binds its port."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightrag.config.models import ServerConfig
from lightrag.config.server_checks import StartupRefusal
from lightrag.server.run import check_tls, uvicorn_config

from .server_support import make_config
from .tls_support import self_signed_pair


def test_tls_off_needs_no_files() -> None:
    assert check_tls(ServerConfig(ssl=False)) is None


def test_tls_without_certificate_names_the_missing_settings() -> None:
    with pytest.raises(ValueError, match=r"ssl_certfile and server\.ssl_keyfile"):
        check_tls(ServerConfig(ssl=True, ssl_keyfile=Path("key.pem")))


def test_tls_with_a_missing_key_file_names_that_file(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    with pytest.raises(ValueError, match=r"ssl_keyfile: .*nokey\.pem"):
        check_tls(ServerConfig(ssl=True, ssl_certfile=cert, ssl_keyfile=tmp_path / "nokey.pem"))


def test_tls_with_a_file_that_is_not_pem_names_it(tmp_path: Path) -> None:
    cert, key = self_signed_pair(tmp_path)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(StartupRefusal, match=r"ssl_certfile: .*garbage\.pem.* not a PEM cert"):
        check_tls(ServerConfig(ssl=True, ssl_certfile=garbage, ssl_keyfile=key))
    with pytest.raises(StartupRefusal, match=r"ssl_keyfile: .*garbage\.pem.* not a PEM private"):
        check_tls(ServerConfig(ssl=True, ssl_certfile=cert, ssl_keyfile=garbage))


def test_tls_with_a_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    cert, _key = self_signed_pair(tmp_path, "one")
    _cert, other_key = self_signed_pair(tmp_path, "two")
    with pytest.raises(StartupRefusal, match="cannot be used together"):
        check_tls(ServerConfig(ssl=True, ssl_certfile=cert, ssl_keyfile=other_key))


def test_tls_with_a_matching_pair_passes(tmp_path: Path) -> None:
    cert, key = self_signed_pair(tmp_path)
    assert check_tls(ServerConfig(ssl=True, ssl_certfile=cert, ssl_keyfile=key)) == (cert, key)


def test_uvicorn_config_carries_host_port_tls_and_log_level(tmp_path: Path) -> None:
    cert, key = self_signed_pair(tmp_path)
    config = make_config(
        tmp_path,
        host="127.0.0.1",
        port=9777,
        ssl=True,
        ssl_certfile=cert,
        ssl_keyfile=key,
        log_level="WARNING",
    )
    result = uvicorn_config(config)
    assert (result.host, result.port) == ("127.0.0.1", 9777)
    assert (result.ssl_certfile, result.ssl_keyfile) == (str(cert), str(key))
    assert result.log_level == "warning"
