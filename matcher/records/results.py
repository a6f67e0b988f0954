"""What the engine answers: match results with their checks, partner regions and similar funded projects.

These pydantic models are the one schema of an answer: the engine builds them, the CLI and the service serialise
them (`to_dict()`, FastAPI's `response_model`), and `/openapi.json` documents exactly them.

The engine says *why* in codes (`Reason`: a message id and its parameters), never in sentences; the front door turns
them into Dutch or English (`matcher.text.i18n.localise`) and fills `why`, `next_steps`, `detail` and partner `why`.

    >>> check = CriterionCheck(criterion="region", status="met", reason=Reason(code="check.region.met"))
    >>> check.detail
    ''
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from matcher.records.corpus import CheckStatus, Eligibility, InstrumentType, Level

DEFAULT_TOP = 10  # matches per result unless asked otherwise


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True, slots=True)
class Reason:
    """A message id of the catalogues (`matcher/locales`) and the values it is filled with.

    A plain dataclass, not a model: a triage of 250 proposals makes ~35,000 of them, and building a pydantic model
    costs ~16 us where this costs under 1 us (measured 2026-12-01). Pydantic still documents and reads it.
    """

    code: str
    params: dict[str, Any] = field(default_factory=dict)


class CriterionCheck(_Result):
    criterion: str = Field(description="region, applicant_type, budget, trl, partners or deadline")
    status: CheckStatus
    detail: str = Field(default="", description="the reason in the language asked for")
    reason: Reason


class ReadFact(_Result):
    """A fact the engine read from the proposal text, with the words it was read from."""

    value: str | int | float
    evidence: str = Field(description="the words of the text the value was read from")


class PartnerRegion(_Result):
    region: str
    name: str
    score: float = Field(ge=0, le=1)
    why: tuple[str, ...] = ()
    why_codes: tuple[Reason, ...] = ()


class SimilarProject(_Result):
    """A funded project close to the proposal, paid from the fund family of the matched instrument."""

    id: str
    title: str
    beneficiary: str
    fund: str
    eu_subsidy_eur: float | None
    year: int | None
    province: str | None
    similarity: float = Field(description="cosine of proposal and project text")


class CallMatch(_Result):
    """A call of a matched programme (an imported Funding & Tenders topic whose `parent` the programme is)."""

    instrument_id: str
    name: str
    score: float = Field(ge=0, le=1, description="the call's own fit, ranked by the same signals as instruments")
    closes: dt.date | None = Field(default=None, description="the call's deadline")
    deadline: CriterionCheck | None = Field(default=None, description="the call's deadline check (none: fit only)")
    source_url: str


class Match(_Result):
    instrument_id: str
    name: str
    level: Level
    regions: tuple[str, ...]
    score: float = Field(ge=0, le=1, description="higher is a better fit")
    eligibility: Eligibility
    checks: tuple[CriterionCheck, ...]
    why: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    instrument_type: InstrumentType
    administrator: str
    source_url: str
    similar_projects: tuple[SimilarProject, ...] = ()
    calls: tuple[CallMatch, ...] = Field(
        default=(), description="a programme's best-fitting calls that can be applied for, best first"
    )
    why_codes: tuple[Reason, ...] = ()
    next_step_codes: tuple[Reason, ...] = ()


def best_fit(matches: Sequence[Match], among: frozenset[str] | None = None) -> float:
    """The highest score of a match that is not ineligible (only ids in `among` when given); 0.0 when none.

    What the weak-match threshold is compared with, by the triage flag, the calibration and the gap analysis alike.
    """
    scores = [m.score for m in matches if m.eligibility != "ineligible" and (among is None or m.instrument_id in among)]
    return max(scores, default=0.0)


def is_weak(matches: Sequence[Match], themes: Sequence[str], threshold: float, outside: bool | None = None) -> bool:
    """No instrument fits well: the one decision behind the `weak_match` flag and the gap analysis's unmet demand.

    With a scope model (`outside` given: True when it says the text asks for something no instrument is for), that
    model decides, together with texts about none of the taxonomy's topics; the best-fit threshold, which separated
    in-scope from out-of-scope texts worse (cross-validated on 2026-12-01: 34 of 36 real out-of-scope requests
    flagged either way, 9 of 198 in-scope texts flagged with the threshold, 8 without it), then stays out. Without a
    scope model, the best fit below the threshold or no theme.
    """
    if outside is not None:
        return outside or not themes
    return not themes or best_fit(matches) < threshold


class MatchResult(_Result):
    """The match JSON of CONTRACT.md for one proposal: matches best first, ineligible ones last."""

    proposal_id: str
    matches: tuple[Match, ...]
    partner_regions: tuple[PartnerRegion, ...] = ()
    themes: tuple[str, ...] = ()
    language: str = Field(default="nl", description="language of the proposal text (nl or en)")
    lang: str | None = Field(default=None, description="language of why, next_steps and details (nl or en)")
    flags: tuple[str, ...] = ()
    read_from_text: dict[str, ReadFact] = Field(
        default_factory=dict,
        description="facts read from the text (region, applicant_type, budget_eur, partners, trl, stage) that the "
        "user did not give; the eligibility checks use them",
    )
    notice: str | None = Field(
        default=None,
        description="a sentence for the whole result in the language asked for: that no instrument fits well "
        "(with the flag weak_match; the best candidates are still listed, as weak)",
    )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists, not tuples). Through JSON: pydantic writes JSON in 0.27 ms per result where
        building the Python dict directly takes 1.9 ms (measured 2026-12-01), and parsing it back is cheap."""
        data: dict[str, Any] = json.loads(self.model_dump_json())
        return data
