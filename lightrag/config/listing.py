"""Text for ``--help``, ``--list-recipes`` and ``--list-backends``."""

from __future__ import annotations

from lightrag.config.env_map import GROUP_VARS
from lightrag.config.search_path import CHOICE_GROUPS, RECIPE_GROUP, ConfigTree
from lightrag.registry import Registry

__all__ = ["group_registry", "help_epilog", "list_backends", "list_recipes"]


def group_registry(group: str) -> Registry:
    """The registry whose names are the options of config group ``group``."""
    for var in GROUP_VARS:
        if var.group == group:
            return var.registry
    raise ValueError(f"config group {group!r} has no registry")


def list_recipes(tree: ConfigTree) -> str:
    """One line per recipe: name, summary, and the file when it is not packaged."""
    lines = []
    for option in tree.options(RECIPE_GROUP):
        where = "" if option.path.is_relative_to(tree.primary) else f"  ({option.path})"
        lines.append(f"{option.name:<16} {option.summary()}{where}")
    return "\n".join(lines) if lines else "no recipes found"


def list_backends(tree: ConfigTree) -> str:
    """Per group: each registered backend with its description, extra, aliases and
    whether a config file exists for it (only those can be chosen)."""
    blocks = []
    for group in CHOICE_GROUPS:
        registry = group_registry(group)
        files = set(tree.option_names(group))
        lines = [f"{group} ({registry.kind}):"]
        for entry in registry.entries():
            notes = []
            if entry.extra:
                notes.append(f"extra: {entry.extra}")
            if entry.aliases:
                notes.append(f"aliases: {', '.join(entry.aliases)}")
            if entry.name not in files:
                notes.append(f"no {group}/{entry.name}.yaml: not selectable")
            suffix = f"  [{'; '.join(notes)}]" if notes else ""
            lines.append(f"  {entry.name:<14} {entry.description}{suffix}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def help_epilog(tree: ConfigTree) -> str:
    """The groups with their options, and the recipes, for the end of ``--help``."""
    lines = ["config groups (choose with group=option, e.g. storage/vector=nano):"]
    for group in CHOICE_GROUPS:
        lines.append(f"  {group:<20} {', '.join(tree.option_names(group)) or '-'}")
    lines.append("")
    lines.append("recipes (run with +recipe=NAME; --list-recipes describes them):")
    lines.append(f"  {', '.join(tree.option_names(RECIPE_GROUP)) or '-'}")
    lines.append("")
    lines.append("--list-backends shows every backend with its pip extra and aliases;")
    lines.append("--print-config shows the resolved configuration without starting.")
    return "\n".join(lines)
