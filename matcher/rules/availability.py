"""Whether an instrument can be applied for on a day, where, and by whom: the one home of each of these rules.

    >>> availability(instrument, dt.date(2026, 12, 1))
    'open'

Availability is derived from the stored `rounds`, `recurrence` and `next_round`, never stored by hand. `window`
reads them on a day:
- `open`: a round includes the day (opens <= day <= closes; a round without `closes` stays open), or the scheme is
  `rolling` with no dated round;
- `uncertain`: a round (or an announced next round) opens after the day; the last round closed and a source announces
  the next one; or nothing dated is known (a scheme with rounds whose dates no source gives): "availability unknown";
  An `annual` scheme whose last round closed less than a year before the day is `uncertain` too ("annual scheme:
  the last round closed on ...; the next one is not announced yet"): its recurrence is a sourced fact, and a yearly
  programme between two rounds (EIC Accelerator, LIFE, CEF) is one to prepare for, not one that ended; so is a
  scheme with a later round that a source names without its dates (within a year of that source);
- `closed`: the last round closed and no source announces another (for an annual scheme: more than a year ago, so a
  year was skipped or the record is stale, which `analysis.audit` reports), or the scheme has ended: "no open round
  since".

A programme with calls (imported topics whose `parent` it is, `corpus.calls_of`) is open while one of its calls is
open ("2 open calls; the first closes on ..."); with none open it is what its own rounds say, except that calls still
to come make a closed programme expected.

`status_on` gives the contract's `status`, `opens` and `closes` on a day from the same reading (`matcher instruments
--json --as-of`). The ranking's deadline check (`eligibility.check_open`), the instrument filter (`catalogue`,
`open_on`) and the gap analysis's supply all ask `window`, so "open on a day" means the same everywhere: not `closed`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from matcher.records import PROVINCES, Instrument, Round, Status

Availability = Literal["open", "uncertain", "closed"]
# How long after its last round closed an annual scheme is still between rounds (a year, and the weeks a new work
# programme or regulation usually takes to be published).
BETWEEN_ROUNDS = dt.timedelta(days=365 + 30)


@dataclass(frozen=True)
class Window:
    """The state of an instrument's call on a day, with the reason code, its parameters and the round it is about."""

    state: Availability
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    round: Round | None = None
    status: Status | None = None


def _source_of(inst: Instrument, r: Round | None) -> str:
    """The site and date of the source of a round (or of the record): short enough to read in a table."""
    src = (r.source if r is not None else None) or inst.source
    return f"{src.url.host or src.url}, {src.as_of.isoformat()}"


def window(inst: Instrument, day: dt.date, calls: Sequence[Instrument] = ()) -> Window:
    """The call window on `day` (see the module docstring); `calls` are the programme's calls, if any."""
    own = _own_window(inst, day)
    if not calls:
        return own
    states = [_own_window(c, day) for c in calls]
    found = [w for w in states if w.state == "open"]
    if found:
        ends = [w.round.closes for w in found if w.round is not None and w.round.closes is not None]
        if ends:
            closes = min(ends).isoformat()
            return Window("open", "deadline.open_calls", {"count": len(found), "closes": closes}, status="open")
        return Window("open", "deadline.open_calls_no_end", {"count": len(found)}, status="open")
    coming = [w for w in states if w.status == "expected"]
    if coming and own.state == "closed":
        return Window("uncertain", "deadline.calls_coming", {"count": len(coming)}, None, "expected")
    return own


def _own_window(inst: Instrument, day: dt.date) -> Window:
    dated = [r for r in inst.rounds if r.opens is not None or r.closes is not None]
    for r in dated:
        if r.forthcoming and r.opens is None and r.closes is not None and day <= r.closes:
            # not open yet on the source's date, and no opening date published
            return Window("uncertain", "deadline.forthcoming", {"closes": r.closes.isoformat()}, r, "expected")
        started = r.opens is None or r.opens <= day
        if started and (r.closes is None or day <= r.closes):
            if r.closes is None:
                status: Status = "rolling" if inst.recurrence == "rolling" else "open"
                since = (r.opens or (r.source or inst.source).as_of).isoformat()
                return Window("open", "deadline.open_no_end", {"opens": since}, r, status)
            return Window("open", "deadline.open_until", {"closes": r.closes.isoformat()}, r, "open")
    upcoming = [r for r in dated if r.opens is not None and r.opens > day]
    if upcoming:
        r = upcoming[0]
        assert r.opens is not None
        return Window("uncertain", "deadline.opens_on", {"opens": r.opens.isoformat()}, r, "expected")
    nxt = inst.next_round
    if nxt is not None:
        params = {"month": nxt.opens.strftime("%Y-%m"), "source": f"{nxt.source.url.host}, {nxt.source.as_of}"}
        ahead = nxt.opens > day
        return Window("uncertain", "deadline.next_round", params, None, "expected" if ahead else None)
    if inst.recurrence == "rolling" and not dated:
        return Window("open", "deadline.rolling", {}, None, "rolling")
    if dated:
        last = dated[-1]
        end = last.closes or last.opens
        assert end is not None
        undated = [r for r in inst.rounds if r.opens is None and r.closes is None]
        named = [(r.source.as_of, r) for r in undated if r.source is not None]
        newer = [(said, r) for said, r in named if end < said <= day and day - said <= BETWEEN_ROUNDS]
        if newer and inst.recurrence != "ended":  # a later round that a source names without giving its dates
            r = newer[-1][1]
            return Window("uncertain", "deadline.undated_round", {"source": _source_of(inst, r)}, r)
        if inst.recurrence == "ended":
            return Window("closed", "deadline.ended", {"closes": end.isoformat()}, last, "closed")
        if inst.recurrence == "annual" and day - end <= BETWEEN_ROUNDS:
            return Window("uncertain", "deadline.between_rounds", {"closes": end.isoformat()}, last, None)
        return Window("closed", "deadline.no_round_since", {"closes": end.isoformat()}, last, "closed")
    if inst.recurrence == "ended":
        return Window("closed", "deadline.ended_undated", {"source": _source_of(inst, None)}, None, "closed")
    return Window("uncertain", "deadline.unknown", {"source": _source_of(inst, None)}, None, None)


def status_on(
    inst: Instrument, day: dt.date, calls: Sequence[Instrument] = ()
) -> tuple[Status | None, dt.date | None, dt.date | None]:
    """The contract's `status`, `opens`, `closes` on `day`: the round `window` is about (None where unknown; a
    programme open through its calls has no one round)."""
    found = window(inst, day, calls)
    r = found.round
    return found.status, (r.opens if r else None), (r.closes if r else None)


def availability(inst: Instrument, day: dt.date, calls: Sequence[Instrument] = ()) -> Availability:
    return window(inst, day, calls).state


def open_on(inst: Instrument, day: dt.date, calls: Sequence[Instrument] = ()) -> bool:
    """True unless the instrument is closed on `day`: what `open_on=` filters and the gap analysis counts as supply."""
    return availability(inst, day, calls) != "closed"


def covers(instrument_regions: tuple[str, ...], region: str) -> bool:
    """True when a proposal in `region` falls inside an instrument's area (`NL` covers every province)."""
    if region in instrument_regions or "EU" in instrument_regions:
        return True
    return "NL" in instrument_regions and region in (*PROVINCES, "NL")


def may_apply(applicant_types: tuple[str, ...], applicant: str) -> bool:
    """True when `applicant` may apply; a start-up is an SME in EU terms, so schemes open to SMEs are open to it."""
    return applicant in applicant_types or (applicant == "startup" and "sme" in applicant_types)
