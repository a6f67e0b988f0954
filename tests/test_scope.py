"""The scope model behind `weak_match`: the cut on out-of-fold probabilities, the model applied to vectors, and
what the matcher leaves out of a text before scoring its topic."""

from __future__ import annotations

import numpy as np
import pytest

from matcher import HashingEncoder, Matcher, Proposal
from matcher.analysis.scope import choose_cut, train
from matcher.pipeline.scope import ScopeModel
from matcher.text.facts import without_amounts
from matcher.text.places import without_towns

from .conftest import bundled_corpus


def test_the_cut_keeps_in_scope_texts_flagged_at_most_the_allowed_share_and_never_goes_below_one_half() -> None:
    prob = np.array([0.9, 0.8, 0.7, 0.2, 0.1, 0.95, 0.99])
    y = np.array([0, 0, 0, 0, 0, 1, 1])
    # 5 in-scope texts, at most 20 % flagged: one of them may reach the cut (0.9), so the cut is just above 0.8
    assert choose_cut(prob, y, max_in_scope=0.2) == pytest.approx(0.8, abs=1e-6)
    assert choose_cut(np.array([0.1, 0.2, 0.9]), np.array([0, 0, 1]), max_in_scope=0.5) == 0.5


def test_a_scope_model_flags_the_rows_whose_probability_reaches_the_cut() -> None:
    model = ScopeModel(weights=(2.0, -2.0), intercept=0.0, cut=0.5, method="test")
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert model.outside(vectors).tolist() == [True, False]
    with pytest.raises(ValueError, match="2 weights, its input has 3 columns"):
        model.probability(np.zeros((1, 3)))


def test_a_trained_scope_model_flags_requests_like_the_out_of_scope_ones() -> None:
    matcher = Matcher.build(bundled_corpus(), HashingEncoder())
    inside = [f"Wij ontwikkelen een innovatieve {w} met een prototype en een pilot" for w in ("sensor", "robot")] * 8
    outside = [f"Ik zoek geld voor mijn {w} en de feestzaal, wie helpt mij" for w in ("bruiloft", "verjaardag")] * 8
    model = train(matcher, inside, outside)
    assert set(model.cross_validated) == {"out_of_scope_flagged", "in_scope_flagged", "out_of_scope_texts",
                                          "in_scope_texts"}  # fmt: skip
    judged = matcher.with_scope(model).match_batch(
        [Proposal(id="a", text="Ik zoek geld voor mijn bruiloft en de feestzaal"), Proposal(id="b", text=inside[0])]
    )
    assert ["weak_match" in r.flags for r in judged] == [True, False]


def test_amounts_and_towns_are_left_out_of_the_topic_text() -> None:
    assert without_amounts("Een lasrobot voor 35.000 euro, of € 1,2 mln voor twee").split() == [
        "Een", "lasrobot", "voor", ",", "of", "voor", "twee"
    ]  # fmt: skip
    assert without_towns("Een bakkerij in Enschede en Zwolle", bundled_corpus().places).split() == [
        "een", "bakkerij", "in", "en"
    ]  # fmt: skip
