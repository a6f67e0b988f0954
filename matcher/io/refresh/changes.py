"""What a refresh changed in a folder: instruments new, changed and closed, and the rounds of the ones kept.

    >>> changes = compare("ft-topics", before=previous_records(path), after=instruments)
    >>> changes.summary()
    'ft-topics: 1 new, 1 changed, 0 closed; rounds: 0 new, 1 changed, 0 removed'

A record is compared without the dates of its sources (a refresh dates them on the day it runs). "Closed" means the
source no longer lists the instrument (a passed deadline, a withdrawn topic, a regulation no longer in force). Rounds
are compared per instrument kept: a round with the same dates is unchanged, the others are paired in order (changed:
its dates moved), and what is left over is new or removed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.records import Instrument


@dataclass(frozen=True)
class Change:
    id: str
    name: str
    detail: str = ""

    def line(self, kind: str) -> str:
        return f"  {kind:<7} {self.id}  {self.name}" + (f"  ({self.detail})" if self.detail else "")


@dataclass
class Changes:
    source: str  # what was refreshed: "ft-topics", "cvdr"
    new: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    closed: list[Change] = field(default_factory=list)
    rounds_new: int = 0
    rounds_changed: int = 0
    rounds_removed: int = 0

    def summary(self) -> str:
        return (
            f"{self.source}: {len(self.new)} new, {len(self.changed)} changed, {len(self.closed)} closed; "
            f"rounds: {self.rounds_new} new, {self.rounds_changed} changed, {self.rounds_removed} removed"
        )

    def lines(self) -> list[str]:
        """One line per instrument that changed, new first."""
        groups = (("new", self.new), ("changed", self.changed), ("closed", self.closed))
        return [c.line(kind) for kind, items in groups for c in items]


def record_of(inst: Instrument) -> dict[str, Any]:
    """An instrument as its file stores it (`write_instruments`)."""
    return inst.model_dump(mode="json", exclude_defaults=True)


def compare(source: str, before: Sequence[dict[str, Any]], after: Sequence[Instrument]) -> Changes:
    """The changes from the records of the previous file to the instruments now written."""
    old = {str(r["id"]): _undated(r) for r in before}
    new = {inst.id: _undated(record_of(inst)) for inst in after}
    changes = Changes(source)
    for key, record in new.items():
        if key not in old:
            changes.new.append(Change(key, str(record.get("name", ""))))
        elif record != old[key]:
            detail = _difference(old[key], record, changes)
            changes.changed.append(Change(key, str(record.get("name", "")), detail))
    gone = [(key, r) for key, r in old.items() if key not in new]
    changes.closed = [Change(key, str(r.get("name", "")), "no longer listed") for key, r in gone]
    return changes


def _undated(value: Any) -> Any:
    """`value` without the `as_of` of the sources in it."""
    if isinstance(value, dict):
        is_source = "url" in value and "as_of" in value
        return {k: _undated(v) for k, v in value.items() if not (is_source and k == "as_of")}
    if isinstance(value, list):
        return [_undated(v) for v in value]
    return value


def _difference(old: dict[str, Any], new: dict[str, Any], changes: Changes) -> str:
    """Which fields changed, and how the rounds moved (counted into `changes`)."""
    fields = sorted(k for k in old.keys() | new.keys() if k != "rounds" and old.get(k) != new.get(k))
    old_rounds = [r for r in old.get("rounds", []) if r not in new.get("rounds", [])]
    new_rounds = [r for r in new.get("rounds", []) if r not in old.get("rounds", [])]
    moved = [f"{_span(a)} -> {_span(b)}" for a, b in zip(old_rounds, new_rounds, strict=False)]
    paired = len(moved)
    changes.rounds_changed += paired
    changes.rounds_new += len(new_rounds) - paired
    changes.rounds_removed += len(old_rounds) - paired
    parts = [*(f"round {m}" for m in moved)]
    parts += [f"new round {_span(r)}" for r in new_rounds[paired:]]
    parts += [f"round {_span(r)} removed" for r in old_rounds[paired:]]
    if fields:
        parts.append(", ".join(fields))
    return "; ".join(parts)


def _span(r: dict[str, Any]) -> str:
    return f"{r.get('opens') or '?'}..{r.get('closes') or 'open'}" + (" forthcoming" if r.get("forthcoming") else "")


@dataclass
class RefreshResult:
    """What one refresh did: records fetched, instruments written to `target`, records skipped and why, changes."""

    target: Path
    fetched: int
    imported: int
    changes: Changes
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # one line per skipped record, where it says more

    def summary(self) -> str:
        line = f"{self.changes.source}: fetched {self.fetched}, wrote {self.imported} instruments to {self.target}"
        line += f", skipped {sum(self.skipped.values())}"
        if self.skipped:
            line += " (" + ", ".join(f"{reason}: {n}" for reason, n in sorted(self.skipped.items())) + ")"
        return line
