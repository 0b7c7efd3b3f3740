"""The one error type of the config layer, and the rephrasing of pydantic errors."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

__all__ = ["ConfigError", "describe_validation_error"]


class ConfigError(ValueError):
    """The configuration cannot be used. The message says which key or variable, and why."""


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_validation_error(
    exc: ValidationError,
    *,
    prefix: str = "",
    sources: Mapping[str, str] | None = None,
) -> str:
    """One line per problem: ``key: value: what is wrong (from <source>)``.

    ``prefix`` is prepended to every key (``"llm."`` for a binding's own model);
    ``sources`` maps dotted keys to where their value came from.
    """
    lines = []
    for error in exc.errors():
        key = prefix + ".".join(str(part) for part in error["loc"])
        where = (sources or {}).get(key)
        origin = f" (from {where})" if where else ""
        if error["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key{origin}")
        elif error["type"] == "missing":
            lines.append(f"{key}: required but not set")
        else:
            lines.append(f"{key}: {_short(error['input'])}: {error['msg']}{origin}")
    return "\n".join(lines)
