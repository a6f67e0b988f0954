"""Really funded projects as examples: the closest project an instrument paid lifts it, with the project's page as
a why line; a labelled case is measured without its own project."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import yaml

from matcher import HashingEncoder, Matcher, Proposal, load_corpus, load_dev_cases
from matcher.analysis.examples import load_or_encode
from matcher.analysis.metrics import evaluate
from matcher.pipeline.evidence import KNN_FLOOR, KNN_WEIGHT, VOTE_WEIGHT, FundedExample, FundedExamples
from matcher.text.i18n import localise

from .conftest import write_corpus

IDS = ["a", "b", "c"]


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float64)
    return v / np.linalg.norm(v)


def test_the_closest_example_of_each_instrument_counts_and_a_case_can_leave_its_own_out() -> None:
    examples = FundedExamples(
        [
            FundedExample("a", "https://x.org/1"),
            FundedExample("a", "https://x.org/2"),
            FundedExample("c", "https://x.org/3"),
        ],
        np.vstack([unit(1, 0), unit(0.6, 0.8), unit(0, 1)]),
        IDS,
    )
    best, sims = examples.scores(unit(1, 0)[None, :])
    assert best[0].tolist() == pytest.approx([1.0, -1.0, 0.0], abs=1e-6)  # b paid nothing: -1
    assert examples.closest(sims[0], 0) == FundedExample("a", "https://x.org/1")
    assert examples.closest(sims[0], 1) is None
    with examples.leaving_out({"https://x.org/1"}):
        best, sims = examples.scores(unit(1, 0)[None, :])
        assert best[0].tolist() == pytest.approx([0.6, -1.0, 0.0], abs=1e-6)
        assert examples.closest(sims[0], 0) == FundedExample("a", "https://x.org/2")
    assert examples.scores(unit(1, 0)[None, :])[0][0, 0] == pytest.approx(1.0)  # back after the block
    lifted = examples.add_to(np.array([[0.5, 0.5, 0.5]]), np.array([[1.0, -1.0, 0.0]]))
    assert lifted.round(4).tolist() == [[min(1.0, 0.5 + KNN_WEIGHT * (1 - KNN_FLOOR)), 0.5, 0.5]]


def test_the_nearest_examples_vote_for_the_instruments_that_paid_them() -> None:
    examples = FundedExamples(
        [
            FundedExample("a", "https://x.org/1"),
            FundedExample("a", "https://x.org/2"),
            FundedExample("c", "https://x.org/3"),
        ],
        np.vstack([unit(1, 0), unit(1, 0), unit(1, 0)]),
        IDS,
    )
    best, sims = examples.scores(unit(1, 0)[None, :])
    assert examples.votes(sims).round(4).tolist() == [[0.6667, 0.0, 0.3333]]  # as close: two of three for a
    with examples.leaving_out({"https://x.org/1", "https://x.org/2"}):
        best, sims = examples.scores(unit(1, 0)[None, :])
        assert examples.votes(sims).round(4).tolist() == [[0.0, 0.0, 1.0]]  # a left-out example has no vote
    low = np.array([[0.5, 0.5, 0.5]])
    lifted = examples.add_to(low, np.array([[0.4, -1.0, 0.4]]), np.array([[1.0, 0.0, 0.0]]))
    assert lifted.round(4).tolist() == [[round(0.5 + KNN_WEIGHT * (0.4 + VOTE_WEIGHT - KNN_FLOOR), 4), 0.5, 0.58]]
    empty = FundedExamples([], np.zeros((0, 2)), IDS)
    assert empty.votes(np.zeros((1, 0))).tolist() == [[0.0, 0.0, 0.0]]


def test_examples_naming_an_instrument_the_corpus_lacks_are_refused() -> None:
    with pytest.raises(ValueError, match="instruments the corpus lacks: z"):
        FundedExamples([FundedExample("z", "https://x.org/1")], unit(1, 0)[None, :], IDS)


PILOT = (
    "Wij bouwen een pilot met een elektrolyser die groene waterstof maakt voor de bussen van de gemeente, "
    "met opslag in tanks bij de remise."
)


@pytest.fixture
def with_examples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Matcher, Matcher, Path]:
    root = write_corpus(tmp_path_factory.mktemp("ex") / "corpora")
    real = [
        {
            "id": "r-1",
            "text": PILOT,
            "lang": "nl",
            "relevant": {"eu-zorg": 2},
            "paid_by": "eu-zorg",  # an odd payer on purpose: only the example can put it first
            "source": "https://example.org/pilot",
        }
    ]
    (root / "dev_cases_real.yaml").write_text(yaml.safe_dump(real, allow_unicode=True), encoding="utf-8")
    plain = Matcher.build(load_corpus(root), HashingEncoder())
    found = load_or_encode(plain, root / "dev_cases_real.yaml", root / "none.yaml", tmp_path_factory.mktemp("a"))
    assert found is not None and len(found) == 1
    return plain, plain.with_examples(found), root / "dev_cases_real.yaml"


def test_a_proposal_close_to_a_funded_project_ranks_its_payer_higher_and_says_why(
    with_examples: tuple[Matcher, Matcher, Path],
) -> None:
    plain, matcher, _ = with_examples
    proposal = Proposal(text=PILOT)
    before = [m.instrument_id for m in plain.match(proposal).matches]
    result = matcher.match(proposal)
    assert before[0] == "nl-waterstof" and result.matches[0].instrument_id == "eu-zorg"
    worded = localise(result, "en", matcher.corpus.theme_names("en"))
    assert "A similar project was funded by this scheme: https://example.org/pilot" in worded.matches[0].why
    assert all("similar project" not in w for m in worded.matches[1:] for w in m.why)


def test_the_evaluation_judges_a_real_case_without_its_own_project(
    with_examples: tuple[Matcher, Matcher, Path],
) -> None:
    plain, matcher, path = with_examples
    cases = load_dev_cases(path, matcher.corpus)
    day = dt.date(2026, 11, 30)
    alone = [(r.success_1, r.mrr) for r in evaluate(plain, cases, day, modes=("hybrid",), availability=False)]
    measured = [(r.success_1, r.mrr) for r in evaluate(matcher, cases, day, modes=("hybrid",), availability=False)]
    assert measured == alone and alone[0][0] == 0.0  # its own example left out, the case is where it was
    found = matcher.match_batch([Proposal(id="r-1", text=PILOT)], availability=False)[0]
    assert found.matches[0].instrument_id == "eu-zorg"  # in use, the example counts
