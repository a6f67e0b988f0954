"""The applicant page's timeline: the open and upcoming rounds of the top matches, drawn as an SVG on the server.

One row per match that has a dated round (or call) overlapping the window from a month before the day to a year
after it; each round is a bar from its opening to its closing date (a round without an opening date starts at the
window's edge, one without a closing date runs to the other edge). No JavaScript: the page draws it as it is.

    >>> rows = timeline(result, corpus, dt.date(2026, 12, 1))
    >>> rows.bars[0].x, rows.bars[0].width
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from matcher import Corpus, Instrument, MatchResult

MAX_ROWS = 6
BEFORE = dt.timedelta(days=31)
AFTER = dt.timedelta(days=366)
WIDTH = 100.0  # the chart's width in percent of its box


@dataclass(frozen=True)
class Bar:
    row: int
    x: float  # percent of the width
    width: float
    opens: dt.date | None
    closes: dt.date | None
    label: str  # the match's name, or the call's for a call of a programme
    state: str  # "open" on the day, else "upcoming"


@dataclass(frozen=True)
class Timeline:
    start: dt.date
    end: dt.date
    today_x: float
    names: tuple[str, ...]  # one per row
    bars: tuple[Bar, ...]
    months: tuple[tuple[float, dt.date], ...]  # x of the first day of each month in the window

    @property
    def height(self) -> int:
        return 28 * len(self.names) + 24


def _x(day: dt.date, start: dt.date, end: dt.date) -> float:
    span = (end - start).days
    return round(WIDTH * min(max((day - start).days, 0), span) / span, 2)


def _rounds(inst: Instrument, start: dt.date, end: dt.date) -> list[tuple[dt.date | None, dt.date | None]]:
    out = []
    for r in inst.rounds:
        if r.opens is None and r.closes is None:
            continue
        if (r.closes is None or r.closes >= start) and (r.opens is None or r.opens <= end):
            out.append((r.opens, r.closes))
    return out


def timeline(result: MatchResult, corpus: Corpus, day: dt.date) -> Timeline | None:
    """The rounds of the matches that are not ineligible, best first, at most MAX_ROWS rows; None when none has one."""
    start, end = day - BEFORE, day + AFTER
    names: list[str] = []
    bars: list[Bar] = []
    for m in result.matches:
        if len(names) >= MAX_ROWS:
            break
        if m.eligibility == "ineligible":
            continue
        parts = [(m.name, corpus.instrument(m.instrument_id))]
        parts += [(c.name, corpus.instrument(c.instrument_id)) for c in m.calls]
        found = [(label, span) for label, inst in parts for span in _rounds(inst, start, end)]
        if not found:
            continue
        row = len(names)
        names.append(m.name)
        for label, (opens, closes) in found:
            x0 = _x(opens or start, start, end)
            x1 = _x(closes or end, start, end)
            state = "open" if (opens or start) <= day <= (closes or end) else "upcoming"
            if (closes or end) < day:
                state = "closed"
            bars.append(Bar(row, x0, max(x1 - x0, 0.6), opens, closes, label, state))
    if not names:
        return None
    months = []
    first = dt.date(start.year, start.month, 1)
    while first <= end:
        if first >= start:
            months.append((_x(first, start, end), first))
        first = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Timeline(start, end, _x(day, start, end), tuple(names), tuple(bars), tuple(months))
