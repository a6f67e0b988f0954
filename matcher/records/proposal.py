"""What an applicant brings: a proposal (text and the facts they know), and a labelled dev case.

>>> Proposal(text="Wij ontwikkelen een oogstrobot", region="NL-ZH").region
'NL-ZH'
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, HttpUrl, field_validator

from matcher.records.amounts import parse_amount
from matcher.records.corpus import MAX_TEXT_CHARS, ApplicantType, RegionCode, Stage, _Record, distinct_regions

MAX_BUDGET_EUR = 1e12
MAX_PARTNERS = 1000  # organisations in one consortium; more is a typing error (and overflows the wording)


class Proposal(_Record):
    """One project proposal as the applicant describes it, with what they know."""

    id: str = Field(default="p1", min_length=1, max_length=200)
    text: str = Field(max_length=MAX_TEXT_CHARS)
    region: RegionCode | None = None
    applicant_type: ApplicantType | None = None
    # A trillion euros is far beyond any project; larger numbers are typing errors (and overflow the wording).
    budget_eur: float | None = Field(default=None, ge=0, le=MAX_BUDGET_EUR, allow_inf_nan=False)
    trl: int | None = Field(default=None, ge=1, le=9)
    partners: int | None = Field(default=None, ge=1, le=MAX_PARTNERS)
    stage: Stage | None = None
    as_of: dt.date | None = None

    @field_validator("budget_eur", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        """Amounts as people write them ("900.000", "1,2 mln", "35k"): see `records.amounts`."""
        if isinstance(value, bool):
            raise ValueError("a budget is an amount in euros, not true or false")
        if isinstance(value, str):
            return parse_amount(value)
        return value

    @field_validator("trl", "partners", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a whole number, not true or false")
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty; describe the project in a few sentences")
        return value


class DevCase(Proposal):
    """A labelled proposal: the instruments an expert names (2 first choice, 1 also worth a look)."""

    lang: Literal["nl", "en"]
    relevant: dict[str, Literal[1, 2]] = Field(min_length=1)
    partner_regions: tuple[str, ...] = ()
    # Where a real case was taken from (the page describing the funded project), and the instrument that paid it.
    source: HttpUrl | None = None
    paid_by: str | None = None


class OutOfScopeCase(_Record):
    """A real request that no funding instrument is for (a shop's stock, a party, a personal loan), with its page."""

    id: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    lang: Literal["nl", "en"]
    source: HttpUrl | None = None


class PartnerCase(_Record):
    """A real collaborative project (corpora/partner_cases_real.yaml): its description with partner names and places
    removed, the applicant's region (the Dutch partner), and the regions its other partners really came from."""

    id: str = Field(min_length=1, max_length=200)
    projects: tuple[str, ...] = ()  # its own entries in partner_evidence.yaml (by project name)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    lang: Literal["nl", "en", "de", "fr"]
    region: RegionCode
    partner_regions: tuple[RegionCode, ...] = Field(min_length=1)
    programme: str = Field(min_length=1)  # the instrument that paid, an id of the corpus
    source: HttpUrl
    as_of: dt.date | None = None

    @field_validator("partner_regions")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return distinct_regions(value)
