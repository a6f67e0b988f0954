"""Lists of operations of the EU structural funds (CSV, as published by the Dutch managing authorities).

Columns: `row_id`, `beneficiary`, `title_nl`, `title_en`, `fund` (EFRO or ESF), `summary`, `eu_subsidy_eur`,
`total_cost_eur` (Dutch number format: `1.238.920` or `1.238.920,50`), `start_date`, `end_date` (`dd.mm.yyyy`
or ISO). Each row becomes a `FundedProject`; the province is filled when the title, summary or beneficiary names
exactly one province (or a place of it in the gazetteer, corpora/places.yaml, passed in as `places`).

    >>> projects, report = import_operations(Path("projects_dev.csv"), places=corpus.places)
    >>> print(report.summary())
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from matcher.errors import InputError
from matcher.io.importers.clean import clean_text
from matcher.io.importers.import_report import DUPLICATE, ENCODING, INVALID, MALFORMED, MISSING, ImportReport
from matcher.records import PROVINCES, FundedProject, Gazetteer
from matcher.records.messages import describe
from matcher.text.places import mentioned_regions

REQUIRED_COLUMNS = ("row_id", "title_nl", "fund")
FUNDS = {"EFRO": "EFRO", "ERDF": "EFRO", "ESF": "ESF", "ESF+": "ESF"}
_DUTCH_NUMBER = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d+)?$|^-?\d+(,\d+)?$")
_BAD_BYTES = re.compile(r"[\udc80-\udcff]")
T = TypeVar("T")


def dutch_amount(value: str) -> float | None:
    """'1.238.920' -> 1238920.0, '12.500,50' -> 12500.5, '' -> None; ValueError for anything else."""
    text = value.strip().replace("€", "").replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    if not _DUTCH_NUMBER.match(text):
        raise ValueError(f"{value!r} is not an amount in Dutch notation (e.g. 1.238.920 or 12.500,50)")
    amount = float(text.replace(".", "").replace(",", "."))
    if amount < 0:
        raise ValueError(f"{value!r} is negative")
    return amount


def dutch_date(value: str) -> dt.date | None:
    """'15.04.2009' or '15-04-2009' or '2009-04-15' -> date; '' -> None; ValueError for anything else."""
    text = value.strip()
    if not text:
        return None
    for fmt in ("%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date (dd.mm.yyyy)")


def province_of(places: Gazetteer, *texts: str) -> str | None:
    """The province the texts name, when they name exactly one."""
    named = {code for text in texts for code in mentioned_regions(text, places) if code in PROVINCES}
    return named.pop() if len(named) == 1 else None


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with the line each starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _field(values: dict[str, str], key: str, parse: Callable[[str], T]) -> T:
    try:
        return parse(values.get(key) or "")
    except ValueError as exc:
        raise ValueError(f"field '{key}': value {exc}") from None


def _project(values: dict[str, str], path: Path, line: int, places: Gazetteer) -> FundedProject:
    """One row as a FundedProject; raises ValueError naming the field when a value cannot be read."""
    fund = values["fund"].strip().upper()
    if fund not in FUNDS:
        raise ValueError(f"field 'fund': value {values['fund']!r}; expected EFRO or ESF")
    title, summary = clean_text(values["title_nl"]), clean_text(values.get("summary") or "")
    beneficiary = clean_text(values.get("beneficiary") or "")
    return FundedProject(
        id=values["row_id"].strip(),
        beneficiary=beneficiary,
        title=title,
        title_en=clean_text(values.get("title_en") or "") or None,
        summary=summary,
        fund=FUNDS[fund],  # type: ignore[arg-type]
        province=province_of(places, title, summary, beneficiary),
        source=f"{path.name}:{line}",
        eu_subsidy_eur=_field(values, "eu_subsidy_eur", dutch_amount),
        total_cost_eur=_field(values, "total_cost_eur", dutch_amount),
        start_date=_field(values, "start_date", dutch_date),
        end_date=_field(values, "end_date", dutch_date),
    )


def import_operations(
    path: Path, strict: bool = False, encoding: str = "utf-8", *, places: Gazetteer
) -> tuple[list[FundedProject], ImportReport]:
    """Read a list of operations; return the projects of the good rows and a report of the bad ones.

    `places` is the gazetteer that finds the province (`corpus.places`).
    """
    try:
        text = path.read_bytes().decode(encoding, errors="surrogateescape")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}; use e.g. utf-8 or cp1252") from None
    report = ImportReport(path, "projects")
    rows = _rows(text.removeprefix("\ufeff"))
    try:
        _, header = next(rows)
    except (StopIteration, csv.Error):
        raise InputError(f"{path}: no header row; expected columns {', '.join(REQUIRED_COLUMNS)}") from None
    header = [h.strip() for h in header]
    absent = [c for c in REQUIRED_COLUMNS if c not in header]
    if absent:
        raise InputError(f"{path}:1: header lacks column(s) {', '.join(absent)}; found {', '.join(header)}")
    out: list[FundedProject] = []
    seen: dict[str, int] = {}
    try:
        for line, row in rows:
            if not any(v.strip() for v in row):
                continue
            if any(_BAD_BYTES.search(v) for v in row):
                where = next(v for v in row if _BAD_BYTES.search(v))
                bad = _BAD_BYTES.search(where)
                byte = ord(bad.group()) - 0xDC00 if bad else 0
                detail = f"not valid {encoding} (byte 0x{byte:02x}); save the file as UTF-8 or pass --encoding cp1252"
                report.reject(line, ENCODING, detail, strict)
                continue
            if len(row) != len(header):
                report.reject(line, MALFORMED, f"{len(row)} fields, the header has {len(header)}", strict)
                continue
            values = dict(zip(header, row, strict=True))
            missing = next((c for c in REQUIRED_COLUMNS if not values[c].strip()), None)
            if missing:
                report.reject(line, MISSING, f"row {values['row_id'] or '?'}: field '{missing}' is empty", strict)
                continue
            try:
                project = _project(values, path, line, places)
            except ValidationError as exc:
                report.reject(line, INVALID, f"row {values['row_id']}: {describe(exc.errors()[0])}", strict)
                continue
            except ValueError as exc:
                report.reject(line, INVALID, f"row {values['row_id']}: {exc}", strict)
                continue
            if project.id in seen:
                report.reject(line, DUPLICATE, f"row {project.id} is also on line {seen[project.id]}", strict)
                continue
            seen[project.id] = line
            out.append(project)
    except csv.Error as exc:  # e.g. a NUL byte: the rest of the file cannot be read as CSV
        raise InputError(f"{path}: unreadable CSV after {len(out)} rows ({exc})") from None
    report.imported = len(out)
    return out, report
