"""Batch input and output for triage: CSV or JSONL proposals in, JSONL results out (atomically).

Every row is validated before any work starts; an error names the row (1-based data row), field and value.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from matcher.errors import InputError
from matcher.io.atomic import atomic_path
from matcher.records import Proposal
from matcher.records.messages import describe

log = logging.getLogger(__name__)
COLUMNS = ("id", "text", "region", "applicant_type", "budget_eur", "trl", "partners", "stage", "as_of")
MAX_ROWS = 100_000


def _clean(row: dict[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(k for k in row if k not in COLUMNS)
    if unknown:
        raise InputError(f"{where}: unknown column(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(COLUMNS)}")
    if "text" not in row:
        raise InputError(f"{where}: field 'text' is missing")
    return {k: v for k, v in row.items() if v is not None and v != ""}


def proposal_from_row(row: dict[str, Any], where: str, default_id: str) -> Proposal:
    data = _clean(row, where)
    data.setdefault("id", default_id)
    if not isinstance(data["id"], str):
        data["id"] = str(data["id"])
    try:
        return Proposal.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{where}: {describe(exc.errors()[0], default_field='text')}") from None


def _csv_rows(text: str, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise InputError(f"{name}: empty file, expected a header row with column 'text'")
    for n, row in enumerate(reader, 1):
        if None in row:
            raise InputError(f"{name}: row {n} (line {reader.line_num}): more values than header columns")
        yield f"{name}: row {n}", row


def _jsonl_rows(text: str, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    n = 0
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        n += 1
        where = f"{name}: row {n} (line {line_no})"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: invalid JSON: {exc.msg}") from None
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(row).__name__}")
        yield where, row


def read_proposals(path: Path) -> list[Proposal]:
    """Read and validate every row of a CSV or JSONL file (chosen by extension)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: input file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, expected a CSV or JSONL file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    return parse_proposals(text, str(path), path.suffix)


def parse_proposals(text: str, name: str, suffix: str) -> list[Proposal]:
    """Validate every row of CSV or JSONL `text` (chosen by `suffix`); `name` starts every error message.

    >>> [p.id for p in parse_proposals("id,text\\nq1,Een waterstof pilot\\n", "upload.csv", ".csv")]
    ['q1']
    """
    suffix = suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(text, name)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        rows = _jsonl_rows(text, name)
    else:
        raise InputError(f"{name}: unknown file type {suffix!r}; use .csv or .jsonl")
    ignored: set[str] = set()
    proposals = []
    for n, (where, row) in enumerate(rows, 1):
        # Files come from other systems and carry extra columns (notes, names): skip them, and say so once.
        extra = {k for k in row if k not in COLUMNS}
        ignored |= extra
        proposals.append(proposal_from_row({k: v for k, v in row.items() if k not in extra}, where, str(n)))
    if ignored:
        log.warning("%s: ignoring column(s) %s; used: %s", name, ", ".join(sorted(ignored)), ", ".join(COLUMNS))
    if not proposals:
        raise InputError(f"{name}: no proposals in the file")
    if len(proposals) > MAX_ROWS:
        raise InputError(f"{name}: {len(proposals)} rows; at most {MAX_ROWS} per run")
    seen: dict[str, int] = {}
    for n, p in enumerate(proposals, 1):
        if p.id in seen:
            raise InputError(f"{name}: row {n}: field 'id': value {p.id!r} repeats row {seen[p.id]}")
        seen[p.id] = n
    return proposals


def write_jsonl_atomic(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write every record as one JSON line, whole or not at all (see `write_lines_atomic`)."""
    write_lines_atomic(path, (json.dumps(rec, ensure_ascii=False) for rec in records))


def write_lines_atomic(path: Path, lines: Iterable[str]) -> None:
    """Write all lines to a temporary file beside `path`, then rename: the file appears complete or not at all."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{path}: output folder {folder} does not exist")
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
