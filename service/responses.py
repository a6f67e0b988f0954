"""Response models of the HTTP service, for the OpenAPI schema: what each endpoint answers, errors included.

A match answer is the library's own `MatchResult` (used as `response_model`, or documented as `list[MatchResult]`
where a route returns the stored JSON of a run), so `/openapi.json` lists every field an answer carries; the models
here cover the service's own answers (errors, feedback, runs, health). The schemathesis test checks that every
answer conforms.

    >>> @router.get("/v1/triage/runs/{run_id}", response_model=None,
    ...             responses={200: {"model": TriageRunBody}, **answers(404, 422, 503)})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from matcher.records import MatchResult


class ProblemDetail(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer: one line for people, and for request validation one entry per problem."""

    error: str = Field(description="what went wrong, naming the field or row and the value")
    detail: list[ProblemDetail] | None = Field(default=None, description="request validation errors only")


class FeedbackBody(BaseModel):
    id: int
    proposal_id: str
    instrument_id: str
    relevant: bool
    note: str | None
    created_at: str
    organisation: str


class TriageRunSummary(BaseModel):
    """A stored triage run without its results; `source` is the file name, or "json" for `POST /v1/triage`; it is
    deleted at `expires_at` (MATCHER_RETENTION_DAYS after `created_at`)."""

    id: str = Field(description="random, not guessable; runs stored before ids were random keep their number")
    created_at: str
    source: str
    row_count: int
    top: int
    organisation: str = Field(description="the organisation of the API key that stored it")
    expires_at: str


class TriageRunBody(TriageRunSummary):
    results: list[MatchResult]


class HealthBody(BaseModel):
    status: str
    model: str
    corpus_hash: str
    passages: int
    instruments: int
    feedback_rows: int
    uptime_s: float


class RegionsBody(BaseModel):
    regions: list[dict[str, Any]]
    collaborations: list[dict[str, Any]]


REASONS = {
    400: "the body could not be read: not UTF-8 or not the declared content type",
    401: "missing or invalid X-API-Key",
    404: "unknown id (or a run of another organisation, or an expired one)",
    413: "request body too large (MATCHER_MAX_BODY_BYTES)",
    422: "invalid input: the message names the field or row and the value",
    429: "too many requests from this client; see Retry-After",
    503: "not ready (starting up), writes disabled, or over the time limit (MATCHER_REQUEST_TIMEOUT_S)",
    507: "storing the run would pass the organisation's quota (MATCHER_QUOTA_MB)",
}
RUN_HEADER = "X-Triage-Run"


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each error code with `ErrorBody` and its usual reason."""
    return {code: {"model": ErrorBody, "description": REASONS[code]} for code in codes}


def run_header() -> dict[str, Any]:
    return {
        RUN_HEADER: {
            "description": "id of the stored triage run (GET /v1/triage/runs/{id}); only when a valid X-API-Key "
            "was sent (anonymous triage is not stored)",
            "schema": {"type": "string"},
        }
    }
