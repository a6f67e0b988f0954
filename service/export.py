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
    """The rows of the triage workbook (`app.match_rows`: one home for the row layout) in the CSV's columns, one per
    match, as CSV whose cells a spreadsheet shows as text (`app.csv_text`: no cell runs as a formula)."""
    keep = [app.MATCH_COLUMNS.index(c) for c in CSV_COLUMNS]
    rank = app.MATCH_COLUMNS.index("rank")
    rows = [[row[i] for i in keep] for row in app.match_rows(results) if row[rank] is not None]
    return app.csv_text(CSV_COLUMNS, rows, lineterminator="\r\n")
