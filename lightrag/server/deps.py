"""FastAPI dependencies: the engine, config and background helpers held in the app's state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lightrag.config.models import AppConfig
from lightrag.core.engine import LightRAG
from lightrag.server.ingest import Scanner
from lightrag.server.jobs import BackgroundJobs

__all__ = [
    "ConfigDep",
    "JobsDep",
    "RagDep",
    "ScannerDep",
    "get_config",
    "get_jobs",
    "get_rag",
    "get_scanner",
]


def get_rag(request: Request) -> LightRAG:
    rag: LightRAG = request.app.state.rag
    return rag


def get_config(request: Request) -> AppConfig:
    config: AppConfig = request.app.state.config
    return config


def get_jobs(request: Request) -> BackgroundJobs:
    jobs: BackgroundJobs = request.app.state.jobs
    return jobs


def get_scanner(request: Request) -> Scanner:
    scanner: Scanner = request.app.state.scanner
    return scanner


RagDep = Annotated[LightRAG, Depends(get_rag)]
ConfigDep = Annotated[AppConfig, Depends(get_config)]
JobsDep = Annotated[BackgroundJobs, Depends(get_jobs)]
ScannerDep = Annotated[Scanner, Depends(get_scanner)]
