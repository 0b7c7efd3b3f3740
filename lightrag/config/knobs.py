"""Settings that the engine and a binding both obey, set in one place: the ``rag`` section.

The LLM concurrency bounds the pipeline's pool of LLM slots and the chat binding's
own request limit; the embedding batch size and concurrency bound the engine's
embedding batches and the embedding binding's requests. Each is one key of
``rag`` (with the seed's env name); after validation the launcher copies it into
the binding's parameters when the binding's ``config_model`` declares the field.
Setting the binding's copy directly is an error naming the key to set instead, so
that two values can never disagree (a binding limit of 4 silently capping a
pipeline of 8).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from lightrag.config.errors import ConfigError
from lightrag.config.models import AppConfig, BackendChoice
from lightrag.registry import Registry
from lightrag.registry.models import chat_registry, embedding_registry

__all__ = ["SHARED_KNOBS", "SharedKnob", "apply_shared_knobs", "knob_for"]


@dataclass(frozen=True, slots=True)
class SharedKnob:
    """``rag.<key>`` (env ``env_name``), copied into the ``section`` binding's ``field``."""

    key: str
    env_name: str
    section: str
    field: str
    what: str

    def message(self) -> str:
        return (
            f"{self.section}.{self.field}: {self.what} are set once, as rag.{self.key} "
            f"({self.env_name}), for the engine and the binding alike; set that instead"
        )


SHARED_KNOBS: tuple[SharedKnob, ...] = (
    SharedKnob("max_async", "MAX_ASYNC", "llm", "max_async", "concurrent LLM calls"),
    SharedKnob(
        "embedding_batch_size", "EMBEDDING_BATCH_NUM", "embedding", "batch_size", "texts per batch"
    ),
    SharedKnob(
        "embedding_max_async",
        "EMBEDDING_FUNC_MAX_ASYNC",
        "embedding",
        "max_async",
        "concurrent embedding batches",
    ),
)
_REGISTRIES: dict[str, Registry] = {"llm": chat_registry, "embedding": embedding_registry}


def knob_for(dotted: str) -> SharedKnob | None:
    """The shared knob whose binding copy is ``dotted`` (``llm.max_async``), if any."""
    return next((k for k in SHARED_KNOBS if f"{k.section}.{k.field}" == dotted), None)


def _declared_fields(registry: Registry, name: str) -> set[str]:
    """The fields of the binding's ``config_model`` (empty when it cannot be loaded: the
    class check reports that)."""
    try:
        model = getattr(registry.load(name), "config_model", None)
    except (ImportError, AttributeError):
        return set()
    if isinstance(model, type) and issubclass(model, BaseModel):
        return set(model.model_fields)
    return set()


def apply_shared_knobs(config: AppConfig) -> AppConfig:
    """``config`` with each shared knob copied from ``rag`` into its binding's parameters.

    Raises ``ConfigError`` when a binding's copy is set directly.
    """
    problems = []
    updates: dict[str, dict[str, object]] = {}
    for knob in SHARED_KNOBS:
        choice: BackendChoice = getattr(config, knob.section)
        if knob.field in choice.params():
            problems.append(knob.message())
            continue
        if knob.field in _declared_fields(_REGISTRIES[knob.section], choice.type):
            updates.setdefault(knob.section, {})[knob.field] = getattr(config.rag, knob.key)
    if problems:
        raise ConfigError("\n".join(problems))
    changes = {
        section: BackendChoice.model_validate({**getattr(config, section).model_dump(), **values})
        for section, values in updates.items()
    }
    return config.model_copy(update=changes)
