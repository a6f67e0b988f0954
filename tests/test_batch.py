from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.errors import InputError
from matcher.io.batch import read_proposals, write_jsonl_atomic


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
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
