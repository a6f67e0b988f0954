"""Request models of the HTTP service: every body and query is checked here and unknown fields are rejected.

A match request is a `Proposal` plus `top`, so the proposal rules (text length, region codes, TRL range) are the
library's own and are not restated here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from matcher import Corpus, InputError, Instrument, Proposal
from matcher.eligibility import region_covers
from matcher.engine import DEFAULT_TOP
from matcher.records import ApplicantType, Level, RegionCode

MAX_TOP = 100
MAX_PROPOSALS = 500


class MatchRequest(Proposal):
    """`POST /v1/match`: one proposal and how many instruments to return."""

    top: int = Field(default=DEFAULT_TOP, ge=1, le=MAX_TOP)


class TriageRequest(BaseModel):
    """`POST /v1/triage`: rows as in a triage file (checked one by one by `proposal_from_row`)."""

    model_config = ConfigDict(extra="forbid")

    proposals: list[dict[str, Any]]
    top: int = Field(default=DEFAULT_TOP, ge=1, le=MAX_TOP)

    @field_validator("proposals")
    @classmethod
    def _at_most(cls, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(rows) > MAX_PROPOSALS:
            raise ValueError(
                f"{len(rows)} proposals; at most {MAX_PROPOSALS} per request (use `matcher triage` for more)"
            )
        return rows


class InstrumentFilter(BaseModel):
    """Query of `GET /v1/instruments`; every filter given must hold."""

    model_config = ConfigDict(extra="forbid")

    level: Level | None = None
    region: RegionCode | None = None
    theme: str | None = None
    applicant_type: ApplicantType | None = None
    open_on: dt.date | None = None

    def select(self, corpus: Corpus) -> list[Instrument]:
        """The corpus's instruments that pass every filter, in corpus order."""
        if self.theme is not None and self.theme not in corpus.theme_names():
            known = ", ".join(t.id for t in corpus.themes)
            raise InputError(f"field 'theme': value {self.theme!r}: not a theme id; use one of {known}")
        return [i for i in corpus.instruments if self.admits(i)]

    def admits(self, inst: Instrument) -> bool:
        return (
            (self.level is None or inst.level == self.level)
            and (self.region is None or region_covers(inst.regions, self.region))
            and (self.theme is None or self.theme in inst.themes)
            and (self.applicant_type is None or _applicant_covers(inst.applicant_types, self.applicant_type))
            and (self.open_on is None or _open_on(inst, self.open_on))
        )


def _applicant_covers(allowed: tuple[str, ...], applicant: str) -> bool:
    # The eligibility rule: a start-up is an SME in EU terms, so schemes open to SMEs are open to start-ups.
    return applicant in allowed or (applicant == "startup" and "sme" in allowed)


def _open_on(inst: Instrument, day: dt.date) -> bool:
    return inst.status != "closed" and (inst.closes is None or inst.closes >= day)
