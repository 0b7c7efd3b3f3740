"""Validation of a backend's own parameters into its pydantic ``...Config`` model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

__all__ = ["parse_params"]

ConfigT = TypeVar("ConfigT", bound=BaseModel)


def parse_params(model: type[ConfigT], params: Mapping[str, Any], backend: str) -> ConfigT:
    """Validate ``params`` into ``model``; raise ``ValueError`` naming each bad key.

    ``model`` should forbid extra keys, so that a misspelt parameter is an error
    instead of being ignored.
    """
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "<params>"
            if error["type"] == "extra_forbidden":
                known = ", ".join(sorted(model.model_fields)) or "none"
                problems.append(f"unknown parameter {key!r} (known: {known})")
            else:
                problems.append(f"parameter {key!r}: {error['msg']}")
        raise ValueError(f"invalid {backend} parameters: " + "; ".join(problems)) from None
