from __future__ import annotations

import datetime as dt
import math

import pytest

from matcher import DevCase, Matcher
from matcher.analysis.metrics import evaluate, format_table, mrr, ndcg_at, success_at

QRELS = {"q1": {"a": 2, "b": 1}, "q2": {"c": 2}}
RUN = {"q1": ["x", "a", "b"], "q2": ["y", "z", "w", "v", "u", "c"]}


def test_success_at_k() -> None:
    assert success_at(RUN, QRELS, 1) == 0.0
    assert success_at(RUN, QRELS, 2) == 0.5
    assert success_at(RUN, QRELS, 6) == 1.0


def test_mrr() -> None:
    assert mrr(RUN, QRELS) == pytest.approx((1 / 2 + 1 / 6) / 2)


def test_ndcg_uses_grades() -> None:
    ideal_q1 = 3 + 1 / math.log2(3)
    got_q1 = 3 / math.log2(3) + 1 / math.log2(4)
    got_q2 = 3 / math.log2(7)
    assert ndcg_at(RUN, QRELS, 10) == pytest.approx((got_q1 / ideal_q1 + got_q2 / 3) / 2)
    assert ndcg_at({"q": ["a", "b"]}, {"q": {"a": 2, "b": 1}}, 10) == pytest.approx(1.0)


def test_evaluate_scores_every_mode(tiny_matcher: Matcher) -> None:
    cases = [
        DevCase(
            id="c1",
            text="waterstof pilot met elektrolyser",
            lang="nl",
            relevant={"nl-waterstof": 2},
            partner_regions=("NL-ZH",),
        ),
        DevCase(id="c2", text="scholing van werknemers", lang="nl", relevant={"nl-scholing": 2}),
    ]
    rows = evaluate(tiny_matcher, cases, as_of=dt.date(2026, 11, 30))
    assert [r.name for r in rows] == ["hybrid (engine)", "lexical only", "dense only"]
    assert rows[0].success_1 == 1.0
    assert rows[0].partner_hit_3 == 1.0
    table = format_table(rows, 2, "hashing")
    assert table.splitlines()[3] == "| hybrid (engine) | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 |"
