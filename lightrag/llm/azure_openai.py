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

from pydantic import BaseModel, Field, field_validator, model_validator

from lightrag.llm._http import HttpClient
from lightrag.llm._shared import HttpBinding
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


class _AzureSettings(BaseModel):
    """What every Azure config adds: the endpoint required, the deployment (default: model)."""

    host: str
    deployment: str = Field(min_length=1, description="the deployment (default: model)")

    @model_validator(mode="before")
    @classmethod
    def _default_deployment(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("deployment"):
            return {**data, "deployment": data.get("model")}
        return data

    @field_validator("host", mode="before")
    @classmethod
    def _endpoint_given(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError(f"azure_openai needs an endpoint: {_ENDPOINT_HINT}")
        return value


class _AzureDeployment(HttpBinding):
    """Addressing by deployment: base URL, ``api-version`` query, ``api-key`` header."""

    binding: ClassVar[str] = "azure_openai"
    config: AzureOpenAIChatConfig | AzureOpenAIEmbeddingConfig

    def _client(self) -> HttpClient:
        config = self.config
        headers = {"api-key": config.api_key.get_secret_value()} if config.api_key else {}
        return HttpClient(
            binding=self.binding,
            role=self.role,
            config=config,
            base_url=f"{config.host}/openai/deployments/{quote(config.deployment, safe='')}",
            auth_headers=headers,
            model_label=repr(config.deployment),
        )

    def _params(self) -> dict[str, str]:
        return {"api-version": self.config.api_version}

    @property
    def identity(self) -> str:
        return f"{self.binding}:{self.config.deployment}"


class AzureOpenAIChatConfig(_AzureSettings, OpenAIChatConfig):
    api_version: str = Field("2024-08-01-preview", min_length=1)


class AzureOpenAIChatModel(_AzureDeployment, OpenAIChatModel):
    """Chat through an Azure OpenAI chat deployment (``AZURE_OPENAI_DEPLOYMENT``)."""

    config_model: ClassVar[type[AzureOpenAIChatConfig]] = AzureOpenAIChatConfig
    config: AzureOpenAIChatConfig


class AzureOpenAIEmbeddingConfig(_AzureSettings, OpenAIEmbeddingConfig):
    model: str = Field("text-embedding-3-large", min_length=1)
    dim: int = Field(3072, gt=0)
    api_version: str = Field("2023-05-15", min_length=1)


class AzureOpenAIEmbeddingModel(_AzureDeployment, OpenAIEmbeddingModel):
    """Embeddings through an Azure OpenAI embedding deployment (``AZURE_EMBEDDING_DEPLOYMENT``)."""

    config_model: ClassVar[type[AzureOpenAIEmbeddingConfig]] = AzureOpenAIEmbeddingConfig
    config: AzureOpenAIEmbeddingConfig
