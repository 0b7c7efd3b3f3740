"""What a recipe sets, and notes for the settings that replace its choices and values.

A recipe is a file of the ``recipe`` group: a defaults list choosing group options
(``override /llm: openai``) and values (``rag.chunk_token_size: 800``). Env-like
settings (config.ini, .env, environment, seed flags) beat it; the launcher says so,
naming both values and the source, so that an operator is never surprised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from lightrag.config.env_map import GROUP_VARS, ValueVar
from lightrag.config.errors import ConfigError
from lightrag.config.models import ServerConfig
from lightrag.config.render import REDACTED
from lightrag.config.search_path import RECIPE_GROUP, ConfigTree
from lightrag.config.sources import EnvLayers, EnvValue

__all__ = ["recipe_choices", "recipe_conflicts", "recipe_overridden", "recipe_values"]


def recipe_choices(tree: ConfigTree, recipe: str) -> dict[str, str]:
    """The group options a recipe's defaults list chooses (``override /llm: openai``)."""
    option = next(item for item in tree.options(RECIPE_GROUP) if item.name == recipe)
    try:
        data = yaml.safe_load(option.path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"recipe {recipe!r} ({option.path}) is not valid YAML: {exc}") from exc
    choices = {}
    for entry in data.get("defaults", []) if isinstance(data, dict) else []:
        if isinstance(entry, dict):
            for key, value in entry.items():
                group = str(key).removeprefix("override").strip().strip("/")
                choices[group] = str(value)
    return choices


def recipe_conflicts(
    group_overrides: Sequence[str], recipe_choices: Mapping[str, str], layers: EnvLayers
) -> list[str]:
    """Notes for env-chosen options that replace a different choice of the recipe."""
    by_group = {var.group: var.name for var in GROUP_VARS}
    notes = []
    for override in group_overrides:
        group, _, option = override.partition("=")
        chosen = recipe_choices.get(group)
        if chosen is None or chosen == option:
            continue
        name = by_group.get(group, "LLM_BINDING")  # embedding implied by openai-ollama
        found = layers.peek(name)
        where = f"{name} from {found.source}" if found else name
        notes.append(f"{where} chooses {group}={option} over the recipe's {chosen!r}")
    return notes


def recipe_values(tree: ConfigTree, recipe: str) -> dict[str, Any]:
    """The dotted keys a recipe sets itself (its defaults list aside) and their values."""
    option = next(item for item in tree.options(RECIPE_GROUP) if item.name == recipe)
    data = yaml.safe_load(option.path.read_text(encoding="utf-8")) or {}
    values: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            values[prefix.rstrip(".")] = node

    if isinstance(data, dict):
        walk({k: v for k, v in data.items() if k != "defaults"}, "")
    return values


# Keys whose values are typed secrets (SecretStr, accounts): never shown in a note.
_SECRET_KEYS = frozenset(
    f"server.{name}"
    for name, info in ServerConfig.model_fields.items()
    if "SecretStr" in str(info.annotation) or "AuthAccount" in str(info.annotation)
)


def recipe_overridden(
    applied: Mapping[str, tuple[ValueVar, EnvValue]], recipe: str, recipe_values: Mapping[str, Any]
) -> list[str]:
    """Notes for env-like settings that replace a value the recipe sets, naming both."""
    notes = []
    for key, (var, found) in applied.items():
        if key not in recipe_values:
            continue
        where = "environment" if found.source == "env" else found.source
        new, old = (
            (REDACTED, REDACTED) if key in _SECRET_KEYS else (found.value, recipe_values[key])
        )
        notes.append(f"{var.name}={new} ({where}) overrides {key}={old} set by recipe {recipe}")
    return notes
