"""Layer 0, records: the typed values passed between every other layer, and nothing else (no I/O, no logic).

- `corpus`: what the corpora hold (`Instrument`, `Theme`, `Region`, `Collaboration`, `FundedProject`), their
  reference tables (`Gazetteer`, `Mappings`) and the codes they use (region codes, applicant types, levels);
- `proposal`: what an applicant brings (`Proposal`) and a labelled case (`DevCase`);
- `results`: what the engine answers (`MatchResult`, `Match`, `CriterionCheck`, `PartnerRegion`, `SimilarProject`).

    >>> from matcher.records import Proposal
    >>> Proposal(text="Wij ontwikkelen een oogstrobot", region="NL-ZH").id
    'p1'
"""

from matcher.records.corpus import (
    APPLICANT_TYPES,
    ID_PATTERN,
    MAX_TEXT_CHARS,
    NEIGHBOURS,
    PROVINCES,
    REGION_CODES,
    WIDE_AREAS,
    ApplicantType,
    CheckStatus,
    Collaboration,
    Eligibility,
    FtProgramme,
    Fund,
    FundedProject,
    Gazetteer,
    H2020Part,
    Instrument,
    InstrumentType,
    Level,
    Mappings,
    NextRound,
    Recurrence,
    Region,
    RegionCode,
    RegionPlaces,
    Requirement,
    Round,
    Source,
    Stage,
    Status,
    Theme,
)
from matcher.records.proposal import DevCase, OutOfScopeCase, Proposal
from matcher.records.results import (
    DEFAULT_TOP,
    CriterionCheck,
    Match,
    MatchResult,
    PartnerRegion,
    ReadFact,
    Reason,
    SimilarProject,
)

__all__ = [
    "DEFAULT_TOP",
    "APPLICANT_TYPES",
    "ID_PATTERN",
    "MAX_TEXT_CHARS",
    "NEIGHBOURS",
    "PROVINCES",
    "REGION_CODES",
    "WIDE_AREAS",
    "ApplicantType",
    "CheckStatus",
    "Collaboration",
    "CriterionCheck",
    "DevCase",
    "Eligibility",
    "FtProgramme",
    "Fund",
    "FundedProject",
    "Gazetteer",
    "H2020Part",
    "Instrument",
    "InstrumentType",
    "NextRound",
    "Recurrence",
    "Requirement",
    "Round",
    "Stage",
    "Level",
    "Mappings",
    "Match",
    "OutOfScopeCase",
    "MatchResult",
    "PartnerRegion",
    "Proposal",
    "ReadFact",
    "Reason",
    "Region",
    "RegionCode",
    "RegionPlaces",
    "SimilarProject",
    "Source",
    "Status",
    "Theme",
]
