"""What is new for a saved profile: the rounds that opened since the last run and the deadlines coming up.

Pure analysis of one match result on a day (`app.watch_run` runs the matcher and keeps the state):

    >>> items = watch_items(result, corpus, as_of=dt.date(2026, 3, 10), since=dt.date(2026, 2, 1), days=14,
    ...                     weak_match=0.35)
    >>> [(i.instrument_id, i.kinds) for i in items]
    [('nl-scholing', ('opened',))]

Only matches worth an alert count: among the profile's top matches, at or above the weak-match level (the one the
triage flag uses), not ineligible, and open on the day (`rules.availability.window`, the one rule of "open"). A
matched programme's calls (`Match.calls`) are judged like instruments of their own. One item per instrument and
round says why it is news:
- `opened`: the round opened after `since` (its opening date lies in (since, as_of]), or the instrument was not open
  on `since` and is open now;
- `closing`: the round closes within `days` days of `as_of`.

Each (kind, instrument, round) has a key; `unreported` keeps what the previous run did not already report, so a run
reports each opening once and each deadline once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from matcher.io.corpus import Corpus
from matcher.records import Instrument, MatchResult
from matcher.rules.availability import window
from matcher.text.i18n import gettext

Kind = Literal["opened", "closing"]
DEFAULT_DAYS = 14  # deadlines within two weeks are reported


@dataclass(frozen=True)
class WatchItem:
    """One instrument round that is news for a profile: which, its dates, why, and how well it matches.

    `programme_id` names the matched programme when the item is one of its calls; `noticed` is the day the item
    became news (the round's opening, or the day its deadline came within the window): the feed's `updated`.
    """

    instrument_id: str
    name: str
    opens: dt.date | None
    closes: dt.date | None
    kinds: tuple[Kind, ...]
    score: float
    eligibility: str
    source_url: str
    noticed: dt.date
    as_of: dt.date
    since: dt.date
    programme_id: str | None = None

    @property
    def round_key(self) -> str:
        """The round as `opens/closes` (ISO dates, empty when unknown), or `rolling` for a scheme without rounds."""
        if self.opens is None and self.closes is None:
            return "rolling"
        return f"{self.opens.isoformat() if self.opens else ''}/{self.closes.isoformat() if self.closes else ''}"

    def keys(self) -> frozenset[str]:
        return frozenset(item_key(kind, self.instrument_id, self.round_key) for kind in self.kinds)

    def why(self, lang: str = "en") -> str:
        """Why the item is news, in `lang` (the catalogues' `watch.*` messages)."""
        lines = []
        for kind in self.kinds:
            if kind == "closing" and self.closes is not None:
                left = (self.closes - self.as_of).days
                lines.append(gettext(lang, "watch.closing", closes=self.closes.isoformat(), left=left))
            elif self.opens is None:
                lines.append(gettext(lang, "watch.opened_undated", since=self.since.isoformat()))
            else:
                lines.append(gettext(lang, "watch.opened", opens=self.opens.isoformat()))
        return "; ".join(lines)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "instrument_id": self.instrument_id,
            "name": self.name,
            "programme_id": self.programme_id,
            "round": {
                "opens": self.opens.isoformat() if self.opens else None,
                "closes": self.closes.isoformat() if self.closes else None,
            },
            "new": list(self.kinds),
            "why": self.why(lang),
            "score": self.score,
            "eligibility": self.eligibility,
            "source_url": self.source_url,
            "noticed": self.noticed.isoformat(),
        }


@dataclass(frozen=True)
class WatchReport:
    """What one run found for one profile: the items new between `since` and `as_of`, best match first."""

    profile: str
    as_of: dt.date
    since: dt.date
    days: int
    items: tuple[WatchItem, ...]

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "profile": self.profile,
            "as_of": self.as_of.isoformat(),
            "since": self.since.isoformat(),
            "days": self.days,
            "items": [i.to_dict(lang) for i in self.items],
        }


def item_key(kind: str, instrument_id: str, round_key: str) -> str:
    return f"{kind}:{instrument_id}:{round_key}"


def watch_items(
    result: MatchResult,
    corpus: Corpus,
    as_of: dt.date,
    since: dt.date,
    days: int = DEFAULT_DAYS,
    weak_match: float = 0.0,
) -> list[WatchItem]:
    """The items of `result` (the profile's top matches on `as_of`) that are news since `since`, best first."""
    found: dict[tuple[str, str], WatchItem] = {}
    for inst, score, eligibility, name, programme in _candidates(result, corpus, weak_match):
        item = _item(inst, score, eligibility, name, programme, as_of, since, days)
        if item is not None:
            found.setdefault((item.instrument_id, item.round_key), item)
    return sorted(found.values(), key=lambda i: (-i.score, i.instrument_id))


def unreported(items: Sequence[WatchItem], reported: frozenset[str]) -> list[WatchItem]:
    """The items with a kind whose key is not in `reported`, each keeping only those kinds."""
    kept = []
    for item in items:
        kinds = tuple(k for k in item.kinds if item_key(k, item.instrument_id, item.round_key) not in reported)
        if kinds:
            kept.append(item if kinds == item.kinds else replace(item, kinds=kinds))
    return kept


def _candidates(
    result: MatchResult, corpus: Corpus, weak_match: float
) -> Iterator[tuple[Instrument, float, str, str, str | None]]:
    """(instrument, score, eligibility, name, programme) of every match worth an alert, and of its listed calls."""
    for m in result.matches:
        if m.eligibility == "ineligible" or m.score < weak_match:
            continue
        yield corpus.instrument(m.instrument_id), m.score, m.eligibility, m.name, None
        for call in m.calls:
            yield corpus.instrument(call.instrument_id), call.score, m.eligibility, call.name, m.instrument_id


def _item(
    inst: Instrument,
    score: float,
    eligibility: str,
    name: str,
    programme: str | None,
    as_of: dt.date,
    since: dt.date,
    days: int,
) -> WatchItem | None:
    now = window(inst, as_of)
    if now.state != "open":
        return None
    r = now.round
    opens, closes = (r.opens, r.closes) if r is not None else (None, None)
    kinds: list[Kind] = []
    noticed: list[dt.date] = []  # the day each kind became true
    if (opens is not None and since < opens <= as_of) or window(inst, since).state != "open":
        kinds.append("opened")
        noticed.append(opens or as_of)
    if closes is not None and (closes - as_of).days <= days:
        kinds.append("closing")
        start = closes - dt.timedelta(days=days)
        noticed.append(max(start, opens) if opens else start)
    if not kinds:
        return None
    source = (r.source if r is not None and r.source is not None else None) or inst.source
    return WatchItem(
        instrument_id=inst.id,
        name=name,
        opens=opens,
        closes=closes,
        kinds=tuple(kinds),
        score=score,
        eligibility=eligibility,
        source_url=str(source.url),
        noticed=max(noticed),
        as_of=as_of,
        since=since,
        programme_id=programme,
    )
