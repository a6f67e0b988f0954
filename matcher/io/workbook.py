"""Excel workbooks (.xlsx) in and out: the proposals of a sheet, and triage results as a table advisers can filter.

    >>> sheet = read_sheet(Path("intake.xlsx").read_bytes(), "intake.xlsx")
    >>> sheet.title, sheet.rows[0]
    ('Intake', ("intake.xlsx: sheet 'Intake': row 1 (sheet row 2)", {'id': 'q1', 'text': 'Een waterstof pilot'}))

The first sheet is read unless one is named; other sheets are ignored. The header is the first non-empty row (with
the rows below it that its merged cells reach down to): a column is named by its lowest header cell, and a header
merged over several columns names them all, their values in a row joined with a space. A value merged down over
several data rows counts for each of them. Numbers stay numbers for `budget_eur`, `trl` and `partners` (the
proposal's own parsing reads them, as it reads "900.000" typed as text); elsewhere they become text ("17", not 17.0).

openpyxl is imported where it is used, so `matcher --version` does not load it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.errors import InputError
from matcher.io.columns import column_name
from matcher.records import MatchResult

log = logging.getLogger(__name__)
SUFFIXES = (".xlsx", ".xlsm")
NUMBER_COLUMNS = ("budget_eur", "trl", "partners")
# An encrypted .xlsx is an OLE compound file (as an old .xls is), not a zip: tell it apart before openpyxl fails.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A workbook is a zip: 2 MiB of upload can unpack to gigabytes of sheet that openpyxl would hold in memory. The
# declared sizes are checked first (zipfile refuses members that unpack past them).
MAX_UNPACKED_BYTES = 512 * 2**20  # a file given to the CLI: 100,000 rows of long texts fit
UPLOAD_UNPACKED_BYTES = 32 * 2**20  # an upload of at most 500 rows: 20,000 characters of text each fit
ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")  # control characters an .xlsx cannot hold

Row = tuple[str, dict[str, Any]]  # (where, values by column), as the CSV and JSONL readers yield them


@dataclass(frozen=True)
class Sheet:
    """The data rows of the sheet that was read, each with where it is ("... sheet 'Intake': row 1 (sheet row 2)")."""

    title: str
    rows: list[Row]


# -- reading -----------------------------------------------------------------------------------------------------------
def read_sheet(data: bytes, name: str, sheet: str | None = None, max_unpacked: int = MAX_UNPACKED_BYTES) -> Sheet:
    """The rows of the first sheet of an .xlsx (or of `sheet`); `InputError` names the file, sheet and row."""
    ws = _worksheet(_open(data, name, max_unpacked), name, sheet)
    where = f"{name}: sheet {ws.title!r}"
    grid = [list(row) for row in ws.iter_rows(values_only=True)]
    merges = [(m.min_row - 1, m.max_row - 1, m.min_col - 1, m.max_col - 1) for m in ws.merged_cells.ranges]
    first = next((r for r, row in enumerate(grid) if any(_filled(v) for v in row)), None)
    if first is None:
        raise InputError(f"{where}: the sheet is empty, expected a header row with column 'text'")
    last = max([bottom for top, bottom, _, _ in merges if top <= first <= bottom], default=first)
    columns = _header(grid, merges, first, last, f"{where}: row {first + 1}")
    for top, bottom, left, _ in merges:  # a value merged down over data rows counts for each of them
        if top > last:
            for r in range(top + 1, bottom + 1):
                grid[r][left] = grid[top][left]
    rows: list[Row] = []
    stray: set[int] = set()
    for r in range(last + 1, len(grid)):
        values = grid[r]
        if not any(_filled(v) for v in values):
            continue
        stray |= {c for c, v in enumerate(values) if _filled(v) and c not in columns.index}
        row = {col: _joined([values[c] for c in cells], col) for col, cells in columns.cells.items()}
        rows.append((f"{where}: row {len(rows) + 1} (sheet row {r + 1})", row))
    if stray:
        letters = ", ".join(_letter(c) for c in sorted(stray))
        log.warning("%s: ignoring values in column(s) %s, which have no header", where, letters)
    return Sheet(ws.title, rows)


def _open(data: bytes, name: str, max_unpacked: int) -> Any:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    if not data:
        raise InputError(f"{name}: empty file, expected an .xlsx workbook")
    if data.startswith(OLE_MAGIC):
        raise InputError(
            f"{name}: encrypted (password-protected) or an old .xls workbook; save it in Excel as .xlsx, no password"
        )
    unpacked = _unpacked_size(data)
    if unpacked > max_unpacked:
        raise InputError(
            f"{name}: the workbook unpacks to {_size(unpacked)}, more than {_size(max_unpacked)}; save the proposals "
            "alone (or as CSV)"
        )
    try:
        with warnings.catch_warnings():  # about parts we do not read (data validation, styles): not the user's problem
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # a damaged file fails anywhere in openpyxl's zip and XML readers, each its own way
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"{name}: not a readable .xlsx workbook ({reason}); open it in Excel and save it again"
        ) from None


def _unpacked_size(data: bytes) -> int:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        return 0  # not a zip: openpyxl says so, in the message below


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"


def _worksheet(book: Any, name: str, sheet: str | None) -> Any:
    sheets = {ws.title: ws for ws in book.worksheets}  # worksheets only: a chart sheet holds no rows
    if sheet is None:
        if not sheets:
            raise InputError(f"{name}: the workbook has no worksheet")
        return book.worksheets[0]
    if sheet not in sheets:
        raise InputError(f"{name}: no sheet {sheet!r}; the workbook has {', '.join(map(repr, sheets))}")
    return sheets[sheet]


@dataclass(frozen=True)
class _Columns:
    cells: dict[str, list[int]]  # column name -> the sheet columns it reads (several under a merged header)
    index: set[int]  # every sheet column that has a name


def _header(
    grid: list[list[Any]], merges: Sequence[tuple[int, int, int, int]], first: int, last: int, where: str
) -> _Columns:
    """Name each column by its lowest non-empty header cell, a merged cell counting over its whole range."""
    width = max(len(row) for row in grid[first : last + 1])
    names: list[list[tuple[Any, tuple[int, int]]]] = [
        [(grid[r][c] if c < len(grid[r]) else None, (r, c)) for c in range(width)] for r in range(first, last + 1)
    ]
    for top, bottom, left, right in merges:
        if top > last or bottom < first:
            continue
        for r in range(max(top, first), min(bottom, last) + 1):
            for c in range(left, right + 1):
                names[r - first][c] = (grid[top][left], (top, left))
    cells: dict[str, list[int]] = {}
    origin: dict[str, tuple[int, int]] = {}
    written: dict[str, str] = {}  # column -> the name as the header wrote it, for messages
    for c in range(width):
        found = [(v, at) for v, at in (row[c] for row in names) if _filled(v)]
        if not found:
            continue
        value, at = found[-1]
        col = column_name(str(value))
        written.setdefault(col, str(value).strip().lower())
        if col in cells and origin[col] != at:
            first_col, this = _letter(cells[col][0]), _letter(c)
            raise InputError(
                f"{where}: column {written[col]!r} appears twice (columns {first_col} and {this}); keep one"
            )
        cells.setdefault(col, []).append(c)
        origin[col] = at
    if "text" not in cells:
        found_names = ", ".join(repr(written[c]) for c in cells) or "none"
        raise InputError(f"{where} (the header row): no column 'text'; the header has {found_names}")
    return _Columns(cells, {c for cs in cells.values() for c in cs})


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _joined(values: list[Any], column: str) -> Any:
    filled = [v for v in values if _filled(v)]
    if len(filled) > 1:
        return " ".join(str(_cell(v, "text")) for v in filled)
    return _cell(filled[0], column) if filled else None


def _cell(value: Any, column: str) -> Any:
    """A cell's value as the proposal's fields read it: numbers for the number columns, dates for `as_of`, else text."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        whole = float(value).is_integer()
        if column in NUMBER_COLUMNS:
            return int(value) if whole and column != "budget_eur" else value
        return str(int(value)) if whole else str(value)
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value
    return str(value)


def _letter(column: int) -> str:
    """The sheet's name of a 0-based column: 0 -> 'A', 27 -> 'AB'."""
    letters = ""
    n = column + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# -- writing -----------------------------------------------------------------------------------------------------------
MATCH_COLUMNS = (
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
    "source_url",
    "flags",
)
LINK_COLUMN = MATCH_COLUMNS.index("source_url")


def match_rows(results: Iterable[MatchResult]) -> Iterator[list[Any]]:
    """One row per proposal and match (`MATCH_COLUMNS`); a proposal without matches keeps one row with its flags."""
    for result in results:
        flags = ";".join(result.flags)
        if not result.matches:
            yield [result.proposal_id, *[None] * (len(MATCH_COLUMNS) - 2), flags]
        for rank, m in enumerate(result.matches, 1):
            missed = ";".join(c.criterion for c in m.checks if c.status == "missed")
            unknown = ";".join(c.criterion for c in m.checks if c.status == "unknown")
            yield [result.proposal_id, rank, m.instrument_id, m.name, m.level, m.score, m.eligibility] + [
                missed,
                unknown,
                " | ".join(m.why),
                m.source_url,
                flags,
            ]


def write_matches(path: Path, results: Iterable[MatchResult]) -> None:
    """The results as a workbook at `path` (not atomic: `io.batch` writes it through `atomic_path`).

    One sheet "triage": a bold header row that stays in view and filters, the source as a link. Every value is
    written as a value: a proposal id like "=HYPERLINK(...)" stays text, never a formula.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    # The rows first: openpyxl streams a write-only sheet through a temporary file of its own that a failure half way
    # leaves behind, so nothing of ours may fail once it has started.
    table = list(match_rows(results))
    book = Workbook(write_only=True)
    ws = book.create_sheet("triage")
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    ws.append([_value_cell(ws, col, font=bold) for col in MATCH_COLUMNS])
    for row in table:
        cells = [_value_cell(ws, v) for v in row]
        url = row[LINK_COLUMN]
        if url:
            cells[LINK_COLUMN].hyperlink = url
            cells[LINK_COLUMN].style = "Hyperlink"
        ws.append(cells)
    ws.auto_filter.ref = f"A1:{_letter(len(MATCH_COLUMNS) - 1)}{len(table) + 1}"
    book.save(path)


def _value_cell(ws: Any, value: Any, font: Any = None) -> Any:
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    if isinstance(value, str):
        value = ILLEGAL.sub("", value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl reads a string that starts with "=" as a formula
    if font is not None:
        cell.font = font
    return cell
