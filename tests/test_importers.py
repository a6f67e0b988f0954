"""Importers for real export formats, on small excerpts written here (with their flaws) and, when present, on the
real files in ../shared/data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from matcher import CorpusError, InputError, load_corpus
from matcher.cli import main
from matcher.io.importers import import_ft_topics, import_operations
from matcher.io.importers.clean import clean_text, fix_mojibake
from matcher.io.importers.operations import dutch_amount, dutch_date
from matcher.records import FtProgramme
from matcher.rules.availability import status_on

from .conftest import INSTRUMENTS, SHARED, bundled_corpus, write_corpus

AS_OF = dt.date(2026, 8, 1)
PROGRAMMES = bundled_corpus().mappings.ft_programmes
PLACES = bundled_corpus().places
URL = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/"
CONDITIONS = (
    '">General conditions1. Admissibility Conditions: Proposal page limit and layoutdescribed in Annex A of the '
    "Work Programme.2. Eligible Countriesdescribed in Annex B.3. Other Eligible Conditionsn/a4. Financial and "
    "operational capacity and exclusiondescribed in Annex C.5a. Evaluation and award: Award criteriaare described "
    "in Annex D.6. Legal and financial set-upLump sum as in Annex 5.Eligible costs are lump sums.Specific conditions"
    " described in the work programme"
)


def topic(topic_id: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "topicId": topic_id,
        "title": "Green hydrogen valleys",
        "programme": "Horizon Europe",
        "callIdentifier": topic_id.rsplit("-", 1)[0],
        "typesOfAction": "HORIZON Innovation Actions",
        "deadline": "2026-09-15",
        "callStatus": "open",
        "budgetMin": 4000000,
        "budgetMax": 6000000,
        "expectedGrants": 2,
        "keywords": f"{topic_id}, electrolyser",
        "portalUrl": URL + topic_id.lower(),
        "description": "",
        "objectives": "",
        "topicConditions": "",
    }
    return base | fields


def jsonl(*rows: dict[str, Any] | str | bytes) -> bytes:
    out = b""
    for row in rows:
        if isinstance(row, bytes):
            out += row + b"\n"
        else:
            out += (row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)).encode() + b"\n"
    return out


@pytest.fixture
def topics_file(tmp_path: Path) -> Path:
    """Three good topics, then a malformed line, a topic without title and a line in Latin-1."""
    path = tmp_path / "topics.jsonl"
    path.write_bytes(
        jsonl(
            topic(
                "HORIZON-CL5-2026-01-D3-01",
                description="<p>Expected Outcome:Hydrogen valleysâ€™ electrolysers&nbsp;scale up.</p><p>Scope:The"
                " topic funds <b>pilots</b> of hydrogen in regions.</p>",
                topicConditions=CONDITIONS,
            ),
            topic(
                "ESF-2026-SKILLS",
                title="Skills for the hydrogen economy: training of workers",
                programme="ESF+",
                callStatus="forthcoming",
                deadline="2027-01-20",
                budgetMin=None,
                budgetMax=None,
                expectedGrants=None,
                objectives="Training and scholing of workers for jobs in the hydrogen economy of the regions.",
            ),
            topic(
                "EuropeAid/186002/DD/ACT/MA",
                title="Promotion de la culture d'Ã©galitÃ© au Maroc par la formation (training)",
                programme="EU External Action - Prospect (RELEX-PROSPECT)",
                deadline="2026-07-06",
            ),
            '{"topicId": "BROKEN-1", "title": "cut off',
            {k: v for k, v in topic("NO-TITLE-1").items() if k != "title"},
            json.dumps(topic("LATIN-1", title="Caf\u00e9 hydrogen"), ensure_ascii=False).encode("latin-1"),
        )
    )
    return path


def test_topics_become_instruments_with_cleaned_text(topics_file: Path) -> None:
    themes = load_corpus(write_corpus(topics_file.parent / "c")).themes
    instruments, report = import_ft_topics(topics_file, AS_OF, themes=themes, programmes=PROGRAMMES)
    assert [i.id for i in instruments] == [
        "eu-ft-horizon-cl5-2026-01-d3-01",
        "eu-ft-esf-2026-skills",
        "eu-ft-europeaid-186002-dd-act-ma",
    ]
    first, skills, closed = instruments
    assert first.summary == (
        "Expected Outcome: Hydrogen valleys’ electrolysers scale up. "
        "Scope: The topic funds pilots of hydrogen in regions."
    )
    assert first.criteria == (
        "Admissibility Conditions: Proposal page limit and layout: described in Annex A of the Work Programme",
        "Eligible Countries: described in Annex B",
        "Financial and operational capacity and exclusion: described in Annex C",
    )
    assert (first.level, first.regions, first.instrument_type, status_on(first, AS_OF)[0]) == (
        "eu",
        ("EU",),
        "grant",
        "open",
    )
    assert (first.min_amount_eur, first.max_amount_eur, first.expected_grants) == (4_000_000, 6_000_000, 2)
    assert (first.programme, first.call_id, first.type_of_action) == (
        "Horizon Europe",
        "HORIZON-CL5-2026-01-D3",
        "HORIZON Innovation Actions",
    )
    assert (first.recurrence, [r.closes for r in first.rounds]) == ("one_off", [dt.date(2026, 9, 15)])
    assert first.themes == ("energy",)  # "research" of Horizon Europe is not in the tiny taxonomy
    assert first.keywords == ("electrolyser",)
    assert (str(first.source.url), first.source.as_of) == (URL + "horizon-cl5-2026-01-d3-01", AS_OF)
    assert first.funds == ()
    # no description: the objectives; forthcoming call: expected; ESF+ is the ESF family
    assert skills.summary == "Training and scholing of workers for jobs in the hydrogen economy of the regions."
    assert (status_on(skills, AS_OF)[0], skills.funds, skills.min_amount_eur, skills.expected_grants) == (
        "expected",
        ("ESF",),
        None,
        None,
    )
    assert skills.themes == ("human-capital", "energy")
    assert skills.criteria == ("Voorwaarden: zie de topicpagina op het Funding & Tenders-portaal.",)
    # mojibake repaired; no description or objectives: the title is the summary; deadline before as_of: closed
    assert closed.name == "Promotion de la culture d'égalité au Maroc par la formation (training)"
    assert closed.summary == closed.name
    assert status_on(closed, AS_OF)[0] == "closed"


def test_bad_topic_lines_are_reported_with_file_line_and_reason(topics_file: Path) -> None:
    themes = load_corpus(write_corpus(topics_file.parent / "c")).themes
    _, report = import_ft_topics(topics_file, AS_OF, themes=themes, programmes=PROGRAMMES)
    assert [(p.line, p.reason) for p in report.problems] == [
        (4, "malformed"),
        (5, "missing field"),
        (6, "encoding"),
    ]
    assert (
        str(report.problems[1])
        == f"{topics_file}:5: missing field: topic NO-TITLE-1: field 'title' is missing or empty"
    )
    assert str(report.problems[2]).endswith("not valid UTF-8 (byte 0xe9 at column 37)")
    assert report.summary() == (
        f"{topics_file}: imported 3 topics, skipped 3 (encoding: 1, malformed: 1, missing field: 1)"
    )


def test_strict_import_stops_at_the_first_bad_topic(topics_file: Path) -> None:
    with pytest.raises(InputError, match=r"topics\.jsonl:4: malformed: not valid JSON: .*--strict"):
        import_ft_topics(topics_file, AS_OF, strict=True, programmes=PROGRAMMES)


def test_topic_values_that_cannot_be_read_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        jsonl(
            topic("A-1", deadline="15 september"),
            topic("A-2", budgetMin=9, budgetMax=3),
            topic("A-3", portalUrl="not a url"),
            topic("A-4"),
            topic("A-4", title="Same topic id, another title"),
            "[1, 2]",
        )
    )
    instruments, report = import_ft_topics(path, AS_OF, programmes=PROGRAMMES)
    assert [i.id for i in instruments] == ["eu-ft-a-4"]
    assert [(p.line, p.reason) for p in report.problems] == [
        (1, "invalid value"),
        (2, "invalid value"),
        (3, "invalid value"),
        (5, "duplicate id"),
        (6, "malformed"),
    ]
    assert "field 'deadline': value '15 september' is not a date" in str(report.problems[0])
    assert "field 'budgetMin': value 9 is larger than budgetMax 3" in str(report.problems[1])
    assert "field 'source.url'" in str(report.problems[2])


def test_the_programme_mapping_is_a_value(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(jsonl(topic("A-1", title="Een oproep voor nieuwe pilots", keywords="")))
    mapping = {"Horizon Europe": FtProgramme(theme="energy", funds=("EFRO",))}
    instruments, _ = import_ft_topics(path, AS_OF, programmes=mapping)
    assert (instruments[0].themes, instruments[0].funds) == (("energy",), ("EFRO",))
    instruments, report = import_ft_topics(path, AS_OF, programmes={})
    assert instruments == []
    assert "field 'themes': no theme of the taxonomy fits" in str(report.problems[0])


OPERATIONS = (
    "row_id,beneficiary,title_nl,title_en,fund,summary,eu_subsidy_eur,total_cost_eur,start_date,end_date\n"
    "r1,Paques B.V.,Bugs to the Rescue,Bugs to the Rescue,EFRO,Ontzwaveling van biogas met bacteriën.,"
    "1.238.920,4.420.637,15.04.2009,31.12.2013\n"
    'r2,Scalda,Leren in de haven,,ESF,"Scholing van Zeeuwse havenwerkers,\nover twee regels.",12.500,'
    '"25.000,50",01.01.2010,\n'
    "r3,Gemeente X,Zonder bedragen,,efro,Een kort project in Groningen en Drenthe.,,,,\n"
    'r4,Y,Fout bedrag,,EFRO,Tekst.,"12,5x",1.000,01.01.2010,01.01.2011\n'
    "r5,Z,Fout fonds,,EFJ,Tekst.,1.000,1.000,01.01.2010,01.01.2011\n"
    ",Z,Geen id,,ESF,Tekst.,1.000,1.000,01.01.2010,01.01.2011\n"
    "r1,Paques B.V.,Dubbel,,EFRO,Tekst.,1,1,,\n"
    "r8,Te,veel,velden,ESF,a,b,c,d,e,f\n"
)


def test_operations_become_funded_projects(tmp_path: Path) -> None:
    path = tmp_path / "ops.csv"
    path.write_text(OPERATIONS, encoding="utf-8")
    projects, report = import_operations(path, places=PLACES)
    assert [p.id for p in projects] == ["r1", "r2", "r3"]
    r1, r2, r3 = projects
    assert (r1.beneficiary, r1.title, r1.title_en, r1.fund) == (
        "Paques B.V.",
        "Bugs to the Rescue",
        "Bugs to the Rescue",
        "EFRO",
    )
    assert (r1.eu_subsidy_eur, r1.total_cost_eur) == (1_238_920, 4_420_637)
    assert (r1.start_date, r1.end_date, r1.year, r1.province, r1.source) == (
        dt.date(2009, 4, 15),
        dt.date(2013, 12, 31),
        2009,
        None,
        "ops.csv:2",
    )
    assert r2.summary == "Scholing van Zeeuwse havenwerkers, over twee regels."
    assert (r2.eu_subsidy_eur, r2.total_cost_eur, r2.end_date, r2.province, r2.title_en) == (
        12_500,
        25_000.5,
        None,
        "NL-ZE",
        None,
    )
    assert (r3.fund, r3.eu_subsidy_eur, r3.year, r3.province, r3.source) == ("EFRO", None, None, None, "ops.csv:5")
    assert [(p.line, p.reason) for p in report.problems] == [
        (6, "invalid value"),
        (7, "invalid value"),
        (8, "missing field"),
        (9, "duplicate id"),
        (10, "malformed"),
    ]
    assert str(report.problems[0]).startswith(f"{path}:6: invalid value: row r4: field 'eu_subsidy_eur': value '12,5x'")
    assert str(report.problems[1]).endswith("field 'fund': value 'EFJ'; expected EFRO or ESF")
    assert report.summary() == (
        f"{path}: imported 3 projects, skipped 5 (duplicate id: 1, invalid value: 2, malformed: 1, missing field: 1)"
    )


def test_a_file_in_the_wrong_encoding_is_reported_per_row_or_read_with_encoding(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes(
        (
            "row_id,beneficiary,title_nl,fund,summary\n"
            "a,Café De Kroon,Zonder accent,EFRO,Gewoon ascii\n"
            "b,Brabantse Ontwikkelings Maatschappij,Coöperatie,EFRO,Tekst in €\n"
        ).encode("cp1252")
    )
    projects, report = import_operations(path, places=PLACES)
    assert [p.id for p in projects] == []
    assert [(p.line, p.reason) for p in report.problems] == [(2, "encoding"), (3, "encoding")]
    assert "not valid utf-8 (byte 0xe9); save the file as UTF-8 or pass --encoding cp1252" in str(report.problems[0])
    projects, report = import_operations(path, encoding="cp1252", places=PLACES)
    assert [(p.beneficiary, p.title, p.province) for p in projects] == [
        ("Café De Kroon", "Zonder accent", None),
        ("Brabantse Ontwikkelings Maatschappij", "Coöperatie", "NL-NB"),
    ]
    assert report.skipped == 0


def test_a_csv_without_the_needed_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,text\n1,a\n")
    with pytest.raises(InputError, match=r"x\.csv:1: header lacks column\(s\) row_id, title_nl, fund"):
        import_operations(path, places=PLACES)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1.238.920", 1238920.0),
        ("125.679", 125679.0),
        ("9", 9.0),
        ("12.500,50", 12500.5),
        ("€ 1.000", 1000.0),
        ("", None),
    ],
)
def test_dutch_amounts(text: str, amount: float | None) -> None:
    assert dutch_amount(text) == amount


@pytest.mark.parametrize("text", ["12,5x", "1,000.50", "1.2345", "-", "-5"])
def test_bad_dutch_amounts(text: str) -> None:
    with pytest.raises(ValueError):
        dutch_amount(text)


def test_dates_in_dutch_and_iso_notation() -> None:
    assert dutch_date("15.04.2009") == dutch_date("2009-04-15") == dt.date(2009, 4, 15)
    assert dutch_date(" ") is None
    with pytest.raises(ValueError, match="not a date"):
        dutch_date("31.02.2009")


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("beneficiariesâ€™ costs", "beneficiaries’ costs"),
        ("filiÃ¨res â–ª item", "filières ▪ item"),
        ("TEMÃ\u0081TICA", "TEMÁTICA"),  # a byte that Windows-1252 leaves undefined
        ("naïve café", "naïve café"),  # correct text stays as it is
        ("café and â€œquotesâ€\u009d", "café and “quotes”"),  # mixed: only the misread sequences
    ],
)
def test_mojibake_is_repaired(raw: str, fixed: str) -> None:
    assert fix_mojibake(raw) == fixed


def test_clean_text_strips_html_and_unglues_sentences() -> None:
    assert clean_text("<ul><li>One</li><li>Two &amp; three</li></ul>costs.Scope:the <script>x()</script>end") == (
        "One Two & three costs. Scope: the end"
    )


# -- the command line: whole or nothing, counts on one line ---------------------------------------------------------
def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_import_writes_a_corpus_file_and_counts(
    topics_file: Path, corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "imported"
    # The programme mapping comes from the corpora given: here ESF+ is the ESF family.
    write_corpus(corpus_dir, mappings={"ft_programmes": {"ESF+": {"theme": "human-capital", "funds": ["ESF"]}}})
    code, stdout, stderr = _run(
        capsys,
        "import",
        "ft-topics",
        str(topics_file),
        "--as-of",
        "2026-08-01",
        "--out",
        str(out),
        "--corpora",
        str(corpus_dir),
    )
    assert code == 0, stderr
    assert stdout.strip() == (
        f"{topics_file}: imported 3 topics, skipped 3 (encoding: 1, malformed: 1, missing field: 1); "
        f"wrote {out / 'ft-topics.yaml'}"
    )
    assert (
        stderr.splitlines()[0]
        == f"skipped {topics_file}:4: malformed: not valid JSON: Unterminated string starting at (column 34)"
    )
    records = yaml.safe_load((out / "ft-topics.yaml").read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == [
        "eu-ft-horizon-cl5-2026-01-d3-01",
        "eu-ft-esf-2026-skills",
        "eu-ft-europeaid-186002-dd-act-ma",
    ]
    assert records[0]["rounds"][0]["closes"] == "2026-09-15" and records[0]["keywords"] == ["electrolyser"]
    assert "funds" not in records[0] and records[1]["funds"] == ["ESF"]  # empty fields are left out, as in corpora/


def test_cli_strict_import_writes_nothing(
    topics_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "imported"
    code, stdout, stderr = _run(capsys, "import", "ft-topics", str(topics_file), "--out", str(out), "--strict")
    assert code == 2
    assert f"{topics_file}:4: malformed" in stderr and "Traceback" not in stderr
    assert stdout == ""
    assert not out.exists()


def test_cli_import_with_nothing_good_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ops.csv"
    path.write_text("row_id,title_nl,fund\nr1,Titel,XYZ\n")
    out = tmp_path / "imported"
    out.mkdir()
    code, _, stderr = _run(capsys, "import", "operations", str(path), "--out", str(out))
    assert code == 2
    assert "imported 0 projects, skipped 1 (invalid value: 1): nothing imported, nothing written" in stderr
    assert list(out.iterdir()) == []


def test_cli_operations_import_then_merge_and_validate(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ops.csv"
    path.write_text(OPERATIONS, encoding="utf-8")
    out = tmp_path / "imported"
    code, stdout, _ = _run(capsys, "import", "operations", str(path), "--out", str(out), "--strict")
    assert code == 2 and not out.exists()
    code, stdout, _ = _run(capsys, "import", "operations", str(path), "--out", str(out))
    assert code == 0
    assert stdout.startswith(f"{path}: imported 3 projects, skipped 5")
    assert len((out / "projects.jsonl").read_text().splitlines()) == 3
    code, stdout, _ = _run(capsys, "validate", "--corpora", str(corpus_dir), "--extra", str(out))
    assert code == 0
    assert "5 instruments" in stdout and "3 funded projects" in stdout


# -- merging imported folders with the corpora ---------------------------------------------------------------------
def _extra(
    folder: Path, instruments: list[dict[str, Any]] | None = None, projects: list[dict[str, Any]] | None = None
) -> Path:
    folder.mkdir(parents=True)
    if instruments is not None:
        (folder / "ft-topics.yaml").write_text(yaml.safe_dump(instruments, allow_unicode=True))
    if projects is not None:
        (folder / "projects.jsonl").write_text("".join(json.dumps(p) + "\n" for p in projects))
    return folder


def test_extra_folders_are_merged_and_change_the_corpus_hash(corpus_dir: Path, tmp_path: Path) -> None:
    new = dict(INSTRUMENTS[0], id="eu-ft-extra-1", level="eu")
    extra = _extra(tmp_path / "x", [new], [{"id": "p1", "title": "Project", "fund": "EFRO"}])
    plain, merged = load_corpus(corpus_dir), load_corpus(corpus_dir, extra=[extra])
    assert [i.id for i in merged.instruments] == [*(i.id for i in plain.instruments), "eu-ft-extra-1"]
    assert [p.id for p in merged.projects] == ["p1"]
    assert merged.hash != plain.hash


def test_duplicate_ids_across_corpora_and_extras_are_an_error(corpus_dir: Path, tmp_path: Path) -> None:
    one = _extra(tmp_path / "one", [INSTRUMENTS[0]], [{"id": "p1", "title": "A", "fund": "ESF"}])
    two = _extra(tmp_path / "two", projects=[{"id": "p1", "title": "B", "fund": "EFRO"}])
    with pytest.raises(CorpusError) as err:
        load_corpus(corpus_dir, extra=[one, two])
    message = str(err.value)
    assert (
        f"{one / 'ft-topics.yaml'}: duplicate id 'nl-waterstof' (also in {corpus_dir / 'instruments' / 'tiny.yaml'})"
        in message
    )
    assert f"{two / 'projects.jsonl'}: duplicate id 'p1' (also in {one / 'projects.jsonl'})" in message


def test_bad_project_lines_and_missing_folders_are_named(corpus_dir: Path, tmp_path: Path) -> None:
    bad = _extra(tmp_path / "bad", projects=[{"id": "p1", "title": "A", "fund": "EFRO", "province": "NL-XX"}])
    with pytest.raises(CorpusError, match=r"projects\.jsonl:1: record \(id p1\): field 'province'"):
        load_corpus(corpus_dir, extra=[bad])
    with pytest.raises(CorpusError, match="extra corpus folder not found"):
        load_corpus(corpus_dir, extra=[tmp_path / "nope"])
    with pytest.raises(CorpusError, match="no \\*.yaml instrument file and no projects.jsonl"):
        load_corpus(corpus_dir, extra=[_extra(tmp_path / "empty")])


# -- the real exports in ../shared/data -----------------------------------------------------------------------------
DATA = SHARED / "data"
TOPICS = DATA / "eu-ft-calls-2026" / "topics.jsonl"
OPERATIONS_CSV = DATA / "nl-structural-funds-2007-2013" / "projects_dev.csv"


@pytest.mark.skipif(not (TOPICS.exists() and OPERATIONS_CSV.exists()), reason=f"real exports not found under {DATA}")
def test_both_importers_run_on_the_real_files(tmp_path: Path) -> None:
    bundled = load_corpus(Path(__file__).resolve().parent.parent / "corpora")
    instruments, topics = import_ft_topics(
        TOPICS, AS_OF, themes=bundled.themes, programmes=bundled.mappings.ft_programmes
    )
    assert (topics.imported, topics.skipped) == (629, 0)
    assert sum(status_on(i, AS_OF)[0] == "closed" for i in instruments) == 4
    assert not any("â€" in i.summary or "Ã" in i.name for i in instruments)
    projects, operations = import_operations(OPERATIONS_CSV, places=bundled.places)
    assert (operations.imported, operations.skipped) == (1077, 0)
    assert {p.fund for p in projects} == {"EFRO", "ESF"}
    assert sum(p.fund == "EFRO" for p in projects) == 474
