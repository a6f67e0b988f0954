"""Batch input and output for triage: CSV, JSONL or Excel proposals in; JSONL, CSV or Excel results out, atomically.

    >>> batch = load_batch("id;text;budget_eur\\nq1;Waterstof bij café De Zon;900.000\\n".encode("cp1252"), "a.csv")
    >>> batch.detected, [(p.id, p.budget_eur) for p in batch.proposals]
    ("delimiter ';', encoding cp1252", [('q1', 900000.0)])

Files come as advisers' spreadsheets save them. A CSV's delimiter (comma, semicolon or tab) is read from its header
line (an Excel `sep=;` line first is obeyed; a header with several of them is left to `csv.Sniffer`), its encoding
is UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1252; either can be given instead. A quote opened and not
closed would merge the rows after it into one field: that is an error naming the line, as is a field holding a
line that reads as a row of its own. Workbooks (.xlsx) are read by `io.workbook`. Every row is validated before
any work starts; an error names the file, the row (1-based data row), its line or sheet row, the field and value.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from matcher.errors import InputError
from matcher.io import workbook
from matcher.io.atomic import atomic_path, write_bytes
from matcher.io.columns import column_name
from matcher.io.sheets import csv_text
from matcher.records import MatchResult, Proposal
from matcher.records.corpus import MAX_TEXT_CHARS
from matcher.records.messages import describe

log = logging.getLogger(__name__)
COLUMNS = ("id", "text", "region", "applicant_type", "budget_eur", "trl", "partners", "stage", "as_of")
MAX_ROWS = 100_000
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
CSV_SUFFIXES = (".csv", ".tsv")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
SUFFIXES = "use .csv, .tsv, .jsonl or .xlsx"
FALLBACK_ENCODING = "cp1252"  # what Excel on a Dutch Windows saves "CSV (puntkomma)" in
SNIFF_LINES = 50
# A row is one flat object; deeper nesting is refused before json.loads, whose recursion it would exhaust (a line
# nested 100,000 deep raised RecursionError, a 500 on uploads).
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_ONE_NAME = re.compile(r'^\s*"?[\w .()-]*"?\s*$')  # a header line of one column name, or none
_SEP_LINE = re.compile(r'^"?sep=(.)"?\r?$')  # Excel's own way to say the delimiter, on the first line


@dataclass(frozen=True)
class Batch:
    """The proposals of a file and how it was read ("delimiter ';', encoding cp1252", "sheet 'Intake'")."""

    proposals: list[Proposal]
    detected: str = ""


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


def _csv_rows(text: str, name: str, delimiter: str, offset: int = 0) -> Iterator[tuple[str, dict[str, Any]]]:
    """The rows of CSV `text` as dicts by (normalised) header name; `offset` lines were cut off before `text`."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    header: list[str] = []
    try:
        while not header:
            header = next(reader)
    except StopIteration:
        raise InputError(f"{name}: empty file, expected a header row with column 'text'") from None
    except csv.Error as exc:
        line = reader.line_num + offset
        raise InputError(f"{name}: line {line} (the header): {_quote_problem(exc, line)}") from None
    columns = _header_names(header, name, reader.line_num + offset)
    n = 0
    while True:
        start = reader.line_num + 1 + offset
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problem = _quote_problem(exc, reader.line_num + offset)
            raise InputError(f"{name}: row {n + 1} (line {start}): {problem}") from None
        if not values:  # a blank line
            continue
        n += 1
        end = reader.line_num + offset
        if len(values) > len(columns):
            raise InputError(f"{name}: row {n} (line {end}): more values than header columns")
        start = end - sum(v.count("\n") for v in values)
        where = f"{name}: row {n}"
        _refuse_merged_rows(values, columns, delimiter, f"{where} (line {start})", start)
        yield where, dict(zip(columns, values, strict=False))


def _header_names(header: list[str], name: str, line: int) -> list[str]:
    """Header names stripped and lower-cased ("Text " reads as "text", "Omschrijving" too: `io.columns`); a column we
    use may appear only once."""
    columns = [column_name(h) for h in header]
    for col in COLUMNS:
        at = [n for n, c in enumerate(columns, 1) if c == col]
        if len(at) > 1:
            raise InputError(
                f"{name}: line {line} (the header): column {col!r} appears twice (columns {at[0]} and {at[1]})"
            )
    return columns


def _quote_problem(exc: csv.Error, line: int) -> str:
    if "field larger than field limit" in str(exc):
        return (
            f"a field is longer than {csv.field_size_limit()} characters (the CSV field limit; a proposal text has "
            f"at most {MAX_TEXT_CHARS}), or a quote opened here is never closed"
        )
    if "unexpected end of data" in str(exc):
        return "a quote opened here is never closed, so the lines after it would read as one field; check the quotes"
    return f"a quote opened here is not closed where it should be ({exc} in line {line}), which merges rows"


def _refuse_merged_rows(values: list[str], columns: list[str], delimiter: str, where: str, start: int) -> None:
    """A field over several lines, one of which reads as a whole row: a quote opened at `start` was not closed."""
    for col, value in zip(columns, values, strict=False):
        for k, line in enumerate((part.rstrip("\r") for part in value.split("\n")[1:]), 1):
            if _reads_as_a_row(line, delimiter, columns):
                raise InputError(
                    f"{where}: field {col!r} runs on into line {start + k} ({shown_line(line)}), which reads as a row "
                    f"of its own: a quote opened in line {start} is not closed where it should be; check the quotes"
                )


def _reads_as_a_row(line: str, delimiter: str, columns: Sequence[str]) -> bool:
    # A whole row has a value for every column (Excel writes the empty ones too); an id has no spaces. Prose that
    # runs over lines rarely matches both, which keeps a real multi-line text (with commas in it) readable.
    if len(columns) < 2 or delimiter not in line:
        return False
    fields = next(csv.reader([line], delimiter=delimiter))
    if len(fields) != len(columns):
        return False
    return columns[0] != "id" or (bool(fields[0]) and not any(ch.isspace() for ch in fields[0]))


def shown_line(line: str, limit: int = 40) -> str:
    return repr(line if len(line) <= limit else line[: limit - 3] + "...")


def detect_delimiter(text: str, name: str) -> str:
    """The delimiter of CSV `text`: the one of comma, semicolon and tab in its header line (quoted names aside).

    >>> detect_delimiter("id;text\\nq1;Wij bouwen, samen met twee partners, een robot\\n", "ideas.csv")
    ';'

    A header of one column (just `text`) has none: comma. Another sign (`id|text`) is not guessed at. A header with
    several is left to `csv.Sniffer` (the one that splits every line alike); `InputError` when neither tells.
    """
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    bare = re.sub(r'"[^"]*"', "", header)
    found = [d for d in DELIMITERS if d in bare]
    if len(found) == 1:
        return found[0]
    if not found:
        if _ONE_NAME.match(header):  # a header of one column
            return ","
        raise InputError(
            f"{name}: cannot detect the delimiter: the header line {shown_line(header)} has no comma, semicolon or "
            "tab; save the file as CSV, or name the delimiter (--delimiter)"
        )
    try:
        guessed = csv.Sniffer().sniff("\n".join(lines[:SNIFF_LINES]), delimiters="".join(found)).delimiter
    except csv.Error:
        guessed = ""
    if guessed not in found:
        names = " and ".join(DELIMITER_NAMES[d] for d in found)
        raise InputError(
            f"{name}: cannot detect the delimiter: the header line has {names}, and the rows do not tell which "
            "separates the columns; name it (--delimiter)"
        )
    return guessed


def decode(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """The text of a file's bytes and the encoding it was read in: `encoding`, else UTF-8 (BOM or not), UTF-16 with
    a BOM, else cp1252. `InputError` when the bytes are not text in it.

    >>> decode("Café;900.000".encode("cp1252"), "a.csv")
    ('Café;900.000', 'cp1252')
    """
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise InputError(f"{name}: unknown encoding {encoding!r}; use e.g. utf-8, cp1252 or latin-1") from None
        try:
            text = data.decode("utf-8-sig" if codec == "utf-8" else codec)
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not valid {encoding} (byte {exc.start})") from None
        return _text(text, name), encoding
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        try:
            return _text(data.decode("utf-16"), name), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not valid UTF-16 (byte {exc.start})") from None
    try:
        return _text(data.decode("utf-8-sig"), name), "utf-8"
    except UnicodeDecodeError as first:
        try:
            return _text(data.decode(FALLBACK_ENCODING), name), FALLBACK_ENCODING
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{name}: neither UTF-8 (byte {first.start}) nor {FALLBACK_ENCODING} (byte {exc.start}); save it as "
                "UTF-8, or name its encoding (--encoding)"
            ) from None


def _text(text: str, name: str) -> str:
    if "\x00" in text:
        raise InputError(f"{name}: holds NUL characters: not a text file (a workbook must be named .xlsx)")
    return text


def _jsonl_rows(text: str, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    n = 0
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        n += 1
        where = f"{name}: row {n} (line {line_no})"
        too_deep = f"{where}: JSON nested more than {MAX_JSON_DEPTH} levels deep; a row is one flat object"
        if json_too_deep(line):
            raise InputError(too_deep)
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: invalid JSON: {exc.msg}") from None
        except RecursionError:  # not reached past the depth check; kept so no input can raise it
            raise InputError(too_deep) from None
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(row).__name__}")
        yield where, row


def json_too_deep(line: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects of one JSON line nest deeper than `limit` (brackets inside strings aside).

    >>> json_too_deep('{"text": "[[[x", "a": [[1]]}', limit=3), json_too_deep("[" * 5 + "]" * 5, limit=3)
    (False, True)
    """
    if line.count("[") + line.count("{") <= limit:  # the common case, counted at C speed
        return False
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", line)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def load_batch_file(
    path: Path, *, delimiter: str | None = None, encoding: str | None = None, sheet: str | None = None
) -> Batch:
    """Read and validate every row of a CSV, JSONL or .xlsx file (chosen by extension); see `load_batch`."""
    if path.exists() and not path.is_dir() and not path.is_file():  # /dev/zero would be read without end
        raise InputError(f"{path}: not a regular file (a device or a pipe); give a CSV, JSONL or .xlsx file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: input file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, expected a CSV, JSONL or .xlsx file") from None
    return load_batch(data, str(path), path.suffix, delimiter=delimiter, encoding=encoding, sheet=sheet)


def read_proposals(
    path: Path, *, delimiter: str | None = None, encoding: str | None = None, sheet: str | None = None
) -> list[Proposal]:
    """The validated proposals of a CSV, JSONL or .xlsx file (see `load_batch_file`)."""
    return load_batch_file(path, delimiter=delimiter, encoding=encoding, sheet=sheet).proposals


def load_batch(
    data: bytes,
    name: str,
    suffix: str | None = None,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    max_unpacked: int = workbook.MAX_UNPACKED_BYTES,
    max_rows: int = MAX_ROWS,
) -> Batch:
    """The proposals of a file's bytes (a file or an upload), its type from `suffix` (default: `name`'s).

    The delimiter and encoding of a CSV are detected unless given; `sheet` picks a workbook's sheet (default: the
    first), `max_unpacked` bounds what a workbook may unpack to, `max_rows` how many rows it may have (reading stops
    at the first row past it). `name` starts every error message.
    """
    kind = (PurePosixPath(name).suffix if suffix is None else suffix).lower()
    if kind in workbook.SUFFIXES:
        if delimiter or encoding:
            raise InputError(f"{name}: a workbook has no delimiter or encoding to choose; leave them out")
        found = workbook.read_sheet(data, name, sheet, max_unpacked)
        return Batch(proposals_of(found.rows, name, max_rows), f"sheet {found.title!r}")
    if sheet is not None:
        raise InputError(f"{name}: a sheet ({sheet!r}) was named, but only a workbook (.xlsx) has sheets")
    if kind not in CSV_SUFFIXES + JSONL_SUFFIXES:
        hint = "; save it as .xlsx" if kind == ".xls" else ""
        raise InputError(f"{name}: unknown file type {kind!r}; {SUFFIXES}{hint}")
    if kind in CSV_SUFFIXES and data.startswith(b"PK\x03\x04"):
        raise InputError(f"{name}: a zip file, not text: an Excel workbook must be named .xlsx")
    text, used = decode(data, name, encoding)
    if kind in JSONL_SUFFIXES:
        return Batch(proposals_of(_jsonl_rows(text, name), name, max_rows), f"JSON lines, encoding {used}")
    return _csv_batch(text, name, used, delimiter, max_rows)


def _csv_batch(text: str, name: str, encoding: str, delimiter: str | None, max_rows: int = MAX_ROWS) -> Batch:
    offset = 0
    first, _, rest = text.partition("\n")
    sep = _SEP_LINE.match(first)
    if sep:
        text, offset, delimiter = rest, 1, delimiter or sep.group(1)
    if delimiter is None:
        delimiter = detect_delimiter(text, name)
    shown = "tab" if delimiter == "\t" else repr(delimiter)
    rows = _csv_rows(text, name, delimiter, offset)
    return Batch(proposals_of(rows, name, max_rows), f"delimiter {shown}, encoding {encoding}")


def parse_proposals(text: str, name: str, suffix: str, delimiter: str | None = None) -> list[Proposal]:
    """Validate every row of CSV or JSONL `text` (chosen by `suffix`); `name` starts every error message.

    >>> [p.id for p in parse_proposals("id,text\\nq1,Een waterstof pilot\\n", "upload.csv", ".csv")]
    ['q1']
    """
    suffix = suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _csv_batch(text, name, "utf-8", delimiter).proposals
    if suffix in JSONL_SUFFIXES:
        return proposals_of(_jsonl_rows(text, name), name)
    raise InputError(f"{name}: unknown file type {suffix!r}; {SUFFIXES}")


def proposals_of(rows: Iterable[tuple[str, dict[str, Any]]], name: str, max_rows: int = MAX_ROWS) -> list[Proposal]:
    """Validate rows `(where, values)` of a file into proposals: extra columns ignored, ids numbered and unique.

    Rows are counted as they are read, so a file of 200,000 rows is refused at row `max_rows + 1` (measured: a
    1.9 MB upload of 200,000 rows was checked whole for 1.8 s before the count refused it).
    """
    ignored: set[str] = set()
    proposals = []
    for n, (where, row) in enumerate(rows, 1):
        if n > max_rows:
            raise InputError(f"{name}: more than {max_rows} rows; at most {max_rows} per file")
        # Files come from other systems and carry extra columns (notes, names): skip them, and say so once.
        extra = {k for k in row if k not in COLUMNS}
        ignored |= extra
        proposals.append(proposal_from_row({k: v for k, v in row.items() if k not in extra}, where, str(n)))
    if ignored:
        log.warning("%s: ignoring column(s) %s; used: %s", name, ", ".join(sorted(ignored)), ", ".join(COLUMNS))
    if not proposals:
        raise InputError(f"{name}: no proposals in the file")
    seen: dict[str, int] = {}
    for n, p in enumerate(proposals, 1):
        if p.id in seen:
            raise InputError(f"{name}: row {n}: field 'id': value {p.id!r} repeats row {seen[p.id]}")
        seen[p.id] = n
    return proposals


def write_results_file(path: Path, results: Sequence[MatchResult]) -> None:
    """The results as JSONL (one line per proposal); as a workbook when `path` ends in .xlsx, or as a CSV table when
    it ends in .csv or .tsv (UTF-8 with a BOM, every cell as text: `io.sheets.csv_text`): one row per proposal and
    match, `io.workbook.MATCH_COLUMNS`. The file appears whole or not at all."""
    suffix = path.suffix.lower()
    if suffix in workbook.SUFFIXES:
        _check_folder(path)
        with atomic_path(path) as tmp:
            workbook.write_matches(tmp, results)
        return
    if suffix in CSV_SUFFIXES:
        _check_folder(path)
        delimiter = "\t" if suffix == ".tsv" else ","
        text = csv_text(workbook.MATCH_COLUMNS, workbook.match_rows(results), delimiter=delimiter)
        write_bytes(path, text.encode("utf-8-sig"))  # with a BOM, so that Excel reads it as UTF-8
        return
    write_lines_atomic(path, (r.model_dump_json() for r in results))


def write_jsonl_atomic(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write every record as one JSON line, whole or not at all (see `write_lines_atomic`)."""
    write_lines_atomic(path, (json.dumps(rec, ensure_ascii=False) for rec in records))


def write_lines_atomic(path: Path, lines: Iterable[str]) -> None:
    """Write all lines to a temporary file beside `path`, then rename: the file appears complete or not at all."""
    _check_folder(path)
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")


def _check_folder(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{path}: output folder {folder} does not exist")
