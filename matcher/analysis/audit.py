"""What each instrument record needs attention for, on a day (`matcher audit`).

Per record, the findings an editor should act on:
- `stale_source`: the newest source of the record describes a day more than 18 months before the audit day;
- `secondary_only`: no source of the record is an official one (a site in `official_sites` of mappings.yaml);
- `no_successor`: the last round closed and no source announces another (the deadline check says "no open round
  since");
- `availability_unknown`: no round dates at all;
- `empty_facts`: facts left empty (amount, rate) that a record of this type usually states: check whether the source
  gives them;
- `future_source` (a contradiction): a source dated after today (a page cannot describe a day not yet reached when
  it was read: a typo in the date).
Contradictions between stored dates are validation errors already (`matcher validate`); `future_source` is the one
contradiction left for the audit, and the only finding that fails it (exit 1).

    >>> report = audit(corpus, dt.date(2026, 12, 1))
    >>> report.summary()
    '82 records: 51 sources older than 18 months, ...'
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from matcher.io.corpus import Corpus
from matcher.records import Instrument, Source
from matcher.rules.availability import window

STALE_AFTER = dt.timedelta(days=548)  # 18 months
CONTRADICTIONS = frozenset({"future_source"})
# Facts a record of this kind of money usually states when its source does.
USUAL_FACTS: dict[str, tuple[str, ...]] = {
    "grant": ("funding_rate", "max_amount_eur"),
    "voucher": ("max_amount_eur",),
    "loan": ("max_amount_eur",),
}


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str


@dataclass(frozen=True)
class RecordAudit:
    instrument_id: str
    level: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class AuditReport:
    as_of: dt.date
    records: tuple[RecordAudit, ...]

    def count(self, kind: str) -> int:
        return sum(any(f.kind == kind for f in r.findings) for r in self.records)

    @property
    def contradictions(self) -> int:
        return sum(any(f.kind in CONTRADICTIONS for f in r.findings) for r in self.records)

    def levels(self) -> Counter[str]:
        return Counter(r.level for r in self.records)

    def summary(self) -> str:
        levels = ", ".join(f"{level} {n}" for level, n in sorted(self.levels().items()))
        return (
            f"{len(self.records)} records ({levels}) on {self.as_of}: "
            f"{self.count('stale_source')} sources older than 18 months, "
            f"{self.count('secondary_only')} secondary sources standing alone, "
            f"{self.count('no_successor')} closed rounds with no successor, "
            f"{self.count('availability_unknown')} without round dates, "
            f"{self.count('empty_facts')} with usual facts empty, "
            f"{self.contradictions} contradictions"
        )


def is_official(source: Source, sites: tuple[str, ...]) -> bool:
    host = (source.url.host or "").lower().removeprefix("www.")
    return any(host == s or host.endswith("." + s) for s in sites)


def _sources(inst: Instrument) -> list[Source]:
    found = [inst.source, *inst.sources]
    found += [r.source for r in inst.rounds if r.source is not None]
    if inst.next_round is not None:
        found.append(inst.next_round.source)
    return found


def audit_record(
    inst: Instrument,
    day: dt.date,
    official_sites: tuple[str, ...],
    today: dt.date | None = None,
    calls: Sequence[Instrument] = (),
) -> RecordAudit:
    findings: list[Finding] = []
    sources = _sources(inst)
    newest = max(s.as_of for s in sources)
    if newest < day - STALE_AFTER:
        findings.append(Finding("stale_source", f"newest source {newest}"))
    if not any(is_official(s, official_sites) for s in sources):
        findings.append(Finding("secondary_only", f"{inst.source.url.host}"))
    state = window(inst, day, calls)
    if state.code in ("deadline.no_round_since",):
        findings.append(Finding("no_successor", f"last round closed {state.params['closes']}"))
    if state.code == "deadline.unknown":
        findings.append(Finding("availability_unknown", "no round dates"))
    empty = [f for f in USUAL_FACTS.get(inst.instrument_type, ()) if getattr(inst, f) is None]
    if empty:
        findings.append(Finding("empty_facts", ", ".join(empty)))
    now = today or dt.date.today()
    future = [s for s in sources if s.as_of > now]
    if future:
        findings.append(Finding("future_source", f"source dated {max(s.as_of for s in future)}, after today {now}"))
    return RecordAudit(inst.id, inst.level, tuple(findings))


def audit(corpus: Corpus, day: dt.date, today: dt.date | None = None) -> AuditReport:
    sites = corpus.mappings.official_sites
    records = (audit_record(i, day, sites, today, corpus.calls_of(i.id)) for i in corpus.instruments)
    return AuditReport(day, tuple(records))
