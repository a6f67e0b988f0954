"""Each rule has one home, and every front end that asks it gets the same answer.

- "open on a day": the gap analysis's supply, `GET /v1/instruments?open_on=`, `matcher instruments --open-on` and the
  ranking's deadline check admit the same instruments of the bundled corpus, for several days;
- the weak-match threshold: triage flags `weak_match` for exactly the proposals that the gap analysis counts as unmet.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from matcher import Matcher, Proposal, Settings, app, load_corpus
from matcher.analysis.gaps import analyse
from matcher.io.corpus import Corpus
from matcher.records import REGION_CODES, MatchResult
from matcher.records.threshold import Threshold
from matcher.rules.eligibility import check_open
from service.app import create_app
from service.config import ServiceSettings
from service.deps import get_matcher, get_store

DAYS = [dt.date(2024, 1, 1), dt.date(2025, 6, 1), dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2027, 7, 1)]
MATCHER = str(Path(sys.executable).parent / "matcher")


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus(Settings().corpora)


def gap_supply(corpus: Corpus, day: dt.date) -> set[str]:
    """Instruments the gap analysis counts as supply in any cell: one proposal per region, tagged with every theme."""
    proposals = [Proposal(id=code, text="x", region=code) for code in REGION_CODES]
    themes = tuple(t.id for t in corpus.themes)
    results = [MatchResult(proposal_id=p.id, matches=(), themes=themes) for p in proposals]
    report = analyse(corpus, proposals, results, day, Threshold.fixed(0.2, "test"))
    return {i for cell in report.cells for i in cell.instruments}


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_open_on_means_the_same_everywhere(corpus: Corpus, day: dt.date, tmp_path: Path) -> None:
    # The ranking ranks programmes (a call is listed under its programme, which is open while one of its calls is).
    programmes = [i for i in corpus.instruments if i.parent is None]
    ranking = {i.id for i in programmes if check_open(i, day, corpus.calls_of(i.id)).status != "missed"}
    listed = {i.id for i in app.list_instruments(corpus, app.InstrumentQuery(open_on=day))}
    service = create_app(Settings(), ServiceSettings(db=tmp_path / "db.sqlite3"))
    service.dependency_overrides[get_matcher] = lambda: SimpleNamespace(corpus=corpus)
    service.dependency_overrides[get_store] = lambda: None
    with TestClient(service) as client:
        api = {i["id"] for i in client.get("/v1/instruments", params={"open_on": day.isoformat()}).json()}
    assert listed == api
    calls = {i.id for i in corpus.instruments if i.parent is not None}  # listed on their own, supply of their programme
    assert gap_supply(corpus, day) == listed - calls == ranking
    assert 0 < len(listed) <= len(corpus.instruments)


def test_the_cli_lists_the_same_open_instruments(corpus: Corpus) -> None:
    day = dt.date(2026, 12, 1)
    out = subprocess.run(
        [MATCHER, "instruments", "--open-on", day.isoformat(), "--json"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    listed = {i.id for i in app.list_instruments(corpus, app.InstrumentQuery(open_on=day))}
    assert {i["id"] for i in json.loads(out.stdout)} == listed


def test_weak_match_flags_and_unmet_demand_use_one_threshold(tiny_matcher: Matcher) -> None:
    texts = ["waterstof pilot elektrolyser", "scholing van personeel", "qqq zzz xxx", "recept voor appeltaart"]
    proposals = [Proposal(id=f"q{n}", text=t, region="NL-GR") for n, t in enumerate(texts)]
    day = dt.date(2026, 11, 30)
    for value in (0.05, 0.3, 0.6, 0.95):  # several cuts, so the sets differ between them
        matcher = tiny_matcher.with_weak_match(value)
        flagged = {r.proposal_id for r in app.triage(matcher, proposals, as_of=day) if "weak_match" in r.flags}
        report = app.gap_analysis(matcher, proposals, day)
        assert report.threshold.value == value
        assert {u.proposal_id for u in report.unmet} == flagged
    assert app.threshold_of(tiny_matcher.with_weak_match(0.3)).value == 0.3
