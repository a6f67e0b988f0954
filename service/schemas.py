"""Request models of the HTTP service: every body and query is checked here and unknown fields are rejected.

A match request is a `Proposal` plus `top`, so the proposal rules (text length, region codes, TRL range) are the
library's own and are not restated here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator

from matcher import Proposal
from matcher.app import InstrumentQuery
from matcher.records import DEFAULT_TOP, ApplicantType, Level, RegionCode

MAX_TOP = 100
MAX_PROPOSALS = 500
MAX_NOTE = 2000
MAX_ID = 200
MAX_PAGE = 500
MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer: larger ids and offsets cannot be looked up
RUN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # random ids (secrets.token_urlsafe) and the numbers of older runs


Lang = Literal["nl", "en"]


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):  # JSON true would otherwise count as 1
        raise ValueError("a whole number, not true or false")
    return value


Top = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_TOP)]  # instruments per proposal in a JSON body


class MatchRequest(Proposal):
    """`POST /v1/match`: one proposal, how many instruments to return, and the language of the explanations
    (default: the request's Accept-Language, else Dutch)."""

    top: Top = DEFAULT_TOP
    lang: Lang | None = None

    def proposal(self) -> Proposal:
        return Proposal.model_validate(self.model_dump(exclude={"top", "lang"}))


class TriageRequest(BaseModel):
    """`POST /v1/triage`: rows as in a triage file (checked one by one by `proposal_from_row`)."""

    model_config = ConfigDict(extra="forbid")

    proposals: list[dict[str, Any]]
    top: Top = DEFAULT_TOP
    lang: Lang | None = None

    @field_validator("proposals")
    @classmethod
    def _at_most(cls, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(rows) > MAX_PROPOSALS:
            raise ValueError(
                f"{len(rows)} proposals; at most {MAX_PROPOSALS} per request (use `matcher triage` for more)"
            )
        return rows


class UploadQuery(BaseModel):
    """Query of `POST /v1/triage/upload`: how many instruments per proposal, and JSON or a CSV download."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    top: int = Field(default=DEFAULT_TOP, ge=1, le=MAX_TOP)
    format: Literal["json", "csv"] = "json"
    lang: Lang | None = None
    run_async: bool = Field(
        default=False,
        alias="async",
        description="run as a background job (202 and GET /v1/jobs/{id}) whatever its size; a job answers JSON",
    )


class InstrumentFilter(BaseModel):
    """Query of `GET /v1/instruments`; every filter given must hold."""

    model_config = ConfigDict(extra="forbid")

    level: Level | None = None
    region: RegionCode | None = None
    theme: str | None = None
    applicant_type: ApplicantType | None = None
    open_on: dt.date | None = None
    as_of: dt.date | None = None  # the day `status`, `opens` and `closes` are derived for (default: today)

    def query(self) -> InstrumentQuery:
        """The library's one instrument filter (`matcher.rules.catalogue`) with these values."""
        return InstrumentQuery(**self.model_dump(exclude={"as_of"}))


class FeedbackRequest(BaseModel):
    """`POST /v1/feedback`: was this instrument relevant to this proposal?"""

    model_config = ConfigDict(extra="forbid")

    proposal_id: str = Field(min_length=1, max_length=MAX_ID)
    instrument_id: str = Field(min_length=1, max_length=MAX_ID)
    relevant: StrictBool  # true or false only, not "yes" or 1
    note: str | None = Field(default=None, max_length=MAX_NOTE)


class FeedbackQuery(BaseModel):
    """Query of `GET /v1/feedback`: one page of rows in the order they were stored."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_ROW_ID)
    proposal_id: str | None = None


class RunsQuery(BaseModel):
    """Query of `GET /v1/triage/runs`: one page of stored runs, newest first."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_ROW_ID)
