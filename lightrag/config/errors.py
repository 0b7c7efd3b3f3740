"""The one error type of the config layer, and the rephrasing of pydantic errors."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ValidationError

__all__ = ["ConfigError", "describe_validation_error"]


class ConfigError(ValueError):
    """The configuration cannot be used. The message says which key or variable, and why."""


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _did_you_mean(model: type[BaseModel] | None, loc: Sequence[object]) -> str:
    """``"; did you mean server.port?"`` for an unknown key at ``loc`` of ``model``."""
    node = model
    for part in loc[:-1]:
        field = node.model_fields.get(str(part)) if node is not None else None
        annotation = field.annotation if field is not None else None
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        node = annotation if is_model else None  # type: ignore[assignment]
    if node is None:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(node.model_fields), n=1, cutoff=0.6)
    parent = ".".join(str(part) for part in loc[:-1])
    return f"; did you mean {parent + '.' if parent else ''}{close[0]}?" if close else ""


def describe_validation_error(
    exc: ValidationError,
    *,
    prefix: str = "",
    sources: Mapping[str, str] | None = None,
    model: type[BaseModel] | None = None,
) -> str:
    """One line per problem: ``key: value: what is wrong (from <source>)``.

    ``prefix`` is prepended to every key (``"llm."`` for a binding's own model);
    ``sources`` maps dotted keys to where their value came from; ``model`` (the validated
    class) lets an unknown key name the closest known one.
    """
    lines = []
    for error in exc.errors():
        key = prefix + ".".join(str(part) for part in error["loc"])
        where = (sources or {}).get(key)
        origin = f" (from {where})" if where else ""
        if error["type"] == "extra_forbidden":
            hint = _did_you_mean(model, error["loc"])
            lines.append(f"{key}: unknown key{origin}{hint}")
        elif error["type"] == "missing":
            lines.append(f"{key}: required but not set")
        else:
            lines.append(f"{key}: {_short(error['input'])}: {error['msg']}{origin}")
    return "\n".join(lines)
