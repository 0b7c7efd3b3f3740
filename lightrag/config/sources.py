"""Where settings come from below the command line: ``config.ini``, ``.env``, the process env.

The three are flattened into one env-like mapping, later layers winning:
``config.ini`` < ``.env`` < process environment < seed CLI flags. Every value
remembers its source so that error messages can say where a bad value came from.

``config.ini`` holds storage connection parameters in sections such as
``[postgres]``; each ``key`` of section ``[name]`` becomes the env-like name
``NAME_KEY`` (``[postgres] host`` -> ``POSTGRES_HOST``), so a backend's YAML that
reads ``${oc.env:POSTGRES_HOST,localhost}`` picks it up with no extra code. The
seed's few irregular names are mapped explicitly (``[mongodb] uri`` -> ``MONGO_URI``,
``[qdrant] uri`` -> ``QDRANT_URL``, ``[qdrant] apikey`` -> ``QDRANT_API_KEY``).
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from lightrag.config.errors import ConfigError

__all__ = [
    "EnvLayers",
    "EnvValue",
    "ini_location",
    "ini_name",
    "read_config_ini",
    "read_dotenv",
]

# (section, key) -> env-like name, where the seed's names do not follow SECTION_KEY.
_INI_SPECIAL_NAMES: dict[tuple[str, str], str] = {
    ("mongodb", "uri"): "MONGO_URI",
    ("mongodb", "database"): "MONGO_DATABASE",
    ("qdrant", "uri"): "QDRANT_URL",
    ("qdrant", "apikey"): "QDRANT_API_KEY",
}
# Section names whose env prefix differs from the section name.
_INI_SECTION_PREFIX: dict[str, str] = {"mongodb": "MONGO"}


def ini_name(section: str, key: str) -> str:
    """The env-like name a ``config.ini`` ``[section] key`` stands for."""
    section, key = section.strip().lower(), key.strip().lower()
    special = _INI_SPECIAL_NAMES.get((section, key))
    if special is not None:
        return special
    prefix = _INI_SECTION_PREFIX.get(section, section.upper())
    return f"{prefix}_{key.upper()}".replace("-", "_").replace(".", "_")


def ini_location(name: str) -> str | None:
    """The ``config.ini`` ``[section] key`` that supplies env-like ``name`` (None if none can)."""
    for (section, key), special in _INI_SPECIAL_NAMES.items():
        if special == name:
            return f"[{section}] {key}"
    prefix, sep, rest = name.partition("_")
    if not sep or not prefix or not rest:
        return None
    section = next((s for s, p in _INI_SECTION_PREFIX.items() if p == prefix), prefix.lower())
    return f"[{section}] {rest.lower()}"


def read_config_ini(path: Path) -> dict[str, str]:
    """The env-like names and values of ``config.ini`` at ``path`` ({} when it does not exist).

    Raises ``ConfigError`` naming the file when it cannot be parsed.
    """
    if not path.is_file():
        return {}
    # Interpolation off: passwords may contain "%".
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    values: dict[str, str] = {}
    for section in parser.sections():
        for key, value in parser.items(section):
            values[ini_name(section, key)] = value
    return values


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables of the dotenv file at ``path`` ({} when it does not exist).

    Variables written without a value (``NAME`` alone) are left out.
    """
    if not path.is_file():
        return {}
    return {
        name: value
        for name, value in dotenv_values(path, interpolate=True, encoding="utf-8").items()
        if value is not None
    }


@dataclass(frozen=True, slots=True)
class EnvValue:
    """One env-like value, where it came from (``"env"``, ``".env (/x/.env)"``, ...) and the
    precedence of that layer (higher wins; the first layer added is 0)."""

    value: str
    source: str
    layer: int = 0


@dataclass
class EnvLayers:
    """Env-like settings merged from lowest to highest precedence.

    ``read`` records every name looked up through ``get`` so that the launcher can
    tell which given settings had no effect.
    """

    _values: dict[str, EnvValue] = field(default_factory=dict)
    read: set[str] = field(default_factory=set)
    _layers: int = 0

    def add_layer(self, values: Mapping[str, str], source: str) -> None:
        """Add ``values`` on top of what is there (they win)."""
        for name, value in values.items():
            self._values[name] = EnvValue(value, source, self._layers)
        self._layers += 1

    def get(self, name: str) -> EnvValue | None:
        """The value of ``name`` (recorded as read), or None when no layer sets it."""
        self.read.add(name)
        return self._values.get(name)

    def peek(self, name: str) -> EnvValue | None:
        """The value of ``name`` without recording the read."""
        return self._values.get(name)
