"""Excel workbooks in and out (`matcher.io.workbook`), built in the test with openpyxl, read as advisers keep them:
a header over two rows with merged cells, numbers typed as numbers or as Dutch text, an extra sheet of notes.

The tiny corpus of conftest answers: a hydrogen pilot ranks nl-waterstof first, training nl-scholing, medical
technology eu-zorg.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from matcher import InputError, Matcher, Proposal, app
from matcher.io import workbook
from matcher.io.batch import load_batch, load_batch_file, write_results_file

from .test_batch import AS_OF, HYDROGEN, MEDTECH, TRAINING, first_matches, run_cli


def intake_workbook() -> Workbook:
    """Sheet "Intake" (the first, though not the active one) with a two-row merged header, and a sheet of notes."""
    book = Workbook()
    ws = book.active
    ws.title = "Intake"
    ws.append(["id", "Voorstel", None, "budget_eur", "trl", "as_of", "region"])
    ws.append([None, "text", None, None, None, None, None])
    for cells in ("A1:A2", "B1:C1", "B2:C2", "D1:D2", "E1:E2", "F1:F2", "G1:G2"):
        ws.merge_cells(cells)  # "text" spans B:C, the other names span both header rows
    ws.append([17, HYDROGEN, "met drie partners", 900000, 6, dt.datetime(2026, 11, 30), "NL-GR"])
    ws.append(["s1", TRAINING, None, "900.000", None, None, None])
    ws.append([None] * 7)  # an empty row is skipped
    ws.append(["m1", MEDTECH, None, None, 5.0, None, None])
    ws.merge_cells("G3:G4")  # one region typed once for two proposals
    notes = book.create_sheet("Toelichting")
    notes.append(["Dit blad is geen intake", "en heeft geen kolom text"])
    book.active = 1
    return book


def xlsx(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def one_sheet(rows: list[list[Any]], title: str = "Blad1") -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = title
    for row in rows:
        ws.append(row)
    return xlsx(book)


# -- reading -----------------------------------------------------------------------------------------------------------
def test_the_first_sheet_is_read_through_merged_header_cells_with_numbers_as_typed() -> None:
    batch = load_batch(xlsx(intake_workbook()), "intake.xlsx")
    assert batch.detected == "sheet 'Intake'"
    assert batch.proposals == [
        Proposal(
            id="17",
            text=f"{HYDROGEN} met drie partners",
            budget_eur=900000,
            trl=6,
            as_of=dt.date(2026, 11, 30),
            region="NL-GR",
        ),
        Proposal(id="s1", text=TRAINING, budget_eur=900000, region="NL-GR"),
        Proposal(id="m1", text=MEDTECH, trl=5),
    ]


def test_a_named_sheet_is_read_and_an_unknown_one_refused(tmp_path: Path) -> None:
    book = intake_workbook()
    book["Toelichting"].append(["text"])
    path = tmp_path / "intake.xlsx"
    book.save(path)
    with pytest.raises(InputError) as err:
        load_batch_file(path, sheet="Toelichting")
    assert str(err.value) == (
        f"{path}: sheet 'Toelichting': row 1 (the header row): no column 'text'; the header has "
        "'dit blad is geen intake', 'en heeft geen kolom text'"
    )
    with pytest.raises(InputError) as err:
        load_batch_file(path, sheet="Blad3")
    assert str(err.value) == f"{path}: no sheet 'Blad3'; the workbook has 'Intake', 'Toelichting'"
    assert [p.id for p in load_batch_file(path, sheet="Intake").proposals] == ["17", "s1", "m1"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["naam", "regio"], ["Anna", "NL-GR"]],
         "ideas.xlsx: sheet 'Blad1': row 1 (the header row): no column 'text'; the header has 'naam', 'regio'"),
        ([[None], [None, None, "text", "trl"], [None, None, HYDROGEN, 6], [None, None, TRAINING, 12]],
         "ideas.xlsx: sheet 'Blad1': row 2 (sheet row 4): field 'trl': value 12: Input should be less than or equal "
         "to 9"),
        ([["text", "budget_eur"], [HYDROGEN, "1,500"]],
         "ideas.xlsx: sheet 'Blad1': row 1 (sheet row 2): field 'budget_eur': value '1,500': ambiguous"),
        ([["text", "id", "Text"], [HYDROGEN, "a", "b"]],
         "ideas.xlsx: sheet 'Blad1': row 1: column 'text' appears twice (columns A and C); keep one"),
        ([["text"]], "ideas.xlsx: no proposals in the file"),
        ([], "ideas.xlsx: sheet 'Blad1': the sheet is empty, expected a header row with column 'text'"),
    ],
)  # fmt: skip
def test_a_bad_sheet_is_refused_naming_file_sheet_and_row(rows: list[list[Any]], message: str) -> None:
    with pytest.raises(InputError) as err:
        load_batch(one_sheet(rows), "ideas.xlsx")
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "ideas.xlsx: empty file, expected an .xlsx workbook"),
        (b"id,text\nw1,x\n", "ideas.xlsx: not a readable .xlsx workbook (File is not a zip file); open it in Excel "
         "and save it again"),
        (xlsx(intake_workbook())[:300], "ideas.xlsx: not a readable .xlsx workbook ("),
        (workbook.OLE_MAGIC + bytes(504), "ideas.xlsx: encrypted (password-protected) or an old .xls workbook; "
         "save it in Excel as .xlsx, no password"),
    ],
)  # fmt: skip
def test_a_corrupt_or_encrypted_workbook_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InputError) as err:
        load_batch(data, "ideas.xlsx")
    assert str(err.value).startswith(message)


def test_a_workbook_that_unpacks_past_the_limit_is_refused_before_it_is_read() -> None:
    data = xlsx(intake_workbook())
    with pytest.raises(InputError) as err:
        load_batch(data, "bomb.xlsx", max_unpacked=10 * 2**10)
    assert str(err.value) == (
        f"bomb.xlsx: the workbook unpacks to {workbook._unpacked_size(data) / 2**10:.0f} KiB, more than 10 KiB; "
        "save the proposals alone (or as CSV)"
    )
    assert workbook.UPLOAD_UNPACKED_BYTES < workbook.MAX_UNPACKED_BYTES
    assert len(load_batch(data, "ok.xlsx", max_unpacked=workbook._unpacked_size(data)).proposals) == 3


def test_a_workbook_takes_no_delimiter_and_an_old_xls_is_sent_to_xlsx() -> None:
    with pytest.raises(InputError, match="ideas.xlsx: a workbook has no delimiter or encoding to choose"):
        load_batch(xlsx(intake_workbook()), "ideas.xlsx", delimiter=";")
    with pytest.raises(InputError, match=r"unknown file type '\.xls'; use .csv, .tsv, .jsonl or .xlsx; save it as"):
        load_batch(b"\xd0\xcf", "ideas.xls")


def test_values_without_a_header_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    data = one_sheet([["id", "text"], ["w1", HYDROGEN, "bellen!"]])
    assert [p.id for p in load_batch(data, "ideas.xlsx").proposals] == ["w1"]
    assert "ideas.xlsx: sheet 'Blad1': ignoring values in column(s) C, which have no header" in caplog.text


# -- writing -----------------------------------------------------------------------------------------------------------
def read_table(path: Path) -> tuple[list[Any], list[list[Any]], Any]:
    ws = load_workbook(path).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return rows[0], rows[1:], ws


def test_results_become_one_row_per_proposal_and_match_with_links(tmp_path: Path, tiny_matcher: Matcher) -> None:
    proposals = [Proposal(id="=1+1", text=HYDROGEN, as_of=dt.date(2026, 11, 30)), Proposal(id="s1", text=TRAINING)]
    results = app.triage(tiny_matcher, proposals, top_k=2, lang="nl")
    out = tmp_path / "triage.xlsx"
    write_results_file(out, results)
    header, rows, ws = read_table(out)
    assert tuple(header) == workbook.MATCH_COLUMNS
    first = results[0].matches[0]
    assert rows[0] == [
        "=1+1",  # text, not a formula
        1,
        "nl-waterstof",
        first.name,
        "national",
        first.score,
        first.eligibility,
        None,  # no criterion missed
        "region;applicant_type;trl;partners",  # unknown: the proposal does not say
        " | ".join(first.why),
        first.source_url,
        ";".join(results[0].flags),
    ]
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [("=1+1", 2, results[0].matches[1].instrument_id)] + [
        ("s1", n, m.instrument_id) for n, m in enumerate(results[1].matches, 1)
    ]
    assert ws["A2"].data_type == "s"
    assert ws["K2"].hyperlink.target == first.source_url
    assert (ws.freeze_panes, ws.auto_filter.ref) == ("A2", "A1:L5")
    assert [p.name for p in tmp_path.iterdir()] == ["triage.xlsx"]


@pytest.mark.parametrize(("name", "delimiter"), [("triage.csv", ","), ("triage.TSV", "\t")])
def test_results_as_csv_have_the_workbook_rows_as_text(
    tmp_path: Path, tiny_matcher: Matcher, name: str, delimiter: str
) -> None:
    proposals = [Proposal(id="=1+1", text=HYDROGEN, as_of=dt.date(2026, 11, 30)), Proposal(id="s1", text=TRAINING)]
    results = app.triage(tiny_matcher, proposals, top_k=2, lang="nl")
    out = tmp_path / name
    write_results_file(out, results)
    raw = out.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)  # Excel reads the accents of a file with a BOM as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=delimiter))
    assert tuple(rows[0]) == workbook.MATCH_COLUMNS
    first = results[0].matches[0]
    assert rows[1] == [
        "'=1+1",  # shown as text by a spreadsheet, never run as a formula
        "1",
        "nl-waterstof",
        first.name,
        "national",
        str(first.score),
        first.eligibility,
        "",
        "region;applicant_type;trl;partners",
        " | ".join(first.why),
        first.source_url or "",
        ";".join(results[0].flags),
    ]
    assert [(r[0], r[1]) for r in rows[2:]] == [("'=1+1", "2"), ("s1", "1"), ("s1", "2")]
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_failed_workbook_write_leaves_no_file(
    tmp_path: Path, tiny_matcher: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = app.triage(tiny_matcher, [Proposal(text=HYDROGEN)], top_k=2)

    def broken(_: Any) -> Any:
        yield ["p1", *[None] * (len(workbook.MATCH_COLUMNS) - 1)]
        raise RuntimeError("disk full")

    monkeypatch.setattr(workbook, "match_rows", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_results_file(tmp_path / "triage.xlsx", results)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="output folder .* does not exist"):
        write_results_file(tmp_path / "nope" / "triage.xlsx", results)


# -- through the command line ------------------------------------------------------------------------------------------
def test_cli_triages_an_xlsx_into_jsonl_and_into_xlsx(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "intake.xlsx"
    intake_workbook().save(src)
    out = tmp_path / "out.jsonl"
    code, _, err = run_cli(corpus_dir, tmp_path, capsys, "triage", str(src), "--output", str(out), "--as-of", AS_OF)
    assert code == 0, err
    assert err.splitlines()[0] == f"{src}: sheet 'Intake'"
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert first_matches(results) == [("17", "nl-waterstof"), ("s1", "nl-scholing"), ("m1", "eu-zorg")]

    table = tmp_path / "triage.xlsx"
    code, _, err = run_cli(
        corpus_dir, tmp_path, capsys, "triage", str(src), "--output", str(table), "--as-of", AS_OF, "--top", "2"
    )
    assert code == 0, err
    header, rows, ws = read_table(table)
    assert header[:3] == ["proposal_id", "rank", "instrument_id"]
    assert [(r[0], r[1], r[2]) for r in rows if r[1] == 1] == [("17", 1, "nl-waterstof"), ("s1", 1, "nl-scholing"),
                                                               ("m1", 1, "eu-zorg")]  # fmt: skip
    assert len(rows) == 6
    assert ws["K2"].hyperlink.target == results[0]["matches"][0]["source_url"]


def test_cli_reads_the_named_sheet_and_refuses_a_corrupt_workbook(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = intake_workbook()
    book.create_sheet("Week 49").append(["text", "id"])
    book["Week 49"].append([MEDTECH, "z9"])
    src = tmp_path / "intake.xlsx"
    book.save(src)
    out = tmp_path / "out.jsonl"
    code, _, err = run_cli(corpus_dir, tmp_path, capsys, "triage", str(src), "--output", str(out), "--sheet", "Week 49")
    assert code == 0, err
    assert err.splitlines()[0] == f"{src}: sheet 'Week 49'"
    assert [json.loads(line)["proposal_id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["z9"]

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(src.read_bytes()[:500])
    code, stdout, err = run_cli(corpus_dir, tmp_path, capsys, "triage", str(broken), "--output", str(tmp_path / "b"))
    assert (code, stdout) == (2, "")
    assert err.startswith(f"matcher: error: {broken}: not a readable .xlsx workbook (")
    assert "Traceback" not in err and not (tmp_path / "b").exists()


def test_a_sheet_with_dutch_header_names_is_read_and_a_missing_text_named_as_written() -> None:
    batch = load_batch(one_sheet([["Kenmerk", "Projectomschrijving", "Regio"], ["w1", HYDROGEN, "NL-GR"]]), "i.xlsx")
    assert [(p.id, p.text, p.region) for p in batch.proposals] == [("w1", HYDROGEN, "NL-GR")]
    with pytest.raises(InputError, match="no column 'text'; the header has 'naam', 'regio'"):
        load_batch(one_sheet([["Naam", "Regio"], ["x", "NL-GR"]]), "i.xlsx")
