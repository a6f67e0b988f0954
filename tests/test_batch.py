from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from matcher.cli import main
from matcher.errors import InputError
from matcher.io.batch import load_batch_file, read_proposals, write_jsonl_atomic

from .conftest import closing_soon_corpus


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_csv_with_optional_columns(tmp_path: Path) -> None:
    f = write(tmp_path / "in.csv", "id,text,region,budget_eur,trl\na,Waterstof pilot,NL-GR,250000,5\n,Scholing,,,\n")
    props = read_proposals(f)
    assert [(p.id, p.region, p.budget_eur, p.trl) for p in props] == [
        ("a", "NL-GR", 250000.0, 5),
        ("2", None, None, None),
    ]


def test_jsonl_skips_blank_lines(tmp_path: Path) -> None:
    f = write(tmp_path / "in.jsonl", '{"id": "x", "text": "één"}\n\n{"text": "twee", "partners": 3}\n')
    assert [(p.id, p.partners) for p in read_proposals(f)] == [("x", None), ("2", 3)]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "a.csv",
            "text,budget_eur\nok,-5\n",
            "a.csv: row 1: field 'budget_eur': value '-5': an amount cannot be negative",
        ),
        (
            "a.csv",
            "text,budget_eur\nok,veel\n",
            "a.csv: row 1: field 'budget_eur': value 'veel': not an amount in euros",
        ),
        (
            "a.csv",
            "text,trl\nok,12\n",
            "a.csv: row 1: field 'trl': value '12': Input should be less than or equal to 9",
        ),
        ("a.csv", "text,region\nok,NL-XX\n", "a.csv: row 1: field 'region': value 'NL-XX'"),
        ("a.csv", "text\nok\n   \n", "a.csv: row 2: field 'text'"),
        ("a.csv", "naam\nok\n", "a.csv: row 1: field 'text' is missing"),
        ("a.csv", "", "a.csv: empty file"),
        ("a.csv", "text\n", "a.csv: no proposals in the file"),
        ("a.csv", "text\nok,extra\n", "a.csv: row 1 (line 2): more values than header columns"),
        ("a.jsonl", '{"text": "ok"}\n{"text": "kapot"\n', "a.jsonl: row 2 (line 2): invalid JSON"),
        ("a.jsonl", '["text"]\n', "a.jsonl: row 1 (line 1): expected a JSON object, got list"),
        ("a.jsonl", '{"text": "ok", "applicant_type": "bakker"}\n', "field 'applicant_type': value 'bakker'"),
        (
            "a.jsonl",
            '{"id": "1", "text": "a"}\n{"id": "1", "text": "b"}\n',
            "row 2: field 'id': value '1' repeats row 1",
        ),
        ("a.txt", "text\nok\n", "unknown file type '.txt'"),
    ],
)
def test_bad_rows_name_row_field_and_value(tmp_path: Path, name: str, content: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        read_proposals(write(tmp_path / name, content))
    assert message in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="input file not found"):
        read_proposals(tmp_path / "nope.csv")


def test_text_over_the_limit_is_rejected(tmp_path: Path) -> None:
    f = write(tmp_path / "a.jsonl", json.dumps({"text": "x" * 20_001}) + "\n")
    with pytest.raises(InputError, match="field 'text'.*at most 20000 characters"):
        read_proposals(f)


def test_atomic_write_leaves_no_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"

    def records():  # type: ignore[no-untyped-def]
        yield {"a": 1}
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_jsonl_atomic(out, records())
    assert list(tmp_path.iterdir()) == []
    write_jsonl_atomic(out, [{"a": 1}, {"b": "é"}])
    assert out.read_text(encoding="utf-8") == '{"a": 1}\n{"b": "é"}\n'


def test_extra_columns_of_a_file_are_ignored_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    f = write(tmp_path / "in.csv", "id,text,kleur,notitie\na,Waterstof,rood,bellen\n")
    assert [(p.id, p.text) for p in read_proposals(f)] == [("a", "Waterstof")]
    assert "ignoring column(s) kleur, notitie" in caplog.text


# -- files as advisers have them: delimiter and encoding detected ------------------------------------------------------
HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser"
TRAINING = "Scholing en opleiding van onze werknemers"
MEDTECH = "Medische technologie voor de zorg"
AS_OF = "2026-11-30"
# Excel on a Dutch Windows: "CSV (puntkomma)" in cp1252, amounts as typed ("900.000"), commas inside the text
SEMICOLON_CP1252 = (
    "id;text;budget_eur;regio-adviseur\r\n"
    f"w1;{HYDROGEN}, café-eigenaar René;900.000;Zoë\r\n"
    f"s1;{TRAINING} (één team, coördinator Noël);€ 35.000;\r\n"
).encode("cp1252")


def run_cli(corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`matcher.cli.main` on the tiny corpus with the hashing encoder: (exit status, stdout, stderr)."""
    base = ["--corpora", str(corpus_dir), "--model", "hashing", "--artefacts", str(tmp_path / "art")]
    try:
        code = main([args[0], *base, *args[1:]])
    except SystemExit as exc:  # argparse exits 2 on bad arguments
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


Triage = Callable[..., tuple[int, list[dict[str, Any]], str]]


@pytest.fixture
def triage(corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Triage:
    """`matcher triage FILE --output out.jsonl --as-of 2026-11-30 [ARGS]`: (exit status, results, stderr)."""

    def invoke(src: Path, *args: str) -> tuple[int, list[dict[str, Any]], str]:
        out = tmp_path / "out.jsonl"
        command = ["triage", str(src), "--output", str(out), "--as-of", AS_OF, *args]
        code, _, err = run_cli(corpus_dir, tmp_path, capsys, *command)
        lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
        return code, [json.loads(line) for line in lines], err

    return invoke


def first_matches(results: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["proposal_id"], r["matches"][0]["instrument_id"]) for r in results]


def test_a_semicolon_cp1252_file_is_read_with_its_amounts_and_accents(tmp_path: Path) -> None:
    batch = load_batch_file(write_bytes(tmp_path / "ideas.csv", SEMICOLON_CP1252))
    assert batch.detected == "delimiter ';', encoding cp1252"
    assert [(p.id, p.text, p.budget_eur) for p in batch.proposals] == [
        ("w1", f"{HYDROGEN}, café-eigenaar René", 900000.0),
        ("s1", f"{TRAINING} (één team, coördinator Noël)", 35000.0),
    ]


ROWS = [("id", "text", "trl"), ("w1", f"{HYDROGEN}, zo snel", "6"), ("m1", MEDTECH, "")]


def lines(delimiter: str, rows: list[tuple[str, ...]] = ROWS) -> str:
    return "".join(delimiter.join(f'"{v}"' if delimiter in v else v for v in row) + "\n" for row in rows)


@pytest.mark.parametrize(
    ("name", "data", "detected"),
    [
        ("bom.csv", ("\ufeff" + lines(",")).encode(), "delimiter ',', encoding utf-8"),
        ("tabs.csv", lines("\t").encode(), "delimiter tab, encoding utf-8"),
        ("tabs.tsv", lines("\t").encode(), "delimiter tab, encoding utf-8"),
        ("unicode.csv", lines("\t").encode("utf-16"), "delimiter tab, encoding utf-16"),
        ("sep.csv", ("sep=;\n" + lines(";")).encode(), "delimiter ';', encoding utf-8"),
    ],
)
def test_bom_tab_utf16_and_sep_line_files_are_read_alike(tmp_path: Path, name: str, data: bytes, detected: str) -> None:
    batch = load_batch_file(write_bytes(tmp_path / name, data))
    assert batch.detected == detected
    assert [(p.id, p.text, p.trl) for p in batch.proposals] == [("w1", ROWS[1][1], 6), ("m1", MEDTECH, None)]


def test_header_names_are_read_without_case_or_spaces(tmp_path: Path) -> None:
    f = write(tmp_path / "in.csv", f"ID ; Text ;Budget_EUR\nw1;{HYDROGEN};1,2 mln\n")
    assert [(p.id, p.text, p.budget_eur) for p in read_proposals(f)] == [("w1", HYDROGEN, 1_200_000.0)]


def test_a_text_over_several_lines_with_commas_is_not_a_merged_row(tmp_path: Path) -> None:
    f = write(tmp_path / "in.csv", f'id,text\nw1,"{HYDROGEN}.\nFase 2, in 2027, schalen we op"\nm1,{MEDTECH}\n')
    assert [(p.id, p.text) for p in read_proposals(f)] == [
        ("w1", f"{HYDROGEN}.\nFase 2, in 2027, schalen we op"),
        ("m1", MEDTECH),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # the quote closes at a field's end further down: without the check, 3 rows in and 2 proposals out
        (f'id,text\nw1,"{HYDROGEN}\ns1,{TRAINING}\nm1,maat 5"\nz1,{MEDTECH}\n',
         "in.csv: row 1 (line 2): field 'text' runs on into line 3 ('s1,Scholing en opleiding van onze wer...'), "
         "which reads as a row of its own: a quote opened in line 2 is not closed where it should be; check the "
         "quotes"),
        (f'id,text\nw1,{HYDROGEN}\ns1,"{TRAINING}\nm1,{MEDTECH}\n',
         "in.csv: row 2 (line 3): a quote opened here is never closed, so the lines after it would read as one "
         "field; check the quotes"),
        (f'id;text\nw1;"{HYDROGEN}\ns1;{TRAINING}\nm1;"{MEDTECH}"\n',
         "in.csv: row 1 (line 2): a quote opened here is not closed where it should be "
         "(';' expected after '\"' in line 4), which merges rows"),
        (f'"id,text\nw1,{HYDROGEN}\n',
         "in.csv: line 2 (the header): a quote opened here is never closed, so the lines after it would read as one "
         "field; check the quotes"),
    ],
)  # fmt: skip
def test_an_unbalanced_quote_is_refused_naming_its_line(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        read_proposals(write(tmp_path / "in.csv", content))
    assert str(err.value) == f"{tmp_path / 'in.csv'}: {message.removeprefix('in.csv: ')}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id|text\nw1|x\n",
         "cannot detect the delimiter: the header line 'id|text' has no comma, semicolon or tab; save the file as CSV, "
         "or name the delimiter (--delimiter)"),
        (b"id;text,notes\nw1;a;b\n",
         "cannot detect the delimiter: the header line has comma and semicolon, and the rows do not tell which "
         "separates the columns; name it (--delimiter)"),
        (b"text\n\x81\x8d\n",
         "neither UTF-8 (byte 5) nor cp1252 (byte 5); save it as UTF-8, or name its encoding (--encoding)"),
        (b"id,text\nw1,a\x00b\n", "holds NUL characters: not a text file (a workbook must be named .xlsx)"),
        (b"PK\x03\x04\x14\x00", "a zip file, not text: an Excel workbook must be named .xlsx"),
        (b"id;text;ID\nw1;a;b\n", "line 1 (the header): column 'id' appears twice (columns 1 and 3)"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_is_refused_naming_it(tmp_path: Path, data: bytes, message: str) -> None:
    path = write_bytes(tmp_path / "in.csv", data)
    with pytest.raises(InputError) as err:
        read_proposals(path)
    assert str(err.value) == f"{path}: {message}"


def test_given_delimiter_and_encoding_win_over_detection(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "in.csv", "id;text;notes,intern\nw1;Café, bar;b\n".encode("cp1252"))
    batch = load_batch_file(path, delimiter=";", encoding="latin-1")
    assert (batch.detected, [(p.id, p.text) for p in batch.proposals]) == (
        "delimiter ';', encoding latin-1",
        [("w1", "Café, bar")],
    )
    with pytest.raises(InputError, match=r"in\.csv: not valid utf-8 \(byte 27\)$"):
        load_batch_file(path, delimiter=";", encoding="utf-8")
    with pytest.raises(InputError, match="only a workbook"):
        load_batch_file(path, sheet="Blad1")


# -- through the command line ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "data", "detected"),
    [
        ("ideas.csv", SEMICOLON_CP1252, "delimiter ';', encoding cp1252"),
        ("bom.csv", f"\ufeffid,text\nw1,{HYDROGEN}\ns1,{TRAINING}\n".encode(), "delimiter ',', encoding utf-8"),
        ("tabs.tsv", f"id\ttext\nw1\t{HYDROGEN}\ns1\t{TRAINING}\n".encode(), "delimiter tab, encoding utf-8"),
    ],
)
def test_cli_triage_reads_each_format_and_says_how(
    triage: Triage, tmp_path: Path, name: str, data: bytes, detected: str
) -> None:
    src = write_bytes(tmp_path / name, data)
    code, results, err = triage(src)
    assert code == 0, err
    assert err.splitlines()[0] == f"{src}: {detected}"
    assert first_matches(results) == [("w1", "nl-waterstof"), ("s1", "nl-scholing")]


def test_cli_budget_of_a_cp1252_file_reaches_the_checks(triage: Triage, tmp_path: Path) -> None:
    code, results, err = triage(write_bytes(tmp_path / "ideas.csv", SEMICOLON_CP1252))
    assert code == 0, err
    flags = [r["flags"] for r in results]  # "missing_budget" as well, without the amounts
    assert flags == [["missing_region", "missing_applicant_type"], ["missing_region", "missing_applicant_type"]]


def test_cli_flags_override_detection(triage: Triage, tmp_path: Path) -> None:
    src = write_bytes(tmp_path / "ideas.csv", f"id;text;notes,intern\nw1;{HYDROGEN}, snel;x\n".encode())
    code, results, err = triage(src, "--delimiter", "semicolon", "--encoding", "latin-1")
    assert code == 0, err
    assert err.splitlines()[0] == f"{src}: delimiter ';', encoding latin-1"
    assert first_matches(results) == [("w1", "nl-waterstof")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--delimiter", "::"], "argument --delimiter: delimiter '::': one character, e.g. ',' ';' or 'tab'"),
        (["--encoding", "klingon"], "argument --encoding: unknown encoding 'klingon'; e.g. utf-8, cp1252 or latin-1"),
    ],
)
def test_cli_refuses_bad_delimiter_and_encoding(triage: Triage, tmp_path: Path, args: list[str], message: str) -> None:
    code, results, err = triage(write(tmp_path / "in.csv", f"text\n{HYDROGEN}\n"), *args)
    assert (code, results) == (2, [])
    assert message in err


def test_cli_refuses_an_unbalanced_quote_and_writes_nothing(triage: Triage, tmp_path: Path) -> None:
    src = write(tmp_path / "in.csv", f'id,text\nw1,"{HYDROGEN}\ns1,{TRAINING}\nm1,maat 5"\nz1,{MEDTECH}\n')
    code, results, err = triage(src)
    assert (code, results) == (2, [])
    assert err.startswith(f"matcher: error: {src}: row 1 (line 2): field 'text' runs on into line 3 ")
    assert "Traceback" not in err
    assert not (tmp_path / "out.jsonl").exists()


def test_cli_gaps_reads_a_semicolon_file_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpora = closing_soon_corpus(tmp_path / "corpora")
    src = write_bytes(tmp_path / "intake.csv", SEMICOLON_CP1252)
    code, out, err = run_cli(
        corpora, tmp_path, capsys, "gaps", str(src), "--as-of", AS_OF, "--report", str(tmp_path / "gaps.html")
    )
    assert code == 0, err
    assert err.splitlines()[0] == f"{src}: delimiter ';', encoding cp1252"
    assert out.startswith("gap analysis as of 2026-11-30: 2 proposals")


def test_dutch_and_english_header_names_of_advisers_sheets_are_read_as_ours(tmp_path: Path) -> None:
    f = write(
        tmp_path / "in.csv",
        f"Nummer;Omschrijving;Provincie;Type aanvrager;Projectbudget (euro)\nw1;{HYDROGEN};NL-GR;sme;1,2 mln\n",
    )
    found = [(p.id, p.text, p.region, p.applicant_type, p.budget_eur) for p in read_proposals(f)]
    assert found == [("w1", HYDROGEN, "NL-GR", "sme", 1_200_000.0)]
