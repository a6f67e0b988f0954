"""The HTTP service: a FastAPI app over one `Matcher`, loaded once when the app starts.

    >>> app = create_app(Settings.from_env())        # or: serve(Settings.from_env(), port=8000)

Endpoints: POST /v1/match, POST /v1/triage, POST /v1/triage/upload (a CSV or JSONL file), GET /v1/instruments[/{id}],
GET /v1/regions, POST and GET /v1/feedback (writing needs an API key), GET /health; match and triage are rate limited
per client. Settings come from the caller or from the MATCHER_* environment variables
(see `matcher.settings` and `service.config`); the feedback store is opened with the matcher and closed at shutdown.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from matcher import Matcher, Settings, __version__

from . import errors
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
            log.info("matcher loaded: model %s, corpus %s", chosen.model, app.state.matcher.corpus.hash)
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
    app.add_middleware(BodySizeLimit, max_bytes=service.max_body_bytes)
    errors.install(app)
    app.include_router(router)
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
    uvicorn.run("service.app:create_app", factory=True, host=host, port=port, workers=workers)
