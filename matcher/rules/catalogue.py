"""The one instrument filter: which instruments of a corpus pass a level, region, theme, applicant and date.

    >>> select(corpus, InstrumentQuery(region="NL-GE", open_on=dt.date(2026, 12, 1)))
    [Instrument(id='nl-wbso', ...), ...]

Used by `matcher instruments`, `GET /v1/instruments` and the gap analysis, so they admit the same instruments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from matcher.errors import InputError
from matcher.io.corpus import Corpus
from matcher.records import REGION_CODES, Instrument
from matcher.rules.availability import covers, may_apply, open_on


@dataclass(frozen=True)
class InstrumentQuery:
    """Filters that must all hold; None means "any"."""

    level: str | None = None
    region: str | None = None
    theme: str | None = None
    applicant_type: str | None = None
    open_on: dt.date | None = None

    def admits(self, inst: Instrument, calls: Sequence[Instrument] = ()) -> bool:
        """True when `inst` (a programme with `calls`, if any) passes every filter."""
        return (
            (self.level is None or inst.level == self.level)
            and (self.region is None or covers(inst.regions, self.region))
            and (self.theme is None or self.theme in inst.themes)
            and (self.applicant_type is None or may_apply(inst.applicant_types, self.applicant_type))
            and (self.open_on is None or open_on(inst, self.open_on, calls))
        )


def check_query(corpus: Corpus, query: InstrumentQuery) -> None:
    """Raise `InputError` naming the field and value for a theme or region the corpus does not know."""
    if query.theme is not None and query.theme not in corpus.theme_names():
        known = ", ".join(t.id for t in corpus.themes)
        raise InputError(f"field 'theme': value {query.theme!r}: not a theme id; use one of {known}")
    if query.region is not None and query.region not in REGION_CODES:
        raise InputError(
            f"field 'region': value {query.region!r}: not a region code; use one of {', '.join(REGION_CODES)}"
        )


def select(corpus: Corpus, query: InstrumentQuery) -> list[Instrument]:
    """The corpus's instruments that pass every filter of `query`, in corpus order."""
    check_query(corpus, query)
    return [i for i in corpus.instruments if query.admits(i, corpus.calls_of(i.id))]
