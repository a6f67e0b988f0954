"""The HTTP service: a FastAPI app over one `Matcher`, loaded once when the app starts.

    >>> app = create_app(Settings.from_env())        # or: serve(Settings.from_env(), port=8000)

Endpoints (`routes`, `gaps`):
- POST /v1/match; POST /v1/triage and /v1/triage/upload (a CSV or JSONL file): open to all; a triage sent with an
  API key is stored with its proposals under the key's organisation and its random id sent in `X-Triage-Run`;
  GET /v1/triage/runs lists the organisation's runs, GET and DELETE /v1/triage/runs/{id} read or delete one (key);
- a triage of more than MATCHER_JOB_ROWS proposals (or `?async=true`) runs as a background job: 202 with its id,
  then GET /v1/jobs/{id} (`jobs`), behind single matches in the worker's matcher slot (`slot`);
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
import ctypes
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from matcher import Settings, __version__
from matcher.app import load_matcher, open_watch_store

from . import errors, gaps, jobs, watch, web
from .config import ServiceSettings
from .headers import SecurityHeaders
from .jobs import JobQueue
from .limits import BodySizeLimit
from .protocol import HeaderTimeoutH11
from .ratelimit import RateLimiter
from .routes import router
from .slot import InteractiveRequests, MatcherSlot
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
        die_with_supervisor()  # a worker of `serve --workers N` goes down with its supervisor, even on kill -9
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
    app.state.matcher_slot = MatcherSlot()  # one matcher run at a time per worker, single matches first (see slot)
    app.state.jobs = JobQueue(app.state.matcher_slot)  # big triage runs in the background (see jobs)
    app.state.matcher = None
    app.state.store = None
    app.state.watch_store = None
    app.state.service = service
    app.state.limiter = RateLimiter(service.rate_per_minute)
    app.state.gap_cache = gaps.new_gap_cache()
    app.add_middleware(InteractiveRequests, slot=app.state.matcher_slot)  # jobs wait while matches are in flight
    app.add_middleware(BodySizeLimit, max_bytes=service.max_body_bytes, timeout_s=service.body_timeout_s)
    if service.cors_origins:  # added last, so outermost: even a 413 or 429 carries the CORS headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(service.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "X-API-Key", "Idempotency-Key"],
            expose_headers=["X-Triage-Run", "Retry-After", "Content-Disposition"],
        )
    # Outside CORS: a request for a host not configured (MATCHER_ALLOWED_HOSTS; none: any) gets 400 before anything.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(service.allowed_hosts) or ["*"])
    app.add_middleware(SecurityHeaders)  # outermost: every answer carries the security headers, a 400 or 413 too
    errors.install(app)
    app.include_router(router)
    app.include_router(jobs.router)
    app.include_router(web.router)
    app.include_router(gaps.router)
    app.include_router(watch.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    return app


def serve(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the service with uvicorn; each worker process loads its own matcher."""
    import uvicorn

    os.environ.update(worker_environment(settings, workers, os.cpu_count() or 1, os.environ))
    # proxy_headers off: uvicorn would trust X-Forwarded-For from 127.0.0.1 and hand the rate limiter any address a
    # local client writes there; the limiter honours it from MATCHER_TRUSTED_PROXIES only (see ratelimit).
    options: dict[str, Any] = {
        "proxy_headers": False,
        "server_header": False,
        "log_config": log_config(),
        **CONNECTION_LIMITS,
    }
    if workers == 1:
        uvicorn.run("service.app:create_app", factory=True, host=host, port=port, **options)
        return
    from uvicorn.supervisors import Multiprocess

    # uvicorn's supervisor stops its workers on SIGTERM and SIGINT itself; for SIGKILL, which it cannot see, each
    # worker asks the kernel for SIGTERM when the supervisor dies (`die_with_supervisor`, reading this variable).
    os.environ[SUPERVISOR_VARIABLE] = str(os.getpid())

    # What uvicorn.run does for several workers, with a listening socket that says it is TCP (see tcp_listener).
    config = uvicorn.Config("service.app:create_app", factory=True, host=host, port=port, workers=workers, **options)
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[tcp_listener(config.bind_socket())]).run()


# Half-sent requests may not hold a connection: idle keep-alive connections close after 5 s, the request line and
# headers may take 64 KiB (h11; more gets 400) and 10 s (`protocol.HeaderTimeoutH11`), and a body must arrive within
# MATCHER_BODY_TIMEOUT (`limits.BodySizeLimit`, 408).
CONNECTION_LIMITS: dict[str, Any] = {
    "http": HeaderTimeoutH11,
    "timeout_keep_alive": 5,
    "h11_max_incomplete_event_size": 64 * 1024,
}
SUPERVISOR_VARIABLE = "MATCHER_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_supervisor(environ: Mapping[str, str] = os.environ) -> bool:
    """In a worker of `serve --workers N` (on Linux): have the kernel send SIGTERM to this process when the
    supervisor dies, so a killed supervisor leaves no workers on the port (review finding L4: after `kill -9` of the
    supervisor both workers kept serving, and a new `matcher serve` failed with "Address already in use").

    True when armed; False outside a supervised worker or where prctl is missing. A worker whose supervisor died
    before this ran stops at once.
    """
    supervisor = environ.get(SUPERVISOR_VARIABLE, "")
    if not supervisor.isdigit() or int(supervisor) == os.getpid() or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != int(supervisor):  # orphaned already, before the request above was in place
        os.kill(os.getpid(), signal.SIGTERM)
    return True


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
