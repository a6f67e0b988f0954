"""Eligibility checks from structured fields: pure functions of an instrument, a proposal and a date.

A check exists only where the instrument states a condition; it is `met`, `missed`, or `unknown` when the proposal
does not give the information. Any miss makes the instrument `ineligible`; otherwise any unknown makes it `unknown`.
Each check says why in a reason code with its values (`check.budget.capped`, `max_eur=...`), never in a sentence:
`matcher.text.i18n` words it in the language asked for.

    >>> checks = check_all(instrument, proposal, as_of=date(2026, 11, 30))
    >>> overall(checks)
    'eligible'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Final, NamedTuple

from matcher.records import (
    ABOUT_THE_APPLICANT,
    ABOUT_THE_PROJECT,
    CheckStatus,
    CriterionCheck,
    Eligibility,
    Instrument,
    Proposal,
    Reason,
)
from matcher.rules.availability import Availability, covers, may_apply, window
from matcher.text.facts import requirement_cues
from matcher.text.language import reason
from matcher.text.themes import fold

CRITERIA: Final = (
    "region",
    "municipality",
    "applicant_type",
    "budget",
    "trl",
    "partners",
    "requirement",
    "deadline",
)

# Hard requirements about who applies (`records.ABOUT_THE_APPLICANT`): applicant types that cannot meet them
# (unknown for the others, met on a cue).
CANNOT_MEET: Final[dict[str, frozenset[str]]] = {
    "research_organisation": frozenset({"sme", "startup", "large_enterprise", "public_body", "nonprofit"}),
    "farmer": frozenset({"knowledge_institution", "public_body"}),
    "fisheries": frozenset({"knowledge_institution", "public_body"}),
    "cultural_organisation": frozenset({"knowledge_institution", "public_body"}),
    "cooperative": frozenset({"knowledge_institution", "public_body", "large_enterprise"}),
}
MIN_WORDS_TO_JUDGE: Final = 8  # a shorter text does not describe a project well enough to call a requirement missed


class Check(NamedTuple):
    """A criterion check while ranking; `record()` turns it into the public `CriterionCheck`."""

    criterion: str
    status: CheckStatus
    reason: Reason

    def record(self) -> CriterionCheck:
        return CriterionCheck.model_construct(criterion=self.criterion, status=self.status, reason=self.reason)


def check_region(inst: Instrument, prop: Proposal) -> Check:
    area = list(inst.regions)
    if prop.region is None:
        return Check("region", "unknown", reason("check.region.unknown", area=area))
    if covers(inst.regions, prop.region):
        return Check("region", "met", reason("check.region.met", region=prop.region, area=area))
    return Check("region", "missed", reason("check.region.missed", region=prop.region, area=area))


def check_municipality(inst: Instrument, prop: Proposal, home: str | None = None) -> Check | None:
    """For a scheme limited to some municipalities: met when the text names one of them; missed when the text places
    the applicant in another municipality (`home`, from `text.places.home_municipality`); else unknown."""
    if not inst.municipalities:
        return None
    named = _named_municipality(inst.municipalities, prop.text)
    if named is None and home is not None and fold(home) in {fold(m) for m in inst.municipalities}:
        named = home  # named by one of its towns ("IJmuiden" lies in Velsen)
    if named is not None:
        return Check("municipality", "met", reason("check.municipality.met", municipality=named))
    if home is not None:
        area = list(inst.municipalities)
        return Check("municipality", "missed", reason("check.municipality.missed", municipality=home, area=area))
    return Check("municipality", "unknown", reason("check.municipality.unknown", area=list(inst.municipalities)))


def _named_municipality(municipalities: tuple[str, ...], text: str) -> str | None:
    folded = fold(text)
    for name in municipalities:
        if re.search(r"(?<!\w)" + re.escape(fold(name)) + r"(?!\w)", folded):
            return name
    return None


def check_applicant(inst: Instrument, prop: Proposal) -> Check:
    allowed = list(inst.applicant_types)
    if prop.applicant_type is None:
        return Check("applicant_type", "unknown", reason("check.applicant_type.unknown", allowed=allowed))
    if prop.applicant_type in inst.applicant_types:
        return Check("applicant_type", "met", reason("check.applicant_type.met", applicant=prop.applicant_type))
    if may_apply(inst.applicant_types, prop.applicant_type):  # a start-up where SMEs may apply
        return Check("applicant_type", "met", reason("check.applicant_type.startup_as_sme"))
    return Check("applicant_type", "missed", reason("check.applicant_type.missed", allowed=allowed))


def check_budget(inst: Instrument, prop: Proposal) -> Check | None:
    lo, hi, rate = inst.min_amount_eur, inst.max_amount_eur, inst.funding_rate
    if lo is None and hi is None:
        return None
    span = [x for x in (lo, hi) if x is not None]
    if prop.budget_eur is None:
        return Check("budget", "unknown", reason("check.budget.unknown", range_eur=span))
    reachable = prop.budget_eur * (rate or 1.0)
    if lo is not None and reachable < lo:
        return Check("budget", "missed", reason("check.budget.missed", min_eur=lo))
    if hi is not None and reachable > hi:
        return Check("budget", "met", reason("check.budget.capped", max_eur=hi, budget_eur=prop.budget_eur))
    return Check("budget", "met", reason("check.budget.met", budget_eur=prop.budget_eur, range_eur=span))


def check_trl(inst: Instrument, prop: Proposal) -> Check | None:
    lo, hi = inst.trl_min, inst.trl_max
    if lo is None and hi is None:
        return None
    span = {"min": lo or 1, "max": hi or 9}
    if prop.trl is None:
        return Check("trl", "unknown", reason("check.trl.unknown", **span))
    if (lo is not None and prop.trl < lo) or (hi is not None and prop.trl > hi):
        return Check("trl", "missed", reason("check.trl.missed", trl=prop.trl, **span))
    return Check("trl", "met", reason("check.trl.met", trl=prop.trl, **span))


def check_partners(inst: Instrument, prop: Proposal, read: bool = False) -> Check | None:
    """Met from `min_partners` on; below it missed, or unknown where the number was read from the text (`read`): a
    text names at least that many organisations ("met een bouwbedrijf en de TU Delft" counts two)."""
    need = inst.min_partners
    if need is None or need <= 1:
        return None
    if prop.partners is None:
        return Check("partners", "unknown", reason("check.partners.unknown", needed=need))
    if prop.partners < need and read:
        return Check("partners", "unknown", reason("check.partners.read", partners=prop.partners, needed=need))
    if prop.partners < need:
        return Check("partners", "missed", reason("check.partners.missed", partners=prop.partners, needed=need))
    return Check("partners", "met", reason("check.partners.met", partners=prop.partners, needed=need))


def check_requirements(inst: Instrument, prop: Proposal) -> tuple[Check, ...]:
    """One check per hard requirement of the instrument (`requirements`), from the text's cues and the facts known.

    Met when the text speaks to it (or the applicant type is the one required); missed when the applicant type cannot
    meet it, a lone applicant meets an international consortium, or a project text of some length does not mention
    what the instrument funds (researcher mobility, a network of European interest, earthquake damage); else unknown.
    """
    if not inst.requirements:
        return ()
    cues = requirement_cues(prop.text)
    words = len(prop.text.split())
    out: list[Check] = []
    for need in inst.requirements:
        said = cues.get(need)
        if need == "research_organisation" and prop.applicant_type == "knowledge_institution":
            said = said or prop.applicant_type
        if need == "public_partner" and prop.applicant_type == "public_body":
            said = said or prop.applicant_type
        if said is not None:
            out.append(Check("requirement", "met", reason("check.requirement.met", requirement=need, words=said)))
        elif need in ABOUT_THE_PROJECT and words >= MIN_WORDS_TO_JUDGE:
            out.append(Check("requirement", "missed", reason("check.requirement.not_described", requirement=need)))
        elif need in ABOUT_THE_APPLICANT and prop.applicant_type in CANNOT_MEET[need]:
            missed = reason("check.requirement.applicant", requirement=need, applicant=prop.applicant_type)
            out.append(Check("requirement", "missed", missed))
        elif need == "international_consortium" and prop.partners == 1:
            out.append(Check("requirement", "missed", reason("check.requirement.alone", requirement=need)))
        else:
            out.append(Check("requirement", "unknown", reason("check.requirement.unknown", requirement=need)))
    return tuple(out)


STATUS_OF: dict[Availability, CheckStatus] = {"open": "met", "closed": "missed", "uncertain": "unknown"}


def check_open(inst: Instrument, as_of: dt.date, calls: Sequence[Instrument] = ()) -> Check:
    """The deadline check: the instrument's call window on `as_of` (`availability.window`, over its `calls` for a
    programme with calls) as met, missed or unknown."""
    found = window(inst, as_of, calls)
    return Check("deadline", STATUS_OF[found.state], reason(found.code, **found.params))


def check_all(
    inst: Instrument,
    prop: Proposal,
    as_of: dt.date | None,
    deadline: Check | None = None,
    requirements: tuple[Check, ...] | None = None,
    home: str | None = None,
    partners_read: bool = False,
) -> tuple[Check, ...]:
    """Every check of `inst` for `prop`; `as_of=None` leaves availability out (fit only, as `evaluate` also ranks).

    `deadline` is `check_open(inst, as_of)` and `requirements` is `check_requirements(inst, prop)` when the caller
    has them already (the ranking reads them once per day and once per proposal); `home` is the municipality the
    text places the applicant in, where the caller read it (`text.places.home_municipality`); `partners_read` says
    the number of partners was read from the text (`check_partners`)."""
    if as_of is not None and deadline is None:
        deadline = check_open(inst, as_of)
    if requirements is None:
        requirements = check_requirements(inst, prop)
    checks = (
        check_region(inst, prop),
        check_municipality(inst, prop, home),
        check_applicant(inst, prop),
        check_budget(inst, prop),
        check_trl(inst, prop),
        check_partners(inst, prop, partners_read),
        *requirements,
        deadline,
    )
    return tuple(c for c in checks if c is not None)


def overall(checks: tuple[Check, ...]) -> Eligibility:
    statuses = {c.status for c in checks}
    if "missed" in statuses:
        return "ineligible"
    if "unknown" in statuses:
        return "unknown"
    return "eligible"
