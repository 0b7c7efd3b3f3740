"""Azure OpenAI bindings: the OpenAI wire format addressed by deployment.

Requests go to ``{endpoint}/openai/deployments/{deployment}/...?api-version=V``
with the key in the ``api-key`` header. The chat and embedding models have
separate deployments and API versions (``AZURE_OPENAI_DEPLOYMENT`` /
``AZURE_OPENAI_API_VERSION`` and ``AZURE_EMBEDDING_DEPLOYMENT`` /
``AZURE_EMBEDDING_API_VERSION``); the deployment defaults to the model name.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field, field_validator, model_validator

from lightrag.llm._http import HttpClient, HttpModelConfig
from lightrag.llm.openai import (
    OpenAIChatConfig,
    OpenAIChatModel,
    OpenAIEmbeddingConfig,
    OpenAIEmbeddingModel,
)

__all__ = [
    "AzureOpenAIChatConfig",
    "AzureOpenAIChatModel",
    "AzureOpenAIEmbeddingConfig",
    "AzureOpenAIEmbeddingModel",
]

_ENDPOINT_HINT = (
    "set AZURE_OPENAI_ENDPOINT (for embeddings also AZURE_EMBEDDING_ENDPOINT) "
    "to https://<resource>.openai.azure.com"
)


def _deployment_defaults_to_model(config: Any) -> Any:
    if isinstance(config, dict) and not config.get("deployment"):
        return {**config, "deployment": config.get("model")}
    return config


def _require_endpoint(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"azure_openai needs an endpoint: {_ENDPOINT_HINT}")
    return value


def _azure_client(model: HttpModelConfig, deployment: str, role: str) -> HttpClient:
    headers = {"api-key": model.api_key.get_secret_value()} if model.api_key else {}
    return HttpClient(
        binding="azure_openai",
        role=role,
        config=model,
        base_url=f"{model.host}/openai/deployments/{quote(deployment, safe='')}",
        auth_headers=headers,
        model_label=repr(deployment),
    )


class AzureOpenAIChatConfig(OpenAIChatConfig):
    host: str
    deployment: str = Field(min_length=1, description="AZURE_OPENAI_DEPLOYMENT (default: model)")
    api_version: str = Field("2024-08-01-preview", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _default_deployment(cls, data: Any) -> Any:
        return _deployment_defaults_to_model(data)

    @field_validator("host", mode="before")
    @classmethod
    def _endpoint_given(cls, value: Any) -> Any:
        return _require_endpoint(value)


class AzureOpenAIChatModel(OpenAIChatModel):
    """Chat through an Azure OpenAI chat deployment."""

    binding: ClassVar[str] = "azure_openai"
    config_model: ClassVar[type[AzureOpenAIChatConfig]] = AzureOpenAIChatConfig
    config: AzureOpenAIChatConfig

    def _client(self) -> HttpClient:
        return _azure_client(self.config, self.config.deployment, "chat")

    def _params(self) -> dict[str, str]:
        return {"api-version": self.config.api_version}

    @property
    def identity(self) -> str:
        return f"{self.binding}:{self.config.deployment}"


class AzureOpenAIEmbeddingConfig(OpenAIEmbeddingConfig):
    host: str
    model: str = Field("text-embedding-3-large", min_length=1)
    dim: int = Field(3072, gt=0)
    deployment: str = Field(min_length=1, description="AZURE_EMBEDDING_DEPLOYMENT")
    api_version: str = Field("2023-05-15", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _default_deployment(cls, data: Any) -> Any:
        return _deployment_defaults_to_model(data)

    @field_validator("host", mode="before")
    @classmethod
    def _endpoint_given(cls, value: Any) -> Any:
        return _require_endpoint(value)


class AzureOpenAIEmbeddingModel(OpenAIEmbeddingModel):
    """Embeddings through an Azure OpenAI embedding deployment."""

    binding: ClassVar[str] = "azure_openai"
    config_model: ClassVar[type[AzureOpenAIEmbeddingConfig]] = AzureOpenAIEmbeddingConfig
    config: AzureOpenAIEmbeddingConfig

    def _client(self) -> HttpClient:
        return _azure_client(self.config, self.config.deployment, "embedding")

    def _params(self) -> dict[str, str]:
        return {"api-version": self.config.api_version}

    @property
    def identity(self) -> str:
        return f"{self.binding}:{self.config.deployment}"
