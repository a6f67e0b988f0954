"""Eligibility checks from structured fields: pure functions of an instrument, a proposal and a date.

A check exists only where the instrument states a condition; it is `met`, `missed`, or `unknown` when the proposal
does not give the information. Any miss makes the instrument `ineligible`; otherwise any unknown makes it `unknown`.

    >>> checks = check_all(instrument, proposal, as_of=date(2026, 11, 30))
    >>> overall(checks)
    'eligible'
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from matcher.records import CheckStatus, CriterionCheck, Eligibility, Instrument, Proposal, Reason
from matcher.rules.availability import Availability, covers, may_apply, window
from matcher.text.language import euro, say


class Check(NamedTuple):
    """A criterion check while ranking; `record()` turns it into the public `CriterionCheck`."""

    criterion: str
    status: CheckStatus
    detail: str

    def record(self) -> CriterionCheck:
        return CriterionCheck(
            criterion=self.criterion,
            status=self.status,
            detail=self.detail,
            reason=Reason(code=f"check.{self.criterion}.{self.status}"),
        )


def _check(criterion: str, status: CheckStatus, detail: str) -> Check:
    return Check(criterion, status, detail)


def check_region(inst: Instrument, prop: Proposal, lang: str) -> Check:
    area = ", ".join(inst.regions)
    if prop.region is None:
        return _check(
            "region",
            "unknown",
            say(lang, f"Werkgebied: {area}; regio niet opgegeven", f"Area: {area}; region not given"),
        )
    if covers(inst.regions, prop.region):
        return _check(
            "region", "met", say(lang, f"{prop.region} valt binnen {area}", f"{prop.region} lies within {area}")
        )
    return _check(
        "region", "missed", say(lang, f"{prop.region} valt buiten {area}", f"{prop.region} lies outside {area}")
    )


def check_applicant(inst: Instrument, prop: Proposal, lang: str) -> Check:
    allowed = ", ".join(inst.applicant_types)
    if prop.applicant_type is None:
        return _check(
            "applicant_type",
            "unknown",
            say(lang, f"Voor: {allowed}; type aanvrager niet opgegeven", f"For: {allowed}; applicant type not given"),
        )
    if prop.applicant_type in inst.applicant_types:
        return _check(
            "applicant_type",
            "met",
            say(lang, f"{prop.applicant_type} mag aanvragen", f"{prop.applicant_type} may apply"),
        )
    if may_apply(inst.applicant_types, prop.applicant_type):  # a start-up where SMEs may apply
        return _check("applicant_type", "met", say(lang, "start-up telt als mkb", "a start-up counts as an SME"))
    return _check("applicant_type", "missed", say(lang, f"Alleen voor: {allowed}", f"Only for: {allowed}"))


def check_budget(inst: Instrument, prop: Proposal, lang: str) -> Check | None:
    lo, hi, rate = inst.min_amount_eur, inst.max_amount_eur, inst.funding_rate
    if lo is None and hi is None:
        return None
    span = " - ".join(euro(x) for x in (lo, hi) if x is not None)
    if prop.budget_eur is None:
        return _check(
            "budget",
            "unknown",
            say(
                lang, f"Bijdrage {span}; projectbudget niet opgegeven", f"Contribution {span}; project budget not given"
            ),
        )
    reachable = prop.budget_eur * (rate or 1.0)
    if lo is not None and reachable < lo:
        return _check(
            "budget",
            "missed",
            say(
                lang,
                f"Project te klein: minimale bijdrage {euro(lo)}",
                f"Project too small: minimum contribution {euro(lo)}",
            ),
        )
    if hi is not None and reachable > hi:
        return _check(
            "budget",
            "met",
            say(
                lang,
                f"Bijdrage begrensd op {euro(hi)} van {euro(prop.budget_eur)}",
                f"Contribution capped at {euro(hi)} of {euro(prop.budget_eur)}",
            ),
        )
    return _check(
        "budget",
        "met",
        say(
            lang,
            f"Budget {euro(prop.budget_eur)} past bij bijdrage {span}",
            f"Budget {euro(prop.budget_eur)} fits contribution {span}",
        ),
    )


def check_trl(inst: Instrument, prop: Proposal, lang: str) -> Check | None:
    lo, hi = inst.trl_min, inst.trl_max
    if lo is None and hi is None:
        return None
    span = f"TRL {lo or 1}-{hi or 9}"
    if prop.trl is None:
        return _check("trl", "unknown", say(lang, f"Voor {span}; TRL niet opgegeven", f"For {span}; TRL not given"))
    if (lo is not None and prop.trl < lo) or (hi is not None and prop.trl > hi):
        return _check(
            "trl", "missed", say(lang, f"TRL {prop.trl} valt buiten {span}", f"TRL {prop.trl} outside {span}")
        )
    return _check("trl", "met", say(lang, f"TRL {prop.trl} valt binnen {span}", f"TRL {prop.trl} within {span}"))


def check_partners(inst: Instrument, prop: Proposal, lang: str) -> Check | None:
    need = inst.min_partners
    if need is None or need <= 1:
        return None
    if prop.partners is None:
        return _check(
            "partners",
            "unknown",
            say(
                lang, f"Minimaal {need} partners; aantal niet opgegeven", f"At least {need} partners; number not given"
            ),
        )
    if prop.partners < need:
        return _check(
            "partners",
            "missed",
            say(
                lang,
                f"{prop.partners} partner(s), minimaal {need} nodig",
                f"{prop.partners} partner(s), at least {need} needed",
            ),
        )
    return _check(
        "partners",
        "met",
        say(
            lang,
            f"{prop.partners} partners, minimaal {need} nodig",
            f"{prop.partners} partners, at least {need} needed",
        ),
    )


STATUS_OF: dict[Availability, CheckStatus] = {"open": "met", "closed": "missed", "uncertain": "unknown"}
DEADLINE_TEXT = {
    "deadline.closed_since": ("Gesloten sinds {closes}", "Closed since {closes}"),
    "deadline.last_round_closed": (
        "Laatst bekende ronde sloot op {closes}; controleer of er een nieuwe ronde is",
        "Last known round closed on {closes}; check for a new round",
    ),
    "deadline.opens_on": ("Opent op {opens}", "Opens on {opens}"),
    "deadline.open_until": ("Open tot {closes}", "Open until {closes}"),
    "deadline.closed_per_source": ("Gesloten volgens bron ({as_of})", "Closed according to source ({as_of})"),
    "deadline.rolling": ("Doorlopend aan te vragen", "Open all year"),
    "deadline.status_on": (
        "Status '{status}' op {as_of}; controleer de actuele openstelling",
        "Status '{status}' on {as_of}; check the current call",
    ),
}


def check_open(inst: Instrument, as_of: dt.date, lang: str) -> Check | None:
    """The deadline check: the instrument's call window on `as_of` (`availability.window`) as met, missed or unknown."""
    found = window(inst, as_of)
    if found is None:
        return None
    nl, en = DEADLINE_TEXT[found.code]
    return _check("deadline", STATUS_OF[found.state], say(lang, nl, en).format(**found.params))


def check_all(inst: Instrument, prop: Proposal, as_of: dt.date, lang: str = "nl") -> tuple[Check, ...]:
    checks = (
        check_region(inst, prop, lang),
        check_applicant(inst, prop, lang),
        check_budget(inst, prop, lang),
        check_trl(inst, prop, lang),
        check_partners(inst, prop, lang),
        check_open(inst, as_of, lang),
    )
    return tuple(c for c in checks if c is not None)


def overall(checks: tuple[Check, ...]) -> Eligibility:
    statuses = {c.status for c in checks}
    if "missed" in statuses:
        return "ineligible"
    if "unknown" in statuses:
        return "unknown"
    return "eligible"
