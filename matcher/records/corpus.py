"""Corpus records: themes, instruments, regions, collaborations, funded projects and the reference tables (gazetteer,
mappings), plus the codes they use.

Corpus records reject unknown fields so a typo in a YAML file is reported instead of silently ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
    model_validator,
)

PROVINCES: dict[str, str] = {
    "NL-GR": "Groningen",
    "NL-FR": "Fryslân",
    "NL-DR": "Drenthe",
    "NL-OV": "Overijssel",
    "NL-FL": "Flevoland",
    "NL-GE": "Gelderland",
    "NL-UT": "Utrecht",
    "NL-NH": "Noord-Holland",
    "NL-ZH": "Zuid-Holland",
    "NL-ZE": "Zeeland",
    "NL-NB": "Noord-Brabant",
    "NL-LI": "Limburg",
}
NEIGHBOURS: dict[str, str] = {
    "BE-VLG": "Vlaanderen",
    "BE-WAL": "Wallonië",
    "DE-NW": "Nordrhein-Westfalen",
    "DE-NI": "Niedersachsen",
}
WIDE_AREAS: dict[str, str] = {"NL": "Nederland", "EU": "Europese Unie"}
REGION_CODES: dict[str, str] = {**PROVINCES, **NEIGHBOURS, **WIDE_AREAS}

ApplicantType = Literal["sme", "startup", "large_enterprise", "knowledge_institution", "public_body", "nonprofit"]
APPLICANT_TYPES: tuple[str, ...] = (
    "sme",
    "startup",
    "large_enterprise",
    "knowledge_institution",
    "public_body",
    "nonprofit",
)
Level = Literal["eu", "national", "provincial", "regional", "municipal"]
InstrumentType = Literal["grant", "loan", "equity", "guarantee", "tax", "voucher", "programme"]
Status = Literal["open", "closed", "rolling", "expected"]
# How a scheme recurs: permanently open, a new round most years, a single window, or stopped.
Recurrence = Literal["rolling", "annual", "one_off", "ended"]
# Project stages an instrument serves (its facet), and the hard requirements an applicant must meet.
Stage = Literal[
    "idea",
    "feasibility",
    "research",
    "prototype",
    "demonstration",
    "market_introduction",
    "scale_up",
    "investment",
    "training",
    "operations",
]
Requirement = Literal[
    "international_consortium",
    "research_organisation",
    "researcher_mobility",
    "network_of_european_interest",
    "farmer",
    "fisheries",
    "cooperative",
    "cultural_organisation",
    "public_partner",
    "earthquake_damage",
    "innovation",
]
# The two kinds of hard requirement, one home for both the text's cues and the checks: what the project must be
# (a text describing a project without naming it misses them) and who must apply (another party does not count).
ABOUT_THE_PROJECT: frozenset[str] = frozenset(
    {"researcher_mobility", "network_of_european_interest", "earthquake_damage", "innovation"}
)
ABOUT_THE_APPLICANT: frozenset[str] = frozenset(
    {"farmer", "fisheries", "cooperative", "cultural_organisation", "research_organisation"}
)
Eligibility = Literal["eligible", "unknown", "ineligible"]
CheckStatus = Literal["met", "missed", "unknown"]
# EU structural fund families: EFRO (ERDF: innovation, regional economy) and ESF (ESF+: labour market, skills).
Fund = Literal["EFRO", "ESF"]


def _known_region(value: str) -> str:
    if value not in REGION_CODES:
        raise ValueError(f"not a known region code; use one of {', '.join(REGION_CODES)}")
    return value


RegionCode = Annotated[str, AfterValidator(_known_region)]
ID_PATTERN = r"^(eu|nl|prov|rom|mun)-[a-z0-9]+(-[a-z0-9]+)*$"
MAX_TEXT_CHARS = 20_000
Word = Annotated[str, StringConstraints(min_length=1)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(_Record):
    url: HttpUrl
    as_of: dt.date


class Round(_Record):
    """One call window of an instrument, with its own source: `closes` absent means open until further notice."""

    name: str | None = None
    opens: dt.date | None = None
    closes: dt.date | None = None
    budget_eur: float | None = Field(default=None, gt=0)
    # The source (on its date) said the round had not opened yet and gave no opening date (a forthcoming EU call).
    forthcoming: bool = False
    source: Source | None = None

    @model_validator(mode="after")
    def _order(self) -> Round:
        if self.opens is not None and self.closes is not None and self.opens > self.closes:
            raise ValueError(f"round closes {self.closes} before it opens {self.opens}")
        return self


class NextRound(_Record):
    """A future round that a source announces (only then is it recorded)."""

    opens: dt.date
    source: Source


LEGACY_DATES = ("opens", "closes", "status")


class Theme(_Record):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    priority: bool = False
    keywords: tuple[str, ...] = ()


class Instrument(_Record):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    name_en: str | None = None
    level: Level
    administrator: str = Field(min_length=1)
    regions: tuple[str, ...] = Field(min_length=1)
    applicant_types: tuple[ApplicantType, ...] = Field(min_length=1)
    instrument_type: InstrumentType
    themes: tuple[str, ...] = Field(min_length=1)
    summary: str = Field(min_length=20)
    summary_en: str | None = None
    criteria: tuple[str, ...] = Field(min_length=1)
    keywords: tuple[str, ...] = ()
    how_to_apply: str | None = None
    funding_rate: float | None = Field(default=None, gt=0, le=1)
    min_amount_eur: float | None = Field(default=None, ge=0)
    max_amount_eur: float | None = Field(default=None, gt=0)
    min_partners: int | None = Field(default=None, ge=1)
    trl_min: int | None = Field(default=None, ge=1, le=9)
    trl_max: int | None = Field(default=None, ge=1, le=9)
    recurrence: Recurrence | None = None
    rounds: tuple[Round, ...] = ()
    next_round: NextRound | None = None
    stages: tuple[Stage, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    municipalities: tuple[Word, ...] = ()
    languages: tuple[str, ...] = ()
    source: Source
    sources: tuple[Source, ...] = ()
    # Optional, filled by importers (Funding & Tenders topics) or for programmes paid from a structural fund.
    programme: str | None = None
    call_id: str | None = None
    type_of_action: str | None = None
    expected_grants: int | None = Field(default=None, ge=0)
    funds: tuple[Fund, ...] = ()
    # A call of a programme (an imported Funding & Tenders topic): the id of the programme instrument it belongs to.
    # The ranking shows the programme once, with its best-fitting calls under it (`Match.calls`).
    parent: str | None = Field(default=None, pattern=ID_PATTERN)

    @model_validator(mode="before")
    @classmethod
    def _no_stored_status(cls, data: object) -> object:
        if isinstance(data, dict):
            legacy = [k for k in LEGACY_DATES if k in data]
            if legacy:
                raise ValueError(
                    f"record-level {', '.join(legacy)} are replaced by 'recurrence' and 'rounds' "
                    "(each round with opens/closes and its source; see corpora/README.md)"
                )
        return data

    @model_validator(mode="after")
    def _ranges(self) -> Instrument:
        if self.min_amount_eur is not None and self.max_amount_eur is not None:
            if self.min_amount_eur > self.max_amount_eur:
                raise ValueError("min_amount_eur is larger than max_amount_eur")
        if self.trl_min is not None and self.trl_max is not None and self.trl_min > self.trl_max:
            raise ValueError("trl_min is larger than trl_max")
        self._check_rounds()
        prefix = self.id.split("-", 1)[0]
        expected = {
            "eu": ("eu",),
            "nl": ("national",),
            "prov": ("provincial",),
            "rom": ("regional",),
            "mun": ("municipal",),
        }[prefix]
        if self.level not in expected:
            raise ValueError(f"id prefix '{prefix}-' needs level {expected[0]!r}, got {self.level!r}")
        if self.parent == self.id:
            raise ValueError(f"parent {self.parent!r} is the record itself")
        return self

    def _check_rounds(self) -> None:
        """Stored dates must not contradict each other: rounds in order and apart, an ended scheme not still open."""
        if self.recurrence is None and not self.rounds:
            raise ValueError("give 'recurrence' (rolling, annual, one_off, ended) or 'rounds' (or both)")
        dated = [r for r in self.rounds if r.opens is not None or r.closes is not None]
        for before, after in zip(dated, dated[1:], strict=False):
            end, start = before.closes or before.opens, after.opens or after.closes
            if before.closes is None or (start is not None and end is not None and start <= end):
                raise ValueError(
                    f"rounds overlap or are out of order: {_span(before)} and {_span(after)} (list them oldest first)"
                )
        if self.recurrence == "ended" and dated and dated[-1].closes is None:
            raise ValueError("recurrence 'ended' but the last round has no closing date")
        if self.next_round is not None and dated:
            last = dated[-1].closes or dated[-1].opens
            if last is not None and self.next_round.opens <= last:
                raise ValueError(
                    f"next_round opens {self.next_round.opens}, not after the last round ({_span(dated[-1])})"
                )
        if self.recurrence == "ended" and self.next_round is not None:
            raise ValueError("recurrence 'ended' contradicts an announced next_round")


def _span(r: Round) -> str:
    return f"{r.opens or '?'}..{r.closes or 'open'}"


class Region(_Record):
    code: str
    name: str = Field(min_length=1)
    name_en: str | None = None
    landsdeel: str = Field(min_length=1)
    rom: str | None = None
    efro_programme: str | None = None
    interreg_programmes: tuple[str, ...] = ()
    neighbours: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    strengths: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    summary: str = Field(min_length=1)
    source: Source
    sources: tuple[Source, ...] = ()


class Collaboration(_Record):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    regions: tuple[str, ...] = Field(min_length=2)
    themes: tuple[str, ...] = Field(min_length=1)
    summary: str = Field(min_length=1)
    source: Source
    sources: tuple[Source, ...] = ()


class PageSource(_Record):
    """A page a derived fact comes from, with the date it describes when the page gives one."""

    url: HttpUrl
    as_of: dt.date | None = None


def distinct_regions(value: tuple[str, ...]) -> tuple[str, ...]:
    """A list of region codes, refused when one is listed twice (partner evidence and partner cases)."""
    if len(set(value)) != len(value):
        raise ValueError(f"regions listed twice: {', '.join(value)}")
    return value


class JointProject(_Record):
    """A real project that joined partners from several regions (corpora/partner_evidence.yaml): derived facts with
    the page they came from, no text. Counted per pair of regions and theme as evidence for partner regions."""

    project: str = Field(min_length=1, max_length=300)
    programme: str = Field(min_length=1)  # the instrument that paid, an id of the corpus
    regions: tuple[str, ...] = Field(min_length=2)  # the regions (of the 16) its partners sit in
    themes: tuple[str, ...] = Field(min_length=1)  # most defining first
    source: PageSource

    @field_validator("regions")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return distinct_regions(value)


class FundedProject(_Record):
    """One operation from a list of operations of an EU structural fund: who got how much for what."""

    id: str = Field(min_length=1)
    beneficiary: str = ""
    title: str = Field(min_length=1)
    title_en: str | None = None
    summary: str = ""
    fund: Fund
    eu_subsidy_eur: float | None = Field(default=None, ge=0)
    total_cost_eur: float | None = Field(default=None, ge=0)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    province: RegionCode | None = None
    source: str = ""  # file and line it was imported from

    @property
    def year(self) -> int | None:
        return self.start_date.year if self.start_date else (self.end_date.year if self.end_date else None)


class RegionPlaces(_Record):
    """Words that place a text in one region: names of the region and its parts, adjectives, main cities and towns."""

    names: tuple[Word, ...] = ()
    adjectives: tuple[Word, ...] = ()
    cities: tuple[Word, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        return (*self.names, *self.adjectives, *self.cities)


class PlaceSource(_Record):
    """Where a list of place names comes from."""

    url: HttpUrl
    as_of: dt.date
    note: str | None = None


class Gazetteer(_Record):
    """corpora/places.yaml: words per region code, country words per country, and compound place names.

    `compounds` maps a region code to names that contain another region's name but lie in this region
    (Zeeuws-Vlaanderen is in Zeeland). `towns` lists every municipality and the towns people name, per region code,
    read like `cities`; a name in `in_context` ("Best", "Goes") is also an everyday word and counts only right after
    a place word ("in Best"). Codes are checked against the region codes when the corpus is loaded.
    """

    regions: dict[str, RegionPlaces] = Field(default_factory=dict)
    countries: dict[str, tuple[Word, ...]] = Field(default_factory=dict)
    compounds: dict[str, tuple[Word, ...]] = Field(default_factory=dict)
    sources: tuple[PlaceSource, ...] = ()
    towns: dict[str, dict[Word, tuple[Word, ...]]] = Field(default_factory=dict)
    in_context: tuple[Word, ...] = ()

    def cities_of(self, code: str) -> tuple[str, ...]:
        """The region's cities, municipalities and towns: the places an applicant names as where it is."""
        entry = self.regions.get(code)
        listed = self.towns.get(code, {})
        return (
            *(entry.cities if entry is not None else ()),
            *listed,
            *(name for names in listed.values() for name in names),
        )


class FtProgramme(_Record):
    """What a Funding & Tenders programme says about its topics: a theme of ours, the structural-fund families."""

    theme: str | None = None
    funds: tuple[Fund, ...] = ()


class H2020Part(_Record):
    """A Horizon 2020 programme part whose subject matches themes of ours."""

    name: str = Field(min_length=1)
    themes: tuple[str, ...] = Field(min_length=1)


class Mappings(_Record):
    """corpora/mappings.yaml: outside classifications mapped onto ours, and the instruments of benchmarks.

    Theme and instrument ids are checked against the corpus when it is loaded.
    """

    ft_programmes: dict[str, FtProgramme] = Field(default_factory=dict)
    h2020_parts: dict[str, H2020Part] = Field(default_factory=dict)
    fund_routing: dict[Fund, tuple[str, ...]] = Field(default_factory=dict)  # instrument ids per fund family
    # Funding & Tenders topic-id prefixes -> the programme instrument whose calls they are (None: a call of its own).
    ft_parents: dict[Word, str | None] = Field(default_factory=dict)
    # Sites whose pages are official (primary) sources: a host equal to or ending in ".<site>" (`matcher audit`).
    official_sites: tuple[Word, ...] = ()
