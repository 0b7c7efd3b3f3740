"""Name -> lazily imported class, with aliases and install hints.

A registry maps a short name (``"json"``, ``"milvus"``) to a ``"module:Class"``
string that is imported only when the class is asked for. Aliases (upstream
class names such as ``"JsonKVStorage"``) resolve to the same entry. An unknown
name raises ``UnknownNameError`` listing the known names; a missing optional
dependency raises ``MissingDependencyError`` naming the pip extra to install.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["Entry", "MissingDependencyError", "Registry", "UnknownNameError"]


class UnknownNameError(ValueError):
    """A name that no entry or alias of the registry knows."""


class MissingDependencyError(ImportError):
    """An entry whose module needs a package that is not installed."""


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    target: str  # "package.module:ClassName"
    extra: str | None = None  # pip extra that provides its dependencies
    aliases: tuple[str, ...] = ()
    description: str = ""


class Registry:
    """A named set of entries of one kind (e.g. "kv storage", "llm binding")."""

    def __init__(self, kind: str, entries: list[Entry]) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: Entry) -> None:
        """Register an entry (third-party backends may call this)."""
        if entry.name in self._entries:
            raise ValueError(f"{self.kind} {entry.name!r} is registered twice")
        self._entries[entry.name] = entry
        for alias in entry.aliases:
            self._aliases[alias.lower()] = entry.name

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[name] for name in self.names()]

    def canonical(self, name: str) -> str:
        """The short name for ``name`` or one of its aliases (case-insensitive)."""
        if name in self._entries:
            return name
        lowered = name.lower()
        if lowered in self._entries:
            return lowered
        if lowered in self._aliases:
            return self._aliases[lowered]
        known = ", ".join(self.names())
        raise UnknownNameError(f"unknown {self.kind} {name!r}; choose one of: {known}")

    def entry(self, name: str) -> Entry:
        return self._entries[self.canonical(name)]

    def load(self, name: str) -> type:
        """Import and return the class registered under ``name``."""
        entry = self.entry(name)
        module_name, _, attr = entry.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            own_package = module_name.partition(".")[0]
            if exc.name and (
                exc.name == module_name
                or module_name.startswith(exc.name + ".")
                or exc.name.partition(".")[0] == own_package  # our own code is broken
            ):
                raise
            hint = (
                f"pip install 'lightrag-server[{entry.extra}]'"
                if entry.extra
                else f"install the package {exc.name!r}"
            )
            raise MissingDependencyError(
                f"{self.kind} {entry.name!r} needs the package {exc.name!r}: {hint}"
            ) from exc
        cls: type = getattr(module, attr)
        return cls
