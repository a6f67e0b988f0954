"""Evaluation on labelled cases with standard ranking metrics, BEIR-style.

`qrels` maps case id -> {instrument id: grade} (2 = the right scheme, 1 = also worth a look); `run` maps case id
-> ranked instrument ids. An instrument counts as relevant when its grade is at least 1; nDCG uses the grades.

    >>> success_at(run, qrels, 5)
    0.93
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.pipeline.matcher import Matcher, Mode
from matcher.records import DevCase, MatchResult, Proposal

Qrels = dict[str, dict[str, int]]
Run = dict[str, list[str]]


def success_at(run: Run, qrels: Qrels, k: int) -> float:
    hits = [any(qrels[q].get(d, 0) > 0 for d in run[q][:k]) for q in qrels]
    return sum(hits) / len(hits) if hits else 0.0


def mrr(run: Run, qrels: Qrels) -> float:
    total = 0.0
    for q in qrels:
        rank = next((i for i, d in enumerate(run[q], 1) if qrels[q].get(d, 0) > 0), None)
        total += 1.0 / rank if rank else 0.0
    return total / len(qrels) if qrels else 0.0


def ndcg_at(run: Run, qrels: Qrels, k: int) -> float:
    def dcg(gains: Sequence[int]) -> float:
        return float(sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:k])))

    scores = []
    for q, rels in qrels.items():
        ideal = dcg(sorted(rels.values(), reverse=True))
        got = dcg([rels.get(d, 0) for d in run[q]])
        scores.append(got / ideal if ideal > 0 else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


@dataclass(frozen=True)
class Metrics:
    name: str
    success_1: float
    success_5: float
    mrr: float
    ndcg_10: float
    partner_hit_3: float | None = None

    def row(self) -> list[str]:
        cells = [self.success_1, self.success_5, self.mrr, self.ndcg_10]
        partner = "" if self.partner_hit_3 is None else f"{self.partner_hit_3:.3f}"
        return [self.name, *(f"{x:.3f}" for x in cells), partner]


def metrics(name: str, run: Run, qrels: Qrels, partner_hit: float | None = None) -> Metrics:
    return Metrics(
        name,
        success_at(run, qrels, 1),
        success_at(run, qrels, 5),
        mrr(run, qrels),
        ndcg_at(run, qrels, 10),
        partner_hit,
    )


def proposal_of(case: DevCase) -> Proposal:
    fields = Proposal.model_fields
    return Proposal(**{k: v for k, v in case.model_dump().items() if k in fields})


FORM_FIELDS = ("region", "applicant_type", "budget_eur", "trl", "partners")


def text_only(case: DevCase) -> DevCase:
    """The case as a text alone, without the form fields (what an applicant who fills in nothing else gives)."""
    return case.model_copy(update=dict.fromkeys(FORM_FIELDS))


@dataclass(frozen=True)
class Detection:
    """How the weak-match decision separates out-of-scope requests from real proposals."""

    out_of_scope: int
    flagged: int  # out-of-scope texts flagged weak_match (should be all)
    in_scope: int
    wrongly_flagged: int  # in-scope proposals flagged weak_match (should be none)
    threshold: float

    def table(self) -> str:
        share = self.flagged / self.out_of_scope if self.out_of_scope else 0.0
        wrong = self.wrongly_flagged / self.in_scope if self.in_scope else 0.0
        return "\n".join(
            [
                f"weak-match threshold {self.threshold:.4f}",
                "| set | texts | flagged weak_match | share |",
                "|---|---|---|---|",
                f"| out of scope (should be flagged) | {self.out_of_scope} | {self.flagged} | {share:.3f} |",
                f"| in scope (should not be) | {self.in_scope} | {self.wrongly_flagged} | {wrong:.3f} |",
            ]
        )


def detection(
    matcher: Matcher, out_of_scope: Sequence[Proposal], in_scope: Sequence[Proposal], as_of: dt.date
) -> Detection:
    """Count the engine's `weak_match` decisions on both sets."""

    def flagged(proposals: Sequence[Proposal]) -> int:
        return sum("weak_match" in r.flags for r in matcher.match_batch(proposals, as_of=as_of))

    oos, ins = flagged(out_of_scope), flagged(in_scope)
    return Detection(len(out_of_scope), oos, len(in_scope), ins, matcher.weak_match)


def detection_cross_validated(
    matcher: Matcher,
    out_of_scope: Sequence[Proposal],
    in_scope: Sequence[Proposal],
    as_of: dt.date,
    folds: int = 5,
) -> Detection:
    """`detection` where each text is judged by a scope model trained without it (stratified folds over both sets,
    with `calibration.OFF_TOPIC` always in training): the figure to quote, since the model in use saw every text."""
    from sklearn.model_selection import StratifiedKFold

    from matcher.analysis.calibration import OFF_TOPIC
    from matcher.analysis.scope import train

    texts = [*in_scope, *out_of_scope]
    y = np.array([0] * len(in_scope) + [1] * len(out_of_scope))
    flagged = np.zeros(len(texts), dtype=bool)
    for fit, test in StratifiedKFold(folds, shuffle=True, random_state=1).split(np.zeros(len(y)), y):
        inside = [texts[i].text for i in fit if y[i] == 0]
        outside = [texts[i].text for i in fit if y[i] == 1] + list(OFF_TOPIC)
        judge = matcher.with_scope(train(matcher, inside, outside))
        results = judge.match_batch([texts[i] for i in test], as_of=as_of)
        flagged[test] = ["weak_match" in r.flags for r in results]
    oos, ins = int(flagged[y == 1].sum()), int(flagged[y == 0].sum())
    return Detection(len(out_of_scope), oos, len(in_scope), ins, matcher.weak_match)


def ranked_ids(result: MatchResult, relevant: Mapping[str, int]) -> list[str]:
    """The ranked ids of a result, one per match: a programme stands for the calls listed under it, so a relevant
    call (the best-graded one) counts at its programme's rank."""
    out = []
    for m in result.matches:
        ids = [m.instrument_id, *(c.instrument_id for c in m.calls)]
        out.append(max(ids, key=lambda i: relevant.get(i, 0)))
    return out


def match_cases(
    matcher: Matcher, cases: Sequence[DevCase], proposals: Sequence[Proposal], **options: Any
) -> list[MatchResult]:
    """`match_batch` of the cases' proposals, each case without the funded example of its own page (a real case is
    one of the engine's examples, `analysis.examples`): cases of one page are matched together."""
    pages: dict[str, list[int]] = {}
    for k, c in enumerate(cases):
        pages.setdefault(str(c.source) if c.source is not None else "", []).append(k)
    found: dict[int, MatchResult] = {}
    for page, rows in pages.items():
        with matcher.leaving_out({page} if page else set()):
            results = matcher.match_batch([proposals[k] for k in rows], **options)
        found.update(zip(rows, results, strict=True))
    return [found[k] for k in range(len(cases))]


def evaluate(
    matcher: Matcher,
    cases: Sequence[DevCase],
    as_of: dt.date,
    modes: Sequence[Mode] = ("hybrid", "lexical", "dense"),
    availability: bool = True,
) -> list[Metrics]:
    """Rank every instrument for every case with each scoring mode; return one Metrics row per mode.

    `availability=False` ranks by fit alone (no deadline check): what the labels say, independent of the day."""
    qrels: Qrels = {c.id: dict(c.relevant) for c in cases}
    proposals = [proposal_of(c) for c in cases]
    n = len(matcher.instruments)
    out = []
    for mode in modes:
        results = match_cases(matcher, cases, proposals, top_k=n, as_of=as_of, mode=mode, availability=availability)
        run: Run = {r.proposal_id: ranked_ids(r, qrels[r.proposal_id]) for r in results}
        partner = None
        if mode == "hybrid":
            expected = {c.id: set(c.partner_regions) for c in cases if c.partner_regions}
            if expected:
                got = {r.proposal_id: [p.region for p in r.partner_regions[:3]] for r in results}
                partner = sum(bool(expected[q] & set(got[q])) for q in expected) / len(expected)
        label = {"hybrid": "hybrid (engine)", "lexical": "lexical only", "dense": "dense only"}[mode]
        out.append(metrics(label if availability else f"{label}, fit only", run, qrels, partner))
    return out


def evaluate_both(matcher: Matcher, cases: Sequence[DevCase], as_of: dt.date) -> list[Metrics]:
    """The three modes on `as_of` (a closed round counts), then the engine on fit alone (no deadline check)."""
    on_day = evaluate(matcher, cases, as_of)
    return [*on_day, *evaluate(matcher, cases, as_of, modes=("hybrid",), availability=False)]


def format_table(rows: Sequence[Metrics], n_cases: int, model: str) -> str:
    head = ["ranker", "success@1", "success@5", "MRR", "nDCG@10", "partner hit@3"]
    lines = [f"{n_cases} labelled cases, encoder {model}", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r.row()) + " |" for r in rows]
    return "\n".join(lines)
