"""What the engine answers: match results with their checks, partner regions and similar funded projects.

Built by the engine from validated records, so plain frozen dataclasses (cheap on the hot path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matcher.records.corpus import CheckStatus, Eligibility, InstrumentType, Level


@dataclass(frozen=True, slots=True)
class CriterionCheck:
    criterion: str
    status: CheckStatus
    detail: str


@dataclass(frozen=True, slots=True)
class PartnerRegion:
    region: str
    name: str
    score: float  # in [0, 1]
    why: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SimilarProject:
    """A funded project close to the proposal, paid from the fund family of the matched instrument."""

    id: str
    title: str
    beneficiary: str
    fund: str
    eu_subsidy_eur: float | None
    year: int | None
    province: str | None
    similarity: float  # cosine of proposal and project text

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "beneficiary": self.beneficiary,
            "fund": self.fund,
            "eu_subsidy_eur": self.eu_subsidy_eur,
            "year": self.year,
            "province": self.province,
            "similarity": self.similarity,
        }


@dataclass(frozen=True, slots=True)
class Match:
    instrument_id: str
    name: str
    level: Level
    regions: tuple[str, ...]
    score: float  # in [0, 1], higher is a better fit
    eligibility: Eligibility
    checks: tuple[CriterionCheck, ...]
    why: tuple[str, ...]
    next_steps: tuple[str, ...]
    instrument_type: InstrumentType
    administrator: str
    source_url: str
    similar_projects: tuple[SimilarProject, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The match JSON of CONTRACT.md for one proposal (`to_dict()` gives it)."""

    proposal_id: str
    matches: tuple[Match, ...]
    partner_regions: tuple[PartnerRegion, ...] = ()
    themes: tuple[str, ...] = ()
    language: str = "nl"
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists, not tuples); shallow and fast, unlike `dataclasses.asdict`."""
        return {
            "proposal_id": self.proposal_id,
            "matches": [
                {
                    "instrument_id": m.instrument_id,
                    "name": m.name,
                    "level": m.level,
                    "regions": list(m.regions),
                    "score": m.score,
                    "eligibility": m.eligibility,
                    "checks": [{"criterion": c.criterion, "status": c.status, "detail": c.detail} for c in m.checks],
                    "why": list(m.why),
                    "next_steps": list(m.next_steps),
                    "instrument_type": m.instrument_type,
                    "administrator": m.administrator,
                    "source_url": m.source_url,
                    "similar_projects": [s.to_dict() for s in m.similar_projects],
                }
                for m in self.matches
            ],
            "partner_regions": [
                {"region": p.region, "name": p.name, "score": p.score, "why": list(p.why)} for p in self.partner_regions
            ],
            "themes": list(self.themes),
            "language": self.language,
            "flags": list(self.flags),
        }
