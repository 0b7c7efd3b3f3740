"""Start-up checks of the chosen backends: known names, installed dependencies, valid params.

Each choice (four storages, LLM, embedding) is looked up in its registry: an
unknown name lists the known ones; the class is imported, so that a missing
optional dependency is reported with its pip extra now rather than at the first
request; and when the class exposes ``config_model`` (a pydantic model class) the
choice's parameters are validated against it, errors naming the full key.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from lightrag.config.errors import ConfigError, describe_validation_error
from lightrag.config.models import AppConfig, BackendChoice
from lightrag.registry import MissingDependencyError, Registry, UnknownNameError
from lightrag.registry.coordination import coordination_registry
from lightrag.registry.models import chat_registry, embedding_registry
from lightrag.registry.storage import ROLES, storage_registry

__all__ = [
    "BackendSlot",
    "backend_slots",
    "check_backend_classes",
    "check_backend_names",
    "check_replicas",
    "check_slots",
]


@dataclass(frozen=True, slots=True)
class BackendSlot:
    """One backend choice of the config: its dotted key, the choice and its registry."""

    key: str
    choice: BackendChoice
    registry: Registry


def backend_slots(config: AppConfig) -> list[BackendSlot]:
    """The seven backend choices of ``config``, storages first."""
    slots = [
        BackendSlot(f"storage.{role}", getattr(config.storage, role), storage_registry(role))
        for role in ROLES
    ]
    slots.append(BackendSlot("llm", config.llm, chat_registry))
    slots.append(BackendSlot("embedding", config.embedding, embedding_registry))
    slots.append(BackendSlot("coordination", config.coordination, coordination_registry))
    return slots


def check_backend_names(config: AppConfig) -> None:
    """Raise ``ConfigError`` for the first ``type`` that no registry knows (listing choices)."""
    for slot in backend_slots(config):
        try:
            slot.registry.canonical(slot.choice.type)
        except UnknownNameError as exc:
            raise ConfigError(f"{slot.key}.type: {exc}") from exc


def _config_model(cls: type) -> type[BaseModel] | None:
    model = getattr(cls, "config_model", None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return None


def check_backend_classes(config: AppConfig) -> None:
    """Import every chosen class and validate its parameters against its ``config_model``.

    Raises ``ConfigError`` naming the key and, for a missing package, the pip extra.
    """
    check_slots(backend_slots(config))


def check_slots(slots: list[BackendSlot]) -> None:
    """``check_backend_classes`` for the given slots (all problems in one error)."""
    problems: list[str] = []
    for slot in slots:
        try:
            cls = slot.registry.load(slot.choice.type)
        except MissingDependencyError as exc:
            problems.append(f"{slot.key}: {exc}")
            continue
        except (ImportError, AttributeError) as exc:
            entry = slot.registry.entry(slot.choice.type)
            problems.append(
                f"{slot.key}: {slot.registry.kind} {entry.name!r} cannot be loaded from "
                f"{entry.target}: {exc}"
            )
            continue
        model = _config_model(cls)
        if model is None:
            continue
        try:
            model.model_validate(slot.choice.params())
        except ValidationError as exc:
            problems.append(describe_validation_error(exc, prefix=f"{slot.key}."))
    if problems:
        raise ConfigError("\n".join(problems))


def check_replicas(config: AppConfig) -> None:
    """Refuse ``server.replicas > 1`` unless every storage is a shared database and the
    coordination is shared too (``postgres`` or ``redis``): file storages keep their data
    in one process, and ``local`` coordination would let replicas index one document twice
    and race on entity merges. Raises ``ConfigError`` listing every problem."""
    replicas = config.server.replicas
    if replicas <= 1:
        return
    problems: list[str] = []
    if coordination_registry.canonical(config.coordination.type) == "local":
        problems.append(
            "coordination: 'local' coordinates one process only; choose coordination=postgres "
            "or coordination=redis (LIGHTRAG_COORDINATION), on the databases the storages use"
        )
    for role in ROLES:
        choice: BackendChoice = getattr(config.storage, role)
        registry = storage_registry(role)
        try:
            cls = registry.load(choice.type)
        except (MissingDependencyError, ImportError, AttributeError):
            continue  # reported by check_backend_classes
        if not getattr(cls, "shared", False):
            problems.append(
                f"storage.{role}: {registry.canonical(choice.type)!r} keeps its data in one "
                "process; choose a database backend (e.g. the postgres recipe)"
            )
    if problems:
        raise ConfigError(
            f"server.replicas is {replicas} (LIGHTRAG_REPLICAS), but several replicas need "
            "shared storages and shared coordination:\n  " + "\n  ".join(problems)
        )
