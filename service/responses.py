"""Response models of the HTTP service, for the OpenAPI schema: what each endpoint answers, errors included.

Routes return plain dicts (`MatchResult.to_dict()` is already the contract's JSON, and checking 5,000 matches again
would only cost time), so these models document the answers rather than build them; the schemathesis test checks
that every answer conforms to them.

    >>> @router.get("/v1/triage/runs/{run_id}", response_model=None,
    ...             responses={200: {"model": TriageRunBody}, **answers(404, 422, 503)})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from matcher.records import CheckStatus, Eligibility, InstrumentType, Level


class ProblemDetail(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer: one line for people, and for request validation one entry per problem."""

    error: str = Field(description="what went wrong, naming the field or row and the value")
    detail: list[ProblemDetail] | None = Field(default=None, description="request validation errors only")


class CheckBody(BaseModel):
    criterion: str
    status: CheckStatus
    detail: str


class MatchBody(BaseModel):
    instrument_id: str
    name: str
    level: Level
    regions: list[str]
    score: float = Field(ge=0, le=1)
    eligibility: Eligibility
    checks: list[CheckBody]
    why: list[str]
    next_steps: list[str]
    instrument_type: InstrumentType
    administrator: str
    source_url: str


class PartnerRegionBody(BaseModel):
    region: str
    name: str
    score: float = Field(ge=0, le=1)
    why: list[str]


class MatchResultBody(BaseModel):
    """The match JSON of CONTRACT.md: matches best first, ineligible ones last."""

    proposal_id: str
    matches: list[MatchBody]
    partner_regions: list[PartnerRegionBody]
    themes: list[str]
    language: str
    flags: list[str]


class FeedbackBody(BaseModel):
    id: int
    proposal_id: str
    instrument_id: str
    relevant: bool
    note: str | None
    created_at: str


class TriageRunSummary(BaseModel):
    """A stored triage run without its results; `source` is the file name, or "json" for `POST /v1/triage`."""

    id: int
    created_at: str
    source: str
    row_count: int
    top: int


class TriageRunBody(TriageRunSummary):
    results: list[MatchResultBody]


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
    404: "unknown id",
    413: "request body too large (MATCHER_MAX_BODY_BYTES)",
    422: "invalid input: the message names the field or row and the value",
    429: "too many requests from this client; see Retry-After",
    503: "not ready (starting up), writes disabled, or over the time limit (MATCHER_REQUEST_TIMEOUT_S)",
}
RUN_HEADER = "X-Triage-Run"


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each error code with `ErrorBody` and its usual reason."""
    return {code: {"model": ErrorBody, "description": REASONS[code]} for code in codes}


def run_header() -> dict[str, Any]:
    return {
        RUN_HEADER: {
            "description": "id of the stored triage run (GET /v1/triage/runs/{id})",
            "schema": {"type": "integer"},
        }
    }
