"""Request models of the HTTP service: every body and query is checked here and unknown fields are rejected.

A match request is a `Proposal` plus `top`, so the proposal rules (text length, region codes, TRL range) are the
library's own and are not restated here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    GetPydanticSchema,
    StrictBool,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from matcher import Proposal
from matcher.app import InstrumentQuery
from matcher.records import (
    DEFAULT_TOP,
    MAX_TEXT_CHARS,
    REGION_CODES,
    ApplicantType,
    Level,
    RegionCode,
    Stage,
)
from matcher.records.proposal import MAX_BUDGET_EUR, MAX_PARTNERS

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


# Instruments per proposal in a JSON body. The bounds come before the bool check so that they reach the integer's
# schema: after a BeforeValidator pydantic wrote them as "ge"/"le", which are no JSON Schema keywords, so the OpenAPI
# schema documented `top` without bounds (validation, and its messages, are the same either way).
Top = Annotated[int, Field(ge=1, le=MAX_TOP), BeforeValidator(_not_bool)]


class MatchRequest(Proposal):
    """`POST /v1/match`: one proposal, how many instruments to return, and the language of the explanations
    (default: the request's Accept-Language, else Dutch)."""

    top: Top = DEFAULT_TOP
    lang: Lang | None = None

    def proposal(self) -> Proposal:
        return Proposal.model_validate(self.model_dump(exclude={"top", "lang"}))


Blank = Literal[""]  # an empty cell, as a spreadsheet's row has them: the column counts as absent
Text = Annotated[str, Field(pattern=r"\S")]  # not only whitespace (values are stripped)


class TriageRow(BaseModel):
    """One proposal of `POST /v1/triage`: the columns of a triage file (`matcher.io.batch.COLUMNS`), as `Proposal`
    has them. Only `text` is required; a column that is null or "" counts as absent.

    For the OpenAPI schema only: the route takes the rows as plain objects and `proposal_from_row` checks each one
    as a file's row is checked, so an error names the row ("proposal 2: unknown column(s) 'budget'; allowed: ...").
    It also reads some values beyond those documented here: an `id` of another type (as its text), a `budget_eur`
    written as people write it ("250.000", "1,5 miljoen", "35k"), a `trl` or `partners` as a string of digits.
    """

    model_config = ConfigDict(extra="forbid")

    id: Annotated[Text, Field(max_length=200)] | int | Blank | None = Field(
        default=None, description="the proposal's id in the answer; default: the row's number (1, 2, ...)"
    )
    text: Annotated[Text, Field(max_length=MAX_TEXT_CHARS)] = Field(description="the project, in a few sentences")
    region: Annotated[RegionCode, Field(json_schema_extra={"enum": list(REGION_CODES)})] | Blank | None = None
    applicant_type: ApplicantType | Blank | None = None
    budget_eur: (
        Annotated[float, Field(ge=0, le=MAX_BUDGET_EUR)]
        | Annotated[str, Field(pattern=r"^[0-9]{1,12}$")]
        | Blank
        | None
    ) = Field(default=None, description="euros: a number, or a string of digits (also read: 250.000, 1,5 mln, 35k)")
    trl: Annotated[int, Field(ge=1, le=9)] | Blank | None = None
    partners: Annotated[int, Field(ge=1, le=MAX_PARTNERS)] | Blank | None = None
    stage: Stage | Blank | None = None
    as_of: dt.date | Blank | None = Field(default=None, description="the day to match for (default: today)")


def _rows_schema(_: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
    return handler(core_schema.list_schema(TriageRow.__pydantic_core_schema__, max_length=MAX_PROPOSALS))


# Validated as a list of objects (each row by `proposal_from_row`, its errors naming the row), documented as a list
# of `TriageRow`s: a list of free objects let schemathesis send rows the server must refuse, so no stateful
# sequence (triage, then its stored run) got past the first request.
Rows = Annotated[list[dict[str, Any]], GetPydanticSchema(get_pydantic_json_schema=_rows_schema)]


class TriageRequest(BaseModel):
    """`POST /v1/triage`: rows as in a triage file (checked one by one by `proposal_from_row`)."""

    model_config = ConfigDict(extra="forbid")

    proposals: Rows
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
