"""Gap analysis over the tiny corpus of conftest, with one change: nl-scholing's call closes 30 days after AS_OF.

Answers known in advance (threshold 0.7, hashing encoder):
- agrifood x NL-GE has two proposals (e1, e2) and no instrument: the only one, prov-gelderland-eiwit, is closed;
- nl-scholing closes in 30 days and s1 matches it; rom-oost-lening and eu-zorg nobody matches;
- the weak matches form two clusters: the protein proposals and the theatre proposals.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import pytest

from matcher import InputError, Matcher, Proposal
from matcher.analysis import gap_report as report_module
from matcher.analysis.calibration import separating_cut
from matcher.analysis.gap_report import CSV_NAMES, csv_paths, manifest_path, published, render_html, write_report
from matcher.analysis.gaps import GapOptions, GapReport, cluster_labels, gap_report
from matcher.cli import main

from .conftest import GAP_AS_OF, GAP_BATCH, GAP_THRESHOLD, closing_soon_corpus, gap_proposals

AS_OF = GAP_AS_OF


@pytest.fixture(scope="module")
def report(gap_matcher: Matcher) -> GapReport:
    return gap_report(gap_matcher, gap_proposals(), AS_OF, GAP_THRESHOLD)


def test_a_cell_with_demand_and_no_open_instrument_is_a_gap(report: GapReport) -> None:
    cell = next(c for c in report.cells if (c.theme, c.region) == ("agrifood", "NL-GE"))
    assert (cell.demand, cell.supply, cell.gap) == (2, 0, True)
    assert report.gap_cells()[0] == cell
    energy = next(c for c in report.cells if (c.theme, c.region) == ("energy", "NL-GR"))
    assert (energy.demand, energy.supply, energy.instruments, energy.gap) == (1, 1, ("nl-waterstof",), False)
    assert report.regions == ("NL-GR", "NL-GE", "NL-UT")


def test_an_instrument_closing_within_the_window_lists_its_demand(report: GapReport) -> None:
    [closing] = report.closing
    assert (closing.instrument_id, closing.days_left, closing.matching_proposals) == ("nl-scholing", 30, ("s1",))


def test_instruments_nobody_matched_leave_out_closed_ones(report: GapReport) -> None:
    assert [i.instrument_id for i in report.unmatched] == ["eu-zorg", "rom-oost-lening"]


def test_weak_matches_cluster_deterministically_with_distinctive_labels(
    gap_matcher: Matcher, report: GapReport
) -> None:
    assert sorted(u.proposal_id for u in report.unmet) == ["e1", "e2", "t1", "t2"]
    groups = sorted(tuple(sorted(c.members)) for c in report.clusters)
    assert groups == [("e1", "e2"), ("t1", "t2")]
    labels = {c.members[0][0]: c.label for c in report.clusters}
    assert "vleesvervangers" in labels["e"] and "theatergezelschap" in labels["t"]
    again = gap_report(gap_matcher, gap_proposals(), AS_OF, GAP_THRESHOLD)
    assert again.clusters == report.clusters
    assert report.to_dict()["clusters"][0]["members"] == list(report.clusters[0].members)


def test_cluster_labels_number_the_largest_cluster_first() -> None:
    vectors = [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.05, 1]]
    assert cluster_labels(__import__("numpy").array(vectors, dtype=float)).tolist() == [1, 1, 0, 0, 0]


def test_filters_keep_one_theme_and_reject_unknown_values(gap_matcher: Matcher) -> None:
    only = gap_report(gap_matcher, gap_proposals(), AS_OF, GAP_THRESHOLD, GapOptions(theme="agrifood", region="NL-GE"))
    assert [(c.theme, c.region, c.demand) for c in only.cells] == [("agrifood", "NL-GE", 2)]
    with pytest.raises(InputError, match="unknown theme 'kunst'; known themes: energy, human-capital"):
        gap_report(gap_matcher, gap_proposals(), AS_OF, GAP_THRESHOLD, GapOptions(theme="kunst"))
    with pytest.raises(InputError, match="unknown region 'NL-XX'; known regions: NL-GR"):
        gap_report(gap_matcher, gap_proposals(), AS_OF, GAP_THRESHOLD, GapOptions(region="NL-XX"))
    with pytest.raises(InputError, match="no proposals in the batch"):
        gap_report(gap_matcher, [], AS_OF, GAP_THRESHOLD)


def test_separating_cut_takes_the_middle_of_the_best_gap() -> None:
    assert separating_cut([0.3, 0.4, 0.5], [0.1, 0.2]) == 0.25
    assert separating_cut([0.3, 0.4, 0.15], [0.1, 0.2]) == 0.25  # one positive lost beats a false positive


def test_report_writes_html_and_every_csv(report: GapReport, tmp_path: Path) -> None:
    out = tmp_path / "q4.html"
    paths = write_report(report, out)
    assert paths == [out, *csv_paths(out).values()]
    assert [p.name for p in paths[1:]] == [f"q4-{n}.csv" for n in CSV_NAMES]
    page = out.read_text()
    assert page.count("data:image/png;base64,") == 4 and "<link" not in page and "fixed for the tests" in page
    assert '<html lang="nl">' in page and "<h1>Gap-analyse, 2026-11-30</h1>" in page  # Dutch unless asked
    with csv_paths(out)["closing_soon"].open() as fh:
        [row] = list(csv.DictReader(fh))
    assert (row["instrument_id"], row["days_left"], row["proposal_ids"]) == ("nl-scholing", "30", "s1")
    # no temporary files left; the manifest, written last, names the complete set
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*(p.name for p in paths), "q4.manifest.json"])
    assert published(out)


UNMATCHED = {
    "nl": "<tr><th>regeling</th><th>naam</th><th>niveau</th><th>regio's</th><th>beschikbaarheid</th><th>sluit</th></tr>"
    '<tr class=""><td>eu-zorg</td><td>EU Medtech</td><td>Europees</td><td>EU</td><td>onzeker</td><td></td></tr>',
    "en": "<tr><th>instrument</th><th>name</th><th>level</th><th>regions</th><th>availability</th><th>closes</th></tr>"
    '<tr class=""><td>eu-zorg</td><td>EU Medtech</td><td>European</td><td>EU</td><td>uncertain</td><td></td></tr>',
}


@pytest.mark.parametrize(
    ("lang", "expected", "other"),
    [
        ("nl", ["<h1>Gap-analyse, 2026-11-30</h1>", "<h2>Regelingen die niemand vond</h2>", "<b>0,700</b>",
                '<td>Scholing</td><td>NL-UT</td><td class="n">2</td>', "<b>6</b>voorstellen</span>",
                "<b>1</b>sluiten binnen 90 dagen, met vraag</span>", "<li>unmet: q4-unmet.csv</li>"],
         ["Demand and supply", "Skills", "0.700"]),
        ("en", ["<h1>Gap analysis, 2026-11-30</h1>", "<h2>Instruments nobody matched</h2>", "<b>0.700</b>",
                '<td>Skills</td><td>NL-UT</td><td class="n">2</td>', "<b>6</b>proposals</span>",
                "<b>1</b>closing in 90 days with demand</span>", "<li>unmet: q4-unmet.csv</li>"],
         ["Vraag en aanbod", "Scholing</td>", "0,700"]),
    ],
)  # fmt: skip
def test_report_renders_in_dutch_and_in_english(
    report: GapReport, gap_matcher: Matcher, lang: str, expected: list[str], other: list[str]
) -> None:
    names = gap_matcher.corpus.theme_names(lang)
    page = render_html(report, {"demand_heatmap": b"png"}, {"unmet": "q4-unmet.csv"}, lang, names)
    assert page.startswith(f'<!doctype html>\n<html lang="{lang}">')
    assert [s for s in [*expected, UNMATCHED[lang]] if s not in page] == []
    assert [s for s in other if s in page] == []
    assert page.count("<img ") == 1 and 'src="data:image/png;base64,cG5n"' in page


def test_write_report_in_english(report: GapReport, gap_matcher: Matcher, tmp_path: Path) -> None:
    out = tmp_path / "q4.html"
    write_report(report, out, "en", gap_matcher.corpus.theme_names("en"), draw=lambda _: {})
    page = out.read_text()
    assert '<html lang="en">' in page and UNMATCHED["en"] in page and "<td>Skills</td>" in page


def test_a_failure_half_way_leaves_no_partial_report(report: GapReport, tmp_path: Path) -> None:
    def broken(_: GapReport) -> dict[str, bytes]:
        raise RuntimeError("chart failed")

    with pytest.raises(RuntimeError, match="chart failed"):
        write_report(report, tmp_path / "q4.html", draw=broken)
    assert list(tmp_path.iterdir()) == []


def _failing_replace(monkeypatch: pytest.MonkeyPatch, at: int, error: BaseException) -> None:
    """os.replace in the report module fails on its `at`-th call (1-based) with `error`."""
    real, calls = os.replace, [0]

    def replace(src: Any, dst: Any) -> None:
        calls[0] += 1
        if calls[0] == at:
            raise error
        real(src, dst)

    monkeypatch.setattr(report_module.os, "replace", replace)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_publish_failing_half_way_keeps_the_old_report_whole(
    report: GapReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "q4.html"
    write_report(report, out, draw=lambda _: {})
    before = _snapshot(tmp_path)
    newer = dataclasses.replace(report, as_of=dt.date(2026, 12, 1))
    _failing_replace(monkeypatch, 3, OSError(28, "No space left on device"))  # the review's fault: the 3rd rename
    with pytest.raises(OSError, match="No space left"):
        write_report(newer, out, draw=lambda _: {})
    assert _snapshot(tmp_path) == before  # the old six files and manifest, byte for byte; no temporary folder
    assert published(out)


def test_a_first_report_failing_half_way_leaves_nothing(
    report: GapReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_replace(monkeypatch, 4, OSError(13, "Permission denied"))
    with pytest.raises(OSError):
        write_report(report, tmp_path / "q4.html", draw=lambda _: {})
    assert list(tmp_path.iterdir()) == []


def test_a_kill_between_renames_leaves_a_set_that_reads_as_unpublished(
    report: GapReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "q4.html"
    write_report(report, out, draw=lambda _: {})
    newer = dataclasses.replace(report, as_of=dt.date(2026, 12, 1))

    class Killed(BaseException):  # what SIGKILL leaves: no handler runs, so undo the rollback's work by hand
        pass

    real = os.replace
    _failing_replace(monkeypatch, 3, Killed())
    monkeypatch.setattr(report_module, "_restore", lambda backups: None)
    with pytest.raises(Killed):
        write_report(newer, out, draw=lambda _: {})
    monkeypatch.setattr(report_module.os, "replace", real)
    assert not manifest_path(out).exists() and not published(out)  # old and new mixed, and it says so
    write_report(newer, out, draw=lambda _: {})  # the next run publishes a whole set again
    assert published(out) and "2026-12-01" in out.read_text()


def test_temporary_folders_of_killed_runs_are_removed_at_the_next_start(report: GapReport, tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".gaps-old.tmp", tmp_path / ".gaps-live.tmp"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "0.part").write_bytes(b"x" * 100)
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    write_report(report, tmp_path / "q4.html", draw=lambda _: {})
    assert not stale.exists() and fresh.exists()  # an hour old: a killed run's; younger: maybe a live one's


# -- the command line ------------------------------------------------------------------------------------------------
@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    corpora = closing_soon_corpus(tmp_path / "corpora")

    def invoke(*args: str) -> tuple[int, str, str]:
        base = ["--corpora", str(corpora), "--model", "hashing", "--artefacts", str(tmp_path / "art")]
        try:
            code = main(["gaps", *base, *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def batch_file(folder: Path, rows: list[tuple[str, str, str]] = GAP_BATCH, extra: str = "") -> Path:
    path = folder / "intake.csv"
    body = "".join(f'{i},"{t}",{r}\n' for i, t, r in rows)
    path.write_text("id,text,region\n" + body + extra, encoding="utf-8")
    return path


def test_cli_writes_the_report_and_prints_a_summary(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "gaps.html"
    code, stdout, err = run(str(batch_file(tmp_path)), "--as-of", "2026-11-30", "--report", str(out))
    assert code == 0, err
    names = ["gaps.html", "gaps.manifest.json", *(f"gaps-{n}.csv" for n in CSV_NAMES)]
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(names)
    assert stdout.startswith("gap analysis as of 2026-11-30: 6 proposals, weak-match threshold 0.200")
    assert "closing within 90 days: 1, 1 with matching demand" in stdout
    assert "nl-scholing closes 2026-12-30 (30 days): 3 proposal(s)" in stdout
    assert f"wrote {out} and 5 CSV files beside it" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "30-11-2026"], "date '30-11-2026' is not YYYY-MM-DD"),
        (["--as-of", "2026-11-30", "--region", "NL-XX"], "unknown region 'NL-XX'"),
        (["--as-of", "2026-11-30", "--theme", "kunst"], "unknown theme 'kunst'; known themes: energy"),
    ],
)
def test_cli_bad_arguments_exit_2_and_write_nothing(run, tmp_path: Path, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out" / "gaps.html"
    out.parent.mkdir()
    code, stdout, err = run(str(batch_file(tmp_path)), *args, "--report", str(out))
    assert (code, stdout) == (2, "")
    assert message in err and "Traceback" not in err
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,text,region\n", "intake.csv: no proposals in the file"),
        ('id,text,region\na,"Waterstof",NL-GR\nb,"Scholing",NL-XX\n', "row 2: field 'region': value 'NL-XX'"),
    ],
)
def test_cli_bad_batch_exits_2_and_writes_nothing(run, tmp_path: Path, content: str, message: str) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "intake.csv"
    src.write_text(content, encoding="utf-8")
    out = tmp_path / "out" / "gaps.html"
    out.parent.mkdir()
    code, _, err = run(str(src), "--as-of", "2026-11-30", "--report", str(out))
    assert code == 2 and message in err
    assert err.count("\n") == 1
    assert list(out.parent.iterdir()) == []


def test_place_names_of_the_corpus_gazetteer_are_not_cluster_labels(gap_matcher: Matcher) -> None:
    arnhem = [
        Proposal(id=f"a{n}", text=f"Ons theatergezelschap uit Arnhem speelt voorstelling {n} in Arnhem", region="NL-GE")
        for n in (1, 2)
    ]
    report = gap_report(gap_matcher, [*gap_proposals()[:4], *arnhem], AS_OF, GAP_THRESHOLD)
    labels = {c.members[0]: c.label for c in report.clusters}
    assert "theatergezelschap" in labels["a1"] and "arnhem" not in labels["a1"]  # Arnhem is in the tiny gazetteer


@pytest.mark.parametrize(
    ("lang", "axes", "region"),
    [("en", ("Province or region", "Theme"), "Utrecht"), ("nl", ("Provincie of regio", "Thema"), "Utrecht")],
)
def test_charts_carry_names_and_axis_titles_in_the_language(
    report: GapReport,
    gap_matcher: Matcher,
    lang: str,
    axes: tuple[str, str],
    region: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from matcher.analysis import gap_report as module

    seen: list[dict[str, object]] = []

    def keep(fig: object) -> bytes:
        ax = fig.axes[0]  # type: ignore[attr-defined]
        seen.append({"x": ax.get_xlabel(), "y": ax.get_ylabel(), "cols": [t.get_text() for t in ax.get_xticklabels()]})
        return b"png"

    monkeypatch.setattr(module, "_png", keep)
    names = {"NL-UT": "Utrecht", "NL-GR": "Groningen", "NL-GE": "Gelderland"}
    module.charts(report, lang, gap_matcher.corpus.theme_names(lang), names)
    heat = seen[0]
    assert (heat["x"], heat["y"]) == axes
    assert region in heat["cols"] and not any(str(c).startswith("NL-") for c in heat["cols"])  # type: ignore[attr-defined]
    count = "Number of proposals" if lang == "en" else "Aantal voorstellen"
    assert seen[2]["x"] == count  # unmet demand per theme: a bar chart counting proposals
