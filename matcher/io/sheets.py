r"""CSV for spreadsheets: every cell is shown as text, never run as a formula (OWASP's advice on CSV injection).

    >>> csv_text(["id", "name"], [["p1", "=1+1"]])
    "id,name\np1,'=1+1\n"

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read by Excel or LibreOffice as a
formula; it gets a leading `'`, which the spreadsheet shows as text. Every CSV the project writes (the CLI's
`--format csv`, the triage download, the gap report's files) goes through `csv_text`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """`value` as a CSV cell a spreadsheet shows as text: `'=1+1` for `=1+1`; None is empty."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(
    head: Sequence[str], rows: Iterable[Sequence[object]], lineterminator: str = "\n", delimiter: str = ","
) -> str:
    """A CSV document with a header row, every cell passed through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator, delimiter=delimiter)
    writer.writerow([safe_cell(h) for h in head])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()
