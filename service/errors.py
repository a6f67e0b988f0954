"""Errors to JSON: every error body is `{"error": "..."}`, and no stack trace reaches a client.

MatcherError            400 (a subclass not listed below)
├── InputError          422  a proposal or filter value is invalid, or a triage run stored without its proposals
│   └── UnknownIdError  404  an unknown instrument id or triage run id
├── CorpusError         422
├── NotBuiltError       503  the matcher or the feedback store is not loaded
├── ModelError          503  the encoder could not be loaded
├── StorageError        503  the feedback database cannot be used
└── QuotaExceededError  507  storing a triage run would pass its organisation's quota (MATCHER_QUOTA_MB)
request validation      422  plus `detail`: one entry per problem (location, message, type)
HTTP errors             as raised (unknown route 404, wrong method 405, API key 401 / 503, body too large 413,
                        body too slow 408 (`limits`), rate limit 429 with Retry-After, time limit 503)
any other exception     500  the traceback goes to the server log only
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from matcher import CorpusError, InputError, MatcherError, ModelError, NotBuiltError, UnknownIdError
from matcher.records.messages import describe as describe_problem

from .storage import QuotaExceededError, StorageError

log = logging.getLogger(__name__)
SHOWN_CHARS = 80


STATUS: dict[type[MatcherError], int] = {
    UnknownIdError: 404,
    InputError: 422,
    CorpusError: 422,
    NotBuiltError: 503,
    ModelError: 503,
    StorageError: 503,
    QuotaExceededError: 507,
    MatcherError: 400,
}


def status_of(exc: MatcherError) -> int:
    return next(STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS)


async def matcher_error(request: Request, exc: MatcherError) -> JSONResponse:
    status = status_of(exc)
    log.log(logging.WARNING if status >= 500 else logging.INFO, "%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"error": str(exc)}, status_code=status)


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    return JSONResponse({"error": "; ".join(describe(e) for e in errors), "detail": detail}, status_code=422)


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises the exception after this response is sent, so the server logs the traceback once.
    return JSONResponse({"error": "internal error; the server log has the details"}, status_code=500)


def describe(err: Any) -> str:
    """One line per validation problem, as the library tells it (`matcher.records.messages.describe`)."""
    where = err["loc"][0]
    if err["type"] == "json_invalid":
        return f"{where}: invalid JSON: {err.get('ctx', {}).get('error', err['msg'])}"
    return describe_problem(err, skip=1, default_field=str(where))


def install(app: FastAPI) -> None:
    app.exception_handler(MatcherError)(matcher_error)
    app.exception_handler(RequestValidationError)(validation_error)
    app.exception_handler(StarletteHTTPException)(http_error)
    app.exception_handler(Exception)(unexpected_error)
