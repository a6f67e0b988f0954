"""The bundled demo intake (`corpora/projects/demo_intake.csv`) reads cleanly and covers what the demo promises."""

from __future__ import annotations

import csv
import logging
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from matcher.io.batch import COLUMNS, read_proposals
from matcher.records import Proposal

REPO = Path(__file__).resolve().parent.parent
INTAKE = REPO / "corpora" / "projects" / "demo_intake.csv"
PROVINCES = ("NL-GR", "NL-FR", "NL-DR", "NL-OV", "NL-FL", "NL-GE", "NL-UT", "NL-NH", "NL-ZH", "NL-ZE", "NL-NB", "NL-LI")
# Function words of one language only ("in", "is" and "we" are both Dutch and English).
DUTCH = {"de", "het", "een", "en", "van", "wij", "willen", "met", "voor", "naar", "zijn", "ook", "niet", "ons", "onze"}
ENGLISH = {"the", "and", "a", "of", "to", "with", "for", "our", "are", "want", "looking", "on"}
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it


def language(text: str) -> str:
    """'nl' or 'en' by counting common function words (enough for intake texts of a few sentences)."""
    words = re.findall(r"[a-z']+", text.lower())
    return "nl" if sum(w in DUTCH for w in words) > sum(w in ENGLISH for w in words) else "en"


@pytest.fixture(scope="module")
def proposals() -> list[Proposal]:
    return read_proposals(INTAKE)


def test_reads_without_warnings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert len(read_proposals(INTAKE)) >= 150
    assert not caplog.records


def test_header_uses_only_triage_columns() -> None:
    with INTAKE.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header[:2] == ["id", "text"]
    assert set(header) <= set(COLUMNS)


def test_ids_are_unique_and_stable(proposals: list[Proposal]) -> None:
    ids = [p.id for p in proposals]
    assert len(set(ids)) == len(ids)
    assert ids == [f"demo-{n:03d}" for n in range(1, len(ids) + 1)]


def test_every_province_at_least_six_times(proposals: list[Proposal]) -> None:
    counts = Counter(p.region for p in proposals)
    assert {code: counts[code] for code in PROVINCES if counts[code] < 6} == {}


def test_both_languages_present(proposals: list[Proposal]) -> None:
    langs = Counter(language(p.text) for p in proposals)
    assert langs["nl"] >= 0.45 * len(proposals)
    assert langs["en"] >= 0.25 * len(proposals)


def test_language_heuristic() -> None:
    assert language("Wij willen met drie bedrijven een oogstrobot ontwikkelen voor de kas.") == "nl"
    assert language("We are looking for funding for a pilot with our partners.") == "en"


def test_budgets_are_realistic(proposals: list[Proposal]) -> None:
    budgets = [p.budget_eur for p in proposals if p.budget_eur is not None]
    assert budgets and all(20_000 <= b <= 15_000_000 for b in budgets)
    assert len(budgets) < len(proposals)  # some applicants leave the budget out


def test_texts_do_not_name_an_instrument(proposals: list[Proposal]) -> None:
    # Applicants describe their project, not the scheme. Plain YAML here: load_corpus validates and is slower.
    files = sorted((REPO / "corpora" / "instruments").glob("*.yaml"))
    records = [r for f in files for r in yaml.load(f.read_text(encoding="utf-8"), Loader=LOADER)]
    names = {r["id"]: r["name"].lower() for r in records}
    assert len(names) >= 40
    named = [(p.id, iid) for p in proposals for iid, name in names.items() if name in p.text.lower()]
    assert named == []
