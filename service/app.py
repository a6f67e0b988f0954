"""The HTTP service: a FastAPI app over one `Matcher`, loaded once when the app starts.

    >>> app = create_app(Settings.from_env())        # or: serve(Settings.from_env(), port=8000)

Endpoints (`routes`, `gaps`):
- POST /v1/match; POST /v1/triage and /v1/triage/upload (a CSV or JSONL file): open to all; a triage sent with an
  API key is stored with its proposals under the key's organisation and its random id sent in `X-Triage-Run`;
  GET /v1/triage/runs lists the organisation's runs, GET and DELETE /v1/triage/runs/{id} read or delete one (key);
- GET /v1/gaps: the gap analysis of the bundled demo intake, or with `?run=ID` of a stored run (key; cached);
- GET /v1/instruments[/{id}], GET /v1/regions, POST and GET /v1/feedback (API key), GET /health;
- the web pages of `web`: `/` for applicants, `/adviser` for advisers (its triage stored as a run with a key), and
  `/static`.
Match, triage and gaps are rate limited per client. Settings come from the caller or from the MATCHER_* environment
variables (see `matcher.settings` and `service.config`); the feedback store (feedback and triage runs) is opened with
the matcher and closed at shutdown.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from matcher import Settings, __version__
from matcher.app import load_matcher, open_watch_store

from . import errors, gaps, watch, web
from .config import ServiceSettings
from .limits import BodySizeLimit
from .ratelimit import RateLimiter
from .routes import router
from .storage import FeedbackStore

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, service: ServiceSettings | None = None) -> FastAPI:
    """Build the app and every piece of its state; the matcher and the store are opened in its lifespan, not here, so
    building it is cheap. Settings are read here once (from the arguments, else the environment), never per request.
    """
    service = service or ServiceSettings.from_env()
    chosen = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Expired runs are deleted here, at start-up, and on every write (MATCHER_RETENTION_DAYS, MATCHER_QUOTA_MB).
        app.state.store = FeedbackStore.open(
            service.db, retention_days=service.retention_days, quota_bytes=service.quota_bytes
        )
        try:
            app.state.watch_store = open_watch_store(service.db)  # saved profiles: the same file, own tables
            app.state.matcher = load_matcher(chosen)
            matcher, pid = app.state.matcher, os.getpid()
            log.info(
                "matcher loaded in process %d: model %s, corpus %s, weak-match threshold %.4f",
                pid,
                chosen.model,
                matcher.corpus.hash,
                matcher.weak_match,
            )
            log.info("feedback store %s: %d rows", service.db, app.state.store.count())
            yield
        finally:
            app.state.matcher = None
            app.state.store.close()
            app.state.store = None
            if app.state.watch_store is not None:
                app.state.watch_store.close()
                app.state.watch_store = None

    app = FastAPI(title="regio-matcher", version=__version__, lifespan=lifespan)
    app.state.started = time.monotonic()
    app.state.settings = chosen
    app.state.matcher_slot = anyio.CapacityLimiter(1)  # one matcher call at a time per worker (see timeouts)
    app.state.matcher = None
    app.state.store = None
    app.state.watch_store = None
    app.state.service = service
    app.state.limiter = RateLimiter(service.rate_per_minute)
    app.state.gap_cache = gaps.new_gap_cache()
    app.add_middleware(BodySizeLimit, max_bytes=service.max_body_bytes)
    if service.cors_origins:  # added last, so outermost: even a 413 or 429 carries the CORS headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(service.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "X-API-Key"],
            expose_headers=["X-Triage-Run", "Retry-After", "Content-Disposition"],
        )
    errors.install(app)
    app.include_router(router)
    app.include_router(web.router)
    app.include_router(gaps.router)
    app.include_router(watch.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    return app


def serve(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the service with uvicorn; each worker process loads its own matcher."""
    import uvicorn

    os.environ.update(worker_environment(settings, workers, os.cpu_count() or 1, os.environ))
    if workers == 1:
        uvicorn.run("service.app:create_app", factory=True, host=host, port=port, log_config=log_config())
        return
    from uvicorn.supervisors import Multiprocess

    # What uvicorn.run does for several workers, with a listening socket that says it is TCP (see tcp_listener).
    config = uvicorn.Config(
        "service.app:create_app", factory=True, host=host, port=port, workers=workers, log_config=log_config()
    )
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[tcp_listener(config.bind_socket())]).run()


def tcp_listener(sock: socket.socket) -> socket.socket:
    """The same listening socket, re-wrapped with proto IPPROTO_TCP.

    uvicorn binds the socket of several workers with proto 0, so asyncio does not set TCP_NODELAY on accepted
    connections and every keep-alive response waits ~40 ms on a delayed ACK (uvicorn issue #3149, open). Measured
    here before this fix: 2 workers answered one client in p50 60 ms where 1 worker took 15 ms.
    """
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
        return sock
    fixed = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    fixed.set_inheritable(True)
    return fixed


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def worker_environment(
    settings: Settings | None, workers: int, cores: int, current: Mapping[str, str]
) -> dict[str, str]:
    """The environment the workers build their app from (uvicorn's factory takes no arguments).

    Every setting travels (corpora, artefacts, model, extra folders, H2020 folder, index). With several workers the
    math threads are split between them (unless set already): two workers that each spin one thread per core
    on the same cores slow each other down several times over.
    """
    env: dict[str, str] = {}
    if settings is not None:
        env |= {
            "MATCHER_CORPORA": str(settings.corpora),
            "MATCHER_ARTEFACTS": str(settings.artefacts),
            "MATCHER_MODEL": settings.model,
            "MATCHER_EXTRA": ",".join(str(p) for p in settings.extra),
            "MATCHER_INDEX": str(settings.index),
        }
        if settings.h2020 is not None:
            env["MATCHER_H2020"] = str(settings.h2020)
    if workers > 1:
        threads = str(max(1, cores // workers))
        env |= {name: threads for name in THREAD_VARIABLES if name not in current}
    return env


def log_config() -> dict[str, Any]:
    """uvicorn's logging setup plus the `service` loggers at INFO, so each worker logs when it loads the matcher."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["service"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
