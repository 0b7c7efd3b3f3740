"""Where the Hydra config tree lives: the packaged ``conf/`` plus operators' directories.

The package carries ``lightrag/conf`` (in a checkout, a symlink to the repository's
``conf/``). The Hydra group ``recipe`` is ``conf/recipe``, a symlink to the
repository's ``recipes/`` folder: that solves the folder/group name mismatch
without a plugin, and the wheel carries the recipes as regular files under
``lightrag/conf/recipe/``.

Extra directories (``--config-dir`` or ``LIGHTRAG_CONFIG_PATH``, ``os.pathsep``
separated) have the same layout as ``conf/``: ``recipe/NAME.yaml``,
``storage/kv/NAME.yaml``, ``llm/NAME.yaml`` ... They add options; an option
that exists in the packaged tree is taken from the package (Hydra's order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lightrag.config.errors import ConfigError

__all__ = [
    "CHOICE_GROUPS",
    "RECIPE_GROUP",
    "ConfigTree",
    "OptionFile",
    "add_config_dir",
    "packaged_conf_dir",
]

RECIPE_GROUP = "recipe"
# The groups of the primary defaults list, in the order they are shown.
CHOICE_GROUPS: tuple[str, ...] = (
    "storage/kv",
    "storage/vector",
    "storage/graph",
    "storage/doc_status",
    "llm",
    "embedding",
    "coordination",
)
# Directories added by code in this process (``lightrag.testing.register_fakes``), searched
# after the operator's. Empty in the product.
_ADDED_DIRS: list[Path] = []


def add_config_dir(directory: Path) -> None:
    """Search ``directory`` (layout of ``conf/``) after the operator's directories, in
    every tree built from now on in this process (idempotent)."""
    resolved = directory.resolve()
    if not resolved.is_dir():
        raise ConfigError(f"config search directory {directory} does not exist")
    if resolved not in _ADDED_DIRS:
        _ADDED_DIRS.append(resolved)


def packaged_conf_dir() -> Path:
    """The ``conf`` directory shipped inside the ``lightrag`` package.

    Raises ``ConfigError`` when the installation lacks it (a broken wheel).
    """
    path = Path(str(resources.files("lightrag"))) / "conf"
    if not (path / "config.yaml").is_file():
        raise ConfigError(f"the packaged config tree is missing: {path}/config.yaml not found")
    return path


@dataclass(frozen=True, slots=True)
class OptionFile:
    """One option of a config group: its name, its file and the file's header comment."""

    name: str
    path: Path

    def summary(self) -> str:
        """The first line of the file's header comment (without ``#`` and ``@package``)."""
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                text = line.strip()
                if not text.startswith("#"):
                    break
                text = text.lstrip("#").strip()
                if text and not text.startswith("@package"):
                    # "Recipe "name": what it is" -> "what it is"
                    label, sep, rest = text.partition(": ")
                    return rest if sep and self.name in label else text
        return ""


@dataclass(frozen=True, slots=True)
class ConfigTree:
    """The primary config directory followed by extra search directories."""

    primary: Path
    extra: tuple[Path, ...] = ()

    @classmethod
    def build(cls, extra: Sequence[Path] = (), primary: Path | None = None) -> ConfigTree:
        """A tree over ``primary`` (default: the packaged one) and ``extra`` directories.

        Raises ``ConfigError`` naming an extra directory that does not exist.
        """
        for directory in extra:
            if not directory.is_dir():
                raise ConfigError(f"config search directory {directory} does not exist")
        resolved = tuple(directory.resolve() for directory in extra)
        resolved += tuple(directory for directory in _ADDED_DIRS if directory not in resolved)
        return cls(primary=(primary or packaged_conf_dir()).resolve(), extra=resolved)

    @property
    def roots(self) -> tuple[Path, ...]:
        return (self.primary, *self.extra)

    def hydra_searchpath_override(self) -> str | None:
        """The ``hydra.searchpath=[...]`` override adding the extra directories, if any."""
        if not self.extra:
            return None
        quoted = ",".join(f"'file://{directory.as_posix()}'" for directory in self.extra)
        return f"hydra.searchpath=[{quoted}]"

    def options(self, group: str) -> list[OptionFile]:
        """Every option of ``group`` in the search path, the first root winning per name."""
        found: dict[str, OptionFile] = {}
        for root in self.roots:
            directory = root / group
            if not directory.is_dir():
                continue
            for path in sorted(directory.glob("*.yaml")):
                found.setdefault(path.stem, OptionFile(path.stem, path))
        return [found[name] for name in sorted(found)]

    def option_names(self, group: str) -> list[str]:
        return [option.name for option in self.options(group)]
