"""Triage results as a CSV download: one row per proposal and match, for advisers who work in a spreadsheet.

    >>> matches_csv(matcher.match_batch(proposals, top_k=3)).splitlines()[0]
    'proposal_id,rank,instrument_id,name,level,score,eligibility,missed,unknown,why,flags'

`missed` and `unknown` name the criteria with that status, joined with ';'; `why` is joined with ' | ', and `flags`
(the proposal's, repeated on each of its rows) with ';'.
"""

from __future__ import annotations

from collections.abc import Iterable

from matcher import MatchResult, app

CSV_COLUMNS = (
    "proposal_id",
    "rank",
    "instrument_id",
    "name",
    "level",
    "score",
    "eligibility",
    "missed",
    "unknown",
    "why",
    "flags",
)


def matches_csv(results: Iterable[MatchResult]) -> str:
    """The rows as CSV whose cells a spreadsheet shows as text (`app.csv_text`: no cell runs as a formula)."""
    rows = []
    for result in results:
        flags = ";".join(result.flags)
        for rank, m in enumerate(result.matches, 1):
            missed = ";".join(c.criterion for c in m.checks if c.status == "missed")
            unknown = ";".join(c.criterion for c in m.checks if c.status == "unknown")
            rows.append(
                [result.proposal_id, rank, m.instrument_id, m.name, m.level, m.score, m.eligibility]
                + [missed, unknown, " | ".join(m.why), flags]
            )
    return app.csv_text(CSV_COLUMNS, rows, lineterminator="\r\n")
