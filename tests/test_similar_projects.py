"""Funded projects as evidence: each match lists the closest projects of its instrument's fund family."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matcher import HashingEncoder, Matcher, Proposal, load_corpus
from matcher.cli import main, render
from matcher.pipeline.evidence import ProjectEvidence
from matcher.records import FundedProject
from matcher.retrieval.artefacts import load_or_build

from .conftest import INSTRUMENTS, instrument, write_corpus

FUNDED = [
    *INSTRUMENTS,
    instrument(
        id="eu-efro-test",
        name="EFRO-programma Test",
        level="eu",
        themes=["energy"],
        summary="Europees regionaal programma voor innovatie met waterstof en elektrolysers in de regio.",
        funds=["EFRO"],
        recurrence="rolling",
    ),
    instrument(
        id="eu-esf-test",
        name="ESF+ Test",
        level="eu",
        themes=["human-capital"],
        summary="Europees sociaal fonds voor scholing en opleiding van werkenden en werkzoekenden.",
        funds=["ESF"],
        recurrence="rolling",
    ),
]


def project(pid: str, title: str, fund: str, **fields: Any) -> dict[str, Any]:
    return {"id": pid, "title": title, "fund": fund, "beneficiary": f"Begunstigde {pid}"} | fields


PROJECTS = [
    project("e1", "Waterstof elektrolyser pilot in de haven", "EFRO", eu_subsidy_eur=500000.0, start_date="2010-03-01"),
    project("e2", "Elektrolysers voor groene waterstof", "EFRO", province="NL-GR", end_date="2013-12-31"),
    project("e3", "Kassen verwarmen met restwarmte", "EFRO"),
    project("e4", "Digitale marketing voor winkeliers", "EFRO"),
    project("s1", "Scholing van werknemers in de haven", "ESF"),
    project("s2", "Opleiding voor werkzoekenden", "ESF"),
]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("similar")
    corpora = write_corpus(root / "corpora", FUNDED)
    extra = root / "imported"
    extra.mkdir()
    (extra / "projects.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PROJECTS))
    return corpora, extra


@pytest.fixture(scope="module")
def matcher(folders: tuple[Path, Path]) -> Matcher:
    corpora, extra = folders
    return Matcher.build(load_corpus(corpora, extra=[extra]), HashingEncoder())


def _by_id(matcher: Matcher, text: str) -> dict[str, Any]:
    result = matcher.match(Proposal(text=text), top_k=10).to_dict()
    return {m["instrument_id"]: m for m in result["matches"]}


def test_each_match_lists_the_closest_projects_of_its_fund_family(matcher: Matcher) -> None:
    matches = _by_id(matcher, "Wij bouwen een waterstof elektrolyser pilot")
    efro = matches["eu-efro-test"]["similar_projects"]
    assert [p["id"] for p in efro][:2] == ["e1", "e2"]
    assert len(efro) == 3 and {p["fund"] for p in efro} == {"EFRO"}
    assert efro[0] == {
        "id": "e1",
        "title": "Waterstof elektrolyser pilot in de haven",
        "beneficiary": "Begunstigde e1",
        "fund": "EFRO",
        "eu_subsidy_eur": 500000.0,
        "year": 2010,
        "province": None,
        "similarity": efro[0]["similarity"],
    }
    assert (efro[1]["year"], efro[1]["province"], efro[1]["eu_subsidy_eur"]) == (2013, "NL-GR", None)
    sims = [p["similarity"] for p in efro]
    assert sims == sorted(sims, reverse=True) and 0 < sims[-1] < sims[0] <= 1
    assert [p["id"] for p in matches["eu-esf-test"]["similar_projects"]] == ["s1", "s2"]  # only two ESF projects
    assert matches["nl-waterstof"]["similar_projects"] == []  # no fund family, no evidence


def test_similarity_is_the_cosine_of_proposal_and_project_text(matcher: Matcher) -> None:
    text = "Opleiding en scholing in de haven"
    got = _by_id(matcher, text)["eu-esf-test"]["similar_projects"]
    vectors = HashingEncoder().encode([text, *(f"{p['title']}" for p in PROJECTS[4:])])
    expected = vectors[1:] @ vectors[0]
    order = np.argsort(-expected)
    assert [p["id"] for p in got] == [PROJECTS[4 + i]["id"] for i in order]
    assert [p["similarity"] for p in got] == pytest.approx(expected[order], abs=1e-4)


def test_without_a_projects_corpus_the_list_is_empty(folders: tuple[Path, Path]) -> None:
    plain = Matcher.build(load_corpus(folders[0]), HashingEncoder())
    matches = _by_id(plain, "Wij bouwen een waterstof elektrolyser pilot")
    assert all(m["similar_projects"] == [] for m in matches.values())


def test_project_vectors_are_stored_with_the_artefacts(folders: tuple[Path, Path], tmp_path: Path) -> None:
    corpus = load_corpus(folders[0], extra=[folders[1]])
    built = load_or_build(corpus, HashingEncoder(), tmp_path / "art")
    loaded = load_or_build(corpus, HashingEncoder(), tmp_path / "art")
    assert loaded.manifest["built_at"] == built.manifest["built_at"] and loaded.manifest["projects"] == 6
    np.testing.assert_allclose(loaded.project_vectors, built.project_vectors)
    plain = load_corpus(folders[0])
    assert load_or_build(plain, HashingEncoder(), tmp_path / "art").project_vectors.shape == (0, 256)


def test_evidence_takes_the_k_best_of_the_given_funds() -> None:
    projects = [FundedProject(id=f"p{i}", title=f"P{i}", fund="EFRO" if i % 2 else "ESF") for i in range(6)]
    vectors = np.eye(6, dtype=np.float32)
    evidence = ProjectEvidence(projects, vectors)
    query = np.array([0.1, 0.9, 0.2, 0.5, 0.3, 0.4], dtype=np.float32)
    assert [p.id for p in evidence.closest(("EFRO",), query)] == ["p1", "p3", "p5"]
    assert [p.id for p in evidence.closest(("ESF", "EFRO"), query, k=2)] == ["p1", "p3"]
    assert evidence.closest(("JTF",), query) == ()
    with pytest.raises(ValueError, match="6 projects but 5 project vectors"):
        ProjectEvidence(projects, vectors[:5])


def test_the_table_shows_one_line_per_similar_project(matcher: Matcher) -> None:
    result = matcher.match(Proposal(text="Wij bouwen een waterstof elektrolyser pilot"), top_k=10)
    lines = [x.strip() for x in render(result, "nl").splitlines() if "vergelijkbaar project:" in x]
    assert len(lines) == 3 + 2  # three EFRO projects, two ESF projects
    assert lines[0].startswith(
        "vergelijkbaar project: Waterstof elektrolyser pilot in de haven (Begunstigde e1; EFRO, 2010, € 500.000 EU)"
    )
    english = [x.strip() for x in render(result, "en").splitlines() if "similar project:" in x]
    assert english[0].startswith(
        "similar project: Waterstof elektrolyser pilot in de haven (Begunstigde e1; EFRO, 2010, €500,000 EU)"
    )


def test_cli_match_json_carries_similar_projects_from_extra(
    folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpora, extra = folders
    args = [
        "--corpora",
        str(corpora),
        "--model",
        "hashing",
        "--artefacts",
        str(tmp_path / "art"),
        "--extra",
        str(extra),
    ]
    assert main(["match", "Waterstof elektrolyser pilot", "--json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    by_id = {m["instrument_id"]: m for m in data["matches"]}
    assert [p["id"] for p in by_id["eu-efro-test"]["similar_projects"]][:2] == ["e1", "e2"]
