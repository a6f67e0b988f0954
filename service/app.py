"""The HTTP service: a FastAPI app over one `Matcher`, loaded once when the app starts.

    >>> app = create_app(Settings.from_env())        # or: serve(Settings.from_env(), port=8000)

Endpoints (`routes`, `gaps`):
- POST /v1/match; POST /v1/triage and /v1/triage/upload (a CSV or JSONL file): each triage run is stored with its
  proposals and its id sent in `X-Triage-Run`; GET /v1/triage/runs lists the runs, /v1/triage/runs/{id} reads one;
- GET /v1/gaps: the gap analysis of the bundled demo intake, or with `?run=ID` of a stored run (cached per query);
- GET /v1/instruments[/{id}], GET /v1/regions, POST and GET /v1/feedback (writing needs an API key), GET /health;
- the web pages of `web`: `/` for applicants, `/adviser` for advisers (its triage is stored as a run too), and
  `/static`.
Match, triage and gaps are rate limited per client. Settings come from the caller or from the MATCHER_* environment
variables (see `matcher.settings` and `service.config`); the feedback store (feedback and triage runs) is opened with
the matcher and closed at shutdown.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from matcher import Matcher, Settings, __version__

from . import errors, gaps, web
from .config import ServiceSettings
from .limits import BodySizeLimit
from .ratelimit import RateLimiter
from .routes import router
from .storage import FeedbackStore

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, service: ServiceSettings | None = None) -> FastAPI:
    """Build the app; the matcher and the store are opened in its lifespan, not here, so building it is cheap."""
    service = service or ServiceSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        chosen = settings or Settings.from_env()
        app.state.store = FeedbackStore.open(service.db)
        try:
            app.state.matcher = Matcher.from_settings(chosen)
            matcher, pid = app.state.matcher, os.getpid()
            log.info("matcher loaded in process %d: model %s, corpus %s", pid, chosen.model, matcher.corpus.hash)
            log.info("feedback store %s: %d rows", service.db, app.state.store.count())
            yield
        finally:
            app.state.matcher = None
            app.state.store.close()
            app.state.store = None

    app = FastAPI(title="regio-matcher", version=__version__, lifespan=lifespan)
    app.state.started = time.monotonic()
    app.state.matcher = None
    app.state.store = None
    app.state.service = service
    app.state.limiter = RateLimiter(service.rate_per_minute)
    app.state.gap_cache = gaps.new_gap_cache()
    app.add_middleware(BodySizeLimit, max_bytes=service.max_body_bytes)
    if service.cors_origins:  # added last, so outermost: even a 413 or 429 carries the CORS headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(service.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
            expose_headers=["X-Triage-Run", "Retry-After", "Content-Disposition"],
        )
    errors.install(app)
    app.include_router(router)
    app.include_router(web.router)
    app.include_router(gaps.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    return app


def serve(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the service with uvicorn; each worker process loads its own matcher."""
    import uvicorn

    if settings is not None:
        # Worker processes build their app from the environment (uvicorn's factory takes no arguments).
        os.environ.update(
            MATCHER_CORPORA=str(settings.corpora),
            MATCHER_ARTEFACTS=str(settings.artefacts),
            MATCHER_MODEL=settings.model,
        )
    uvicorn.run("service.app:create_app", factory=True, host=host, port=port, workers=workers, log_config=log_config())


def log_config() -> dict[str, Any]:
    """uvicorn's logging setup plus the `service` loggers at INFO, so each worker logs when it loads the matcher."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["service"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
