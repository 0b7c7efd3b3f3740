"""The FastAPI application: ``create_app(config)`` wires engines, routers, auth and limits.

Lifespan: build the default workspace's engine from config (unless one is given),
lock the working directory when its storages are single-process (``workdir_lock``),
load its models
(those with a ``load()`` method, such as the embedded ones, so that a missing or
corrupt model fails the start rather than the first request), open its
storages, resume documents left unfinished by a previous run, optionally scan
the input directory, and on shutdown stop background work and close storages.
Other workspaces' engines are built on demand by the ``WorkspacePool`` (they share
the default's database clients and models) and closed with it.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

import lightrag
from lightrag.compose import build_engine, open_kv
from lightrag.config.models import AppConfig
from lightrag.core.engine import LightRAG, finish_reporting
from lightrag.registry.models import chat_registry, embedding_registry
from lightrag.server import auth as auth_module
from lightrag.server.auth import Authenticator, require_auth
from lightrag.server.cors import add_cors
from lightrag.server.docs import complete_openapi, mount_offline_docs
from lightrag.server.ingest import Scanner, parsing_limits
from lightrag.server.jobs import BackgroundJobs
from lightrag.server.limits import BodySizeLimitMiddleware
from lightrag.server.model_errors import model_error_headers, model_error_status
from lightrag.server.query_guard import ClientDisconnected, client_disconnected_response
from lightrag.server.routers import documents, documents_admin, graph, health, query, workspaces
from lightrag.server.startup_errors import OPERATOR_ERRORS, record_startup_error
from lightrag.server.startup_summary import log_startup_summary
from lightrag.server.workspace_registry import REGISTRY_NAMESPACE, WorkspaceRegistry
from lightrag.server.workspaces import WorkspacePool
from lightrag.vocabulary.clients import ClientHub
from lightrag.vocabulary.models import ChatModel, EmbeddingModel, ModelError

__all__ = ["OPTIONAL_ROUTERS", "create_app"]

logger = logging.getLogger(__name__)

OPTIONAL_ROUTERS = ("lightrag.server.routers.ollama", "lightrag.server.routers.openai_compat")
"""Router modules mounted when present (chat emulation, written separately)."""

_SHUTDOWN_GRACE_SECONDS = 30.0


def _optional_routers() -> list[object]:
    found = []
    for name in OPTIONAL_ROUTERS:
        if importlib.util.find_spec(name) is None:
            logger.info("%s is not installed; its routes are not mounted", name)
            continue
        # A module that exists but fails to import is a bug: let it fail loudly.
        found.append(importlib.import_module(name).router)
    return found


async def _model_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s %s: model call failed: %s", request.method, request.url.path, exc)
    assert isinstance(exc, ModelError)
    return JSONResponse(
        status_code=model_error_status(exc),
        content={"detail": f"Model call failed: {exc}"},
        headers=model_error_headers(exc),
    )


class _SharedModels:
    """The chat and embedding model every workspace's engine uses: built once, on first
    need, from config (or taken from a given engine's owner), closed at shutdown."""

    def __init__(self, config: AppConfig) -> None:
        self._config = config
        self.pair: tuple[ChatModel, EmbeddingModel] | None = None

    def get(self) -> tuple[ChatModel, EmbeddingModel]:
        if self.pair is None:
            config = self._config
            embedding = embedding_registry.load(config.embedding.type)(config.embedding.params())
            llm = chat_registry.load(config.llm.type)(config.llm.params())
            self.pair = (llm, embedding)
        return self.pair

    async def aclose(self) -> None:
        if self.pair is not None:
            llm, embedding = self.pair
            self.pair = None
            await llm.aclose()
            await embedding.aclose()


def _pool(config: AppConfig, models: _SharedModels, hub: ClientHub) -> WorkspacePool:
    server = config.server

    def engine(name: str) -> LightRAG:
        llm, embedding = models.get()
        return build_engine(
            config, llm=llm, embedding=embedding, clients=hub, workspace=name, owns_models=False
        )

    def scanner(input_dir: Path) -> Scanner:
        return Scanner(input_dir, parsing_limits(server))

    kv = open_kv(
        config.storage.kv,
        working_dir=server.working_dir,
        workspace="",
        namespace=REGISTRY_NAMESPACE,
        clients=hub,
    )
    return WorkspacePool(
        default=server.workspace,
        registry=WorkspaceRegistry(kv, default=server.workspace),
        factory=engine,
        scanner_factory=scanner,
        working_dir=server.working_dir,
        input_dir=server.input_dir,
        max_engines=server.workspaces.max_engines,
        auto_create=server.workspaces.auto_create,
    )


async def _stop_background_work(app: FastAPI) -> None:
    scanner: Scanner = app.state.scanner
    jobs: BackgroundJobs = app.state.jobs
    await finish_reporting("input directory scanner", scanner.aclose())
    try:
        async with asyncio.timeout(_SHUTDOWN_GRACE_SECONDS):
            await jobs.wait()
    except TimeoutError:
        logger.warning(
            "background jobs still running after %ss; cancelling them", _SHUTDOWN_GRACE_SECONDS
        )
    await jobs.aclose()


def create_app(
    config: AppConfig, *, rag: LightRAG | None = None, recipe: str | None = None
) -> FastAPI:
    """Build the app. A given ``rag`` is initialised at startup but not finalised at
    shutdown (its owner does that); otherwise the app builds and owns one. ``recipe``
    (the recipe's name, when one was chosen) is named in the start-up summary.

    Raises ``ValueError`` for a configuration that must not start (accounts
    without a token secret, an empty API key).
    """
    authenticator = Authenticator(config.server)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = ClientHub()
        models = _SharedModels(config)
        try:
            pool = _pool(config, models, hub)
            engine = rag if rag is not None else pool.default_engine()
            default = await pool.open_default(engine, app.state.scanner)
        except OPERATOR_ERRORS as exc:
            record_startup_error(app, exc)
            await finish_reporting("shared model clients", models.aclose())
            await finish_reporting("shared database clients", hub.close())
            raise
        started = False
        try:
            await asyncio.to_thread(config.server.input_dir.mkdir, parents=True, exist_ok=True)
            try:
                await engine.load_models()
                await engine.initialize()
                await pool.start(default)
                started = True
            except OPERATOR_ERRORS as exc:
                record_startup_error(app, exc)
                raise
            app.state.rag = engine
            app.state.pool = pool
            app.state.clients = hub  # the database clients every workspace shares
            engine.start_processing()  # resumes pending/processing/failed documents
            if config.server.auto_scan_at_startup:
                others = (await pool.registry.names())[1:]
                app.state.scanner.start(engine, skip_dirs=others)
                engine.pipeline_status.autoscanned = True
            app.state.ready = True
            log_startup_summary(config, recipe)
            yield
        finally:
            app.state.ready = False
            await _stop_background_work(app)
            if started:
                await finish_reporting(
                    "workspace engines", pool.close(finalize_default=rag is None)
                )
            else:
                if rag is None:
                    await engine.finalize()
                if default.lock is not None:
                    default.lock.release()
            await finish_reporting("shared model clients", models.aclose())
            await finish_reporting("shared database clients", hub.close())

    app = FastAPI(
        title="LightRAG Server",
        version=lightrag.__version__,
        description="Graph-based retrieval-augmented generation (LightRAG-compatible API)",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.config = config
    app.state.auth = authenticator
    app.state.jobs = BackgroundJobs()
    app.state.scanner = Scanner(config.server.input_dir, parsing_limits(config.server))
    app.state.ready = False
    if rag is not None:
        app.state.rag = rag

    app.add_exception_handler(ModelError, _model_error)
    app.add_exception_handler(ClientDisconnected, client_disconnected_response)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_request_body=config.server.max_request_body,
        max_upload_size=config.server.max_upload_size,
    )
    add_cors(app, config.server.cors_origins)

    app.include_router(auth_module.router)
    protected = [Depends(require_auth)]
    for module in (health, query, documents, documents_admin, graph, workspaces):
        app.include_router(module.router, dependencies=protected)
    for router in _optional_routers():
        app.include_router(router, dependencies=protected)  # type: ignore[arg-type]
    mount_offline_docs(app)
    complete_openapi(app)
    return app
