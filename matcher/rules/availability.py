"""Whether an instrument can be applied for on a day, where, and by whom: the one home of each of these rules.

    >>> availability(instrument, dt.date(2026, 12, 1))
    'open'

`window` reads the stored dates and status as they stand on a day:
- `open`: the call window includes the day (opens <= day <= closes), or the scheme is rolling;
- `closed`: the last known round has passed and the source says it is closed, or the source (on or before the day)
  says it is closed and gives no dates;
- `uncertain`: anything else that the record says about dates: a round that has not opened yet, a past deadline the
  source does not call closed (most schemes open a new round each year: a past deadline is not a verdict on the next
  one), or a status without dates (it describes the source date, not the day asked about).
A record with neither dates nor status says nothing (`window` is None; `availability` calls that `uncertain`).

The ranking's deadline check (`eligibility.check_open`), the instrument filter (`catalogue`, `open_on`) and the gap
analysis's supply all ask `availability`, so "open on a day" means the same everywhere: not `closed`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from matcher.records import PROVINCES, Instrument

Availability = Literal["open", "uncertain", "closed"]


@dataclass(frozen=True)
class Window:
    """The state of an instrument's call on a day, with the reason code and its parameters."""

    state: Availability
    code: str
    params: dict[str, Any] = field(default_factory=dict)


def window(inst: Instrument, day: dt.date) -> Window | None:
    """The call window on `day` (see the module docstring); None when the record gives no dates and no status."""
    if inst.closes is not None and day > inst.closes:
        if inst.status == "closed":
            return Window("closed", "deadline.closed_since", {"closes": inst.closes.isoformat()})
        return Window("uncertain", "deadline.last_round_closed", {"closes": inst.closes.isoformat()})
    if inst.opens is not None and day < inst.opens:
        return Window("uncertain", "deadline.opens_on", {"opens": inst.opens.isoformat()})
    if inst.closes is not None:
        return Window("open", "deadline.open_until", {"closes": inst.closes.isoformat()})
    if inst.status == "closed" and day >= inst.source.as_of:
        return Window("closed", "deadline.closed_per_source", {"as_of": inst.source.as_of.isoformat()})
    if inst.status == "rolling":
        return Window("open", "deadline.rolling")
    if inst.status in ("open", "expected"):
        return Window(
            "uncertain", "deadline.status_on", {"status": inst.status, "as_of": inst.source.as_of.isoformat()}
        )
    return None


def availability(inst: Instrument, day: dt.date) -> Availability:
    found = window(inst, day)
    return "uncertain" if found is None else found.state


def open_on(inst: Instrument, day: dt.date) -> bool:
    """True unless the instrument is closed on `day`: what `open_on=` filters and the gap analysis counts as supply."""
    return availability(inst, day) != "closed"


def covers(instrument_regions: tuple[str, ...], region: str) -> bool:
    """True when a proposal in `region` falls inside an instrument's area (`NL` covers every province)."""
    if region in instrument_regions or "EU" in instrument_regions:
        return True
    return "NL" in instrument_regions and region in (*PROVINCES, "NL")


def may_apply(applicant_types: tuple[str, ...], applicant: str) -> bool:
    """True when `applicant` may apply; a start-up is an SME in EU terms, so schemes open to SMEs are open to it."""
    return applicant in applicant_types or (applicant == "startup" and "sme" in applicant_types)
