"""Compose, resolve and validate the configuration, once, at start-up.

Precedence, lowest first: YAML (``conf/config.yaml``, group files, the recipe) <
``config.ini`` < ``.env`` < process environment < CLI (seed flags, then Hydra
overrides). Env-like values reach the config two ways: group files read them with
``${oc.env:NAME,default}`` (resolved here against the merged layers, not
``os.environ`` alone), and the seed's names in ``env_map`` set keys or group
choices directly. A Hydra override on the command line beats both.
"""

from __future__ import annotations

import difflib
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException
from omegaconf.resolvers import oc
from pydantic import ValidationError

from lightrag.config.backends import check_backend_classes, check_backend_names, check_replicas
from lightrag.config.env_map import (
    GROUP_VARS,
    VALUE_VARS,
    ValueVar,
    convert_value,
    split_llm_binding,
)
from lightrag.config.errors import ConfigError, describe_validation_error
from lightrag.config.knobs import apply_shared_knobs, knob_for
from lightrag.config.listing import group_registry
from lightrag.config.models import AppConfig
from lightrag.config.recipes import (
    recipe_choices,
    recipe_conflicts,
    recipe_overridden,
    recipe_values,
)
from lightrag.config.search_path import CHOICE_GROUPS, RECIPE_GROUP, ConfigTree
from lightrag.config.server_checks import check_server_config
from lightrag.config.sources import (
    EnvLayers,
    EnvValue,
    ini_location,
    read_config_ini,
    read_dotenv,
)
from lightrag.registry import UnknownNameError

__all__ = [
    "CONFIG_PATH_VAR",
    "ConfigRequest",
    "LoadedConfig",
    "SeedFlag",
    "build_layers",
    "config_tree",
    "load_config",
    "process_environment",
]

CONFIG_PATH_VAR = "LIGHTRAG_CONFIG_PATH"
_NO_DEFAULT = object()
# OmegaConf resolvers are process-wide: swapping "oc.env" is serialised.
_RESOLVER_LOCK = threading.Lock()


class _MissingEnvVar(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True, slots=True)
class SeedFlag:
    """A seed flag given on the command line, as the env-like name it stands for."""

    env_name: str
    value: str
    flag: str


@dataclass(frozen=True)
class ConfigRequest:
    """Everything the configuration is made from; nothing else is read.

    ``environ`` is the process environment (the launcher passes ``os.environ``);
    ``.env`` and ``config.ini`` are read from ``cwd`` unless paths are given.
    """

    overrides: Sequence[str] = ()
    flags: Sequence[SeedFlag] = ()
    environ: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = Path(".")
    env_file: Path | None = None
    ini_file: Path | None = None
    config_dirs: Sequence[Path] = ()
    primary_dir: Path | None = None
    check_classes: bool = True
    # the launcher about to serve: refuse bad server settings (auth, TLS) before any
    # backend or binding class is imported (``server_checks``)
    check_server: bool = False


@dataclass(frozen=True)
class LoadedConfig:
    """The validated config, the group options chosen, and notes for the operator."""

    config: AppConfig
    choices: Mapping[str, str]
    notes: tuple[str, ...] = ()


def process_environment() -> dict[str, str]:
    """A copy of this process's environment: the only place the config layer reads it."""
    return dict(os.environ)


def build_layers(request: ConfigRequest) -> EnvLayers:
    """The env-like layers of ``request``: config.ini < .env < environment < seed flags.

    The files in ``cwd`` are optional; a file named explicitly must exist (``ConfigError``).
    """
    for given, what in ((request.env_file, "env file"), (request.ini_file, "config.ini file")):
        if given is not None and not given.is_file():
            raise ConfigError(f"the {what} {given} does not exist or is not a file")
    ini_path = request.ini_file or request.cwd / "config.ini"
    env_path = request.env_file or request.cwd / ".env"
    layers = EnvLayers()
    layers.add_layer(read_config_ini(ini_path), f"config.ini ({ini_path})")
    layers.add_layer(read_dotenv(env_path), f".env ({env_path})")
    layers.add_layer(dict(request.environ), "env")
    for flag in request.flags:
        layers.add_layer({flag.env_name: flag.value}, f"flag {flag.flag}")
    return layers


def config_tree(request: ConfigRequest, layers: EnvLayers) -> ConfigTree:
    """The search path: flags' ``--config-dir`` first, then ``LIGHTRAG_CONFIG_PATH``."""
    extra = list(request.config_dirs)
    from_env = layers.get(CONFIG_PATH_VAR)
    if from_env is not None:
        extra += [Path(part) for part in from_env.value.split(os.pathsep) if part]
    return ConfigTree.build(extra, primary=request.primary_dir)


def _normalise_overrides(overrides: Sequence[str]) -> list[str]:
    """``recipe=NAME`` is accepted for ``+recipe=NAME`` (the group has no default)."""
    return [f"+{item}" if item.startswith(f"{RECIPE_GROUP}=") else item for item in overrides]


def _parse_overrides(overrides: Sequence[str]) -> tuple[dict[str, str], set[str], str | None]:
    """(group -> option chosen, value keys set, recipe name) by the command line's overrides."""
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as exc:
        raise ConfigError(f"bad override: {exc}") from exc
    groups: dict[str, str] = {}
    keys: set[str] = set()
    recipe = None
    for override in parsed:
        name = override.key_or_group
        if name == RECIPE_GROUP:
            recipe = str(override.value())
        elif name in CHOICE_GROUPS:
            groups[name] = str(override.value())
        elif not name.startswith("hydra"):
            keys.add(name)
    return groups, keys, recipe


def _check_option(tree: ConfigTree, group: str, option: str, where: str) -> None:
    """Raise ``ConfigError`` unless ``group/option.yaml`` is in the search path."""
    available = tree.option_names(group)
    if option in available:
        return
    choices = ", ".join(available) or "none"
    registered = option in group_registry(group).names()
    reason = (
        f"is registered but has no config file {group}/{option}.yaml in the search path"
        if registered
        else "is not an option"
    )
    raise ConfigError(f"{group}: {option!r} (from {where}) {reason}; choose one of: {choices}")


def _group_overrides(layers: EnvLayers, tree: ConfigTree, skip: Iterable[str]) -> list[str]:
    """Hydra overrides for the group choices made by env-like settings (seed names)."""
    chosen: dict[str, tuple[str, str]] = {}  # group -> (option, where)
    for var in GROUP_VARS:
        found = layers.get(var.name)
        if found is None or not found.value.strip() or var.group in skip:
            continue
        where = f"{found.source} {var.name}"
        value = found.value
        if var.group == "llm":
            value, implied_embedding = split_llm_binding(value)
            if implied_embedding and "embedding" not in skip:
                chosen.setdefault("embedding", (implied_embedding, where))
        try:
            option = var.registry.canonical(value)
        except UnknownNameError as exc:
            raise ConfigError(f"{var.group}: {exc} (from {where})") from exc
        chosen[var.group] = (option, where)
    overrides = []
    for group, (option, where) in chosen.items():
        _check_option(tree, group, option, where)
        overrides.append(f"{group}={option}")
    return overrides


_NOT_OVERRIDABLE = re.compile(r"Could not override '([^']+)'")


def _dotted_keys(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            dotted = f"{prefix}{key}"
            yield dotted
            yield from _dotted_keys(value, dotted + ".")


def _unknown_key_error(tree: ConfigTree, overrides: list[str], key: str) -> ConfigError:
    """``unknown key KEY; did you mean ...?`` for an override of a key no file defines."""
    knob = knob_for(key)
    if knob is not None:
        return ConfigError(knob.message())
    rest = [item for item in overrides if item.partition("=")[0].lstrip("+~") != key]
    try:
        cfg = _compose_raw(tree, rest)
        parent, _, _ = key.rpartition(".")
        siblings = {
            k.rpartition(".")[2]: k
            for k in _dotted_keys(OmegaConf.to_container(cfg))
            if k.rpartition(".")[0] == parent and not k.startswith("hydra")
        }
    except ConfigError:
        siblings = {}
    leaf = key.rpartition(".")[2]
    close = [siblings[m] for m in difflib.get_close_matches(leaf, siblings, n=1, cutoff=0.6)]
    hint = f"; did you mean {close[0]}?" if close else ""
    return ConfigError(f"unknown key {key}{hint}")


def _compose_raw(tree: ConfigTree, overrides: list[str]) -> DictConfig:
    searchpath = tree.hydra_searchpath_override()
    all_overrides = [*overrides, searchpath] if searchpath else overrides
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(tree.primary)):
            cfg = compose("config", overrides=all_overrides, return_hydra_config=True)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"cannot compose the configuration: {exc}") from exc
    return cfg


def _compose(tree: ConfigTree, overrides: list[str]) -> tuple[DictConfig, dict[str, str]]:
    try:
        cfg = _compose_raw(tree, overrides)
    except ConfigError as exc:
        unknown = _NOT_OVERRIDABLE.search(str(exc))
        if unknown is not None:
            raise _unknown_key_error(tree, overrides, unknown.group(1)) from exc
        raise
    raw_choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
    assert isinstance(raw_choices, dict)
    choices = {
        str(group): str(option)
        for group, option in raw_choices.items()
        if group in CHOICE_GROUPS or group == RECIPE_GROUP
    }
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg, choices


@contextmanager
def _env_resolver(layers: EnvLayers) -> Iterator[None]:
    """``${oc.env:NAME,default}`` reads the merged layers while the block runs."""

    def env(key: str, default: Any = _NO_DEFAULT) -> str | None:
        found = layers.get(key)
        if found is not None:
            return found.value
        if default is _NO_DEFAULT:
            raise _MissingEnvVar(key)
        return None if default is None else str(default)

    with _RESOLVER_LOCK:
        OmegaConf.register_new_resolver("oc.env", env, replace=True)
        try:
            yield
        finally:
            OmegaConf.register_new_resolver("oc.env", oc.env, replace=True)


def _missing_var(exc: BaseException) -> _MissingEnvVar | None:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, _MissingEnvVar):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _resolve(cfg: DictConfig, layers: EnvLayers) -> dict[str, Any]:
    try:
        with _env_resolver(layers):
            container = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        missing = _missing_var(exc)
        key = getattr(exc, "full_key", "") or "?"
        if missing is not None:
            ini = ini_location(missing.name)
            in_ini = f", or as {ini} in config.ini" if ini else ""
            raise ConfigError(
                f"{key}: the environment variable {missing.name} is required but not set "
                f"(set it in the environment or in .env in the working directory{in_ini})"
            ) from exc
        raise ConfigError(f"{key}: cannot resolve: {exc}") from exc
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items()}


def _set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    node = target
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _apply_value_vars(
    container: dict[str, Any], layers: EnvLayers, cli_keys: set[str]
) -> dict[str, tuple[ValueVar, EnvValue]]:
    """Set keys from the seed's env names; returns key -> the name and value that set it.

    When several names set one key (``NAMESPACE_PREFIX`` and ``WORKSPACE``), the value
    from the higher layer wins (a flag beats ``.env``); within one layer, the name
    listed later in ``VALUE_VARS`` (the newer one).
    """
    winners: dict[str, tuple[ValueVar, EnvValue]] = {}
    for var in VALUE_VARS:
        found = layers.get(var.name)
        if found is None:
            continue
        if any(var.key == key or var.key.startswith(key + ".") for key in cli_keys):
            continue  # a Hydra override on the command line wins
        current = winners.get(var.key)
        if current is None or found.layer >= current[1].layer:
            winners[var.key] = (var, found)
    for key, (var, found) in winners.items():
        _set_dotted(container, key, convert_value(var, found.value, found.source))
    return winners


def load_config(request: ConfigRequest) -> LoadedConfig:
    """Compose, resolve and validate the configuration ``request`` describes.

    Raises ``ConfigError`` with a message naming the bad key, value, variable,
    backend name or missing pip extra; ``StartupRefusal`` for server settings that
    must not start, when ``request.check_server``.
    """
    layers = build_layers(request)
    tree = config_tree(request, layers)
    overrides = _normalise_overrides(request.overrides)
    cli_groups, cli_keys, recipe = _parse_overrides(overrides)
    if recipe is not None and recipe not in tree.option_names(RECIPE_GROUP):
        known = ", ".join(tree.option_names(RECIPE_GROUP)) or "none"
        raise ConfigError(f"unknown recipe {recipe!r}; choose one of: {known}")
    for group, option in cli_groups.items():
        _check_option(tree, group, option, "the command line")
    group_overrides = _group_overrides(layers, tree, skip=cli_groups)
    chosen_by_recipe = recipe_choices(tree, recipe) if recipe is not None else {}
    notes = recipe_conflicts(group_overrides, chosen_by_recipe, layers)
    cfg, choices = _compose(tree, [*group_overrides, *overrides])
    container = _resolve(cfg, layers)
    applied = _apply_value_vars(container, layers, cli_keys)
    sources = {key: f"{found.source} {var.name}" for key, (var, found) in applied.items()}
    if recipe is not None:
        notes += recipe_overridden(applied, recipe, recipe_values(tree, recipe))
    try:
        config = AppConfig.model_validate(container)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, sources=sources, model=AppConfig)) from exc
    if request.check_server:
        check_server_config(config.server)  # before apply_shared_knobs imports the bindings
    check_backend_names(config)
    config = apply_shared_knobs(config)
    if request.check_classes:
        check_backend_classes(config)
    check_replicas(config)
    unused = sorted(flag.flag for flag in request.flags if flag.env_name not in layers.read)
    notes += [f"{flag} has no effect with this configuration" for flag in unused]
    return LoadedConfig(config=config, choices=choices, notes=tuple(notes))
