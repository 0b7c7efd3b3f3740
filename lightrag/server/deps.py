"""FastAPI dependencies: the engine and config held in the app's state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lightrag.config.models import AppConfig
from lightrag.core.engine import LightRAG

__all__ = ["ConfigDep", "RagDep", "get_config", "get_rag"]


def get_rag(request: Request) -> LightRAG:
    rag: LightRAG = request.app.state.rag
    return rag


def get_config(request: Request) -> AppConfig:
    config: AppConfig = request.app.state.config
    return config


RagDep = Annotated[LightRAG, Depends(get_rag)]
ConfigDep = Annotated[AppConfig, Depends(get_config)]
