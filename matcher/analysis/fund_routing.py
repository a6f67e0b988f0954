"""Fund routing benchmark on a real list of operations: is a project routed to the right fund family?

The EU structural-funds lists of operations say per project whether EFRO (ERDF: innovation, economy) or ESF
(labour market, skills) paid for it. Zero-shot, with no training on those labels, a project counts as routed
right when the best-scoring instrument of the two families belongs to its own fund. The instruments that stand for
each family are reference data of the corpus (`fund_routing` in corpora/mappings.yaml).

    >>> rows = read_operations(Path("projects_dev.csv"))
    >>> table = routing_table(matcher, rows)
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from matcher.errors import InputError
from matcher.pipeline.matcher import Matcher, Mode
from matcher.records import MAX_TEXT_CHARS, Fund

FAMILIES: tuple[Fund, ...] = get_args(Fund)  # ("EFRO", "ESF"): the fund families operations are routed to


@dataclass(frozen=True)
class Operation:
    id: str
    text: str
    fund: str


def read_operations(path: Path) -> list[Operation]:
    """Read a list of operations (CSV with `fund`, `summary` and optionally `title_nl`, `row_id`)."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    out = []
    for n, row in enumerate(rows, 1):
        fund = (row.get("fund") or "").strip().upper()
        if fund not in FAMILIES:
            raise InputError(f"{path}: row {n}: field 'fund': value {fund!r}; expected one of {', '.join(FAMILIES)}")
        text = ". ".join(x for x in (row.get("title_nl", ""), row.get("summary", "")) if x and x.strip())
        if text:
            out.append(Operation(row.get("row_id") or str(n), text[:MAX_TEXT_CHARS], fund))
    if not out:
        raise InputError(f"{path}: no rows with a text")
    return out


def route(matcher: Matcher, texts: Sequence[str], mode: Mode = "hybrid") -> list[str]:
    """The fund family whose best instrument scores highest, per text."""
    position = {inst.id: n for n, inst in enumerate(matcher.instruments)}
    names = list(FAMILIES)
    members = matcher.corpus.mappings.fund_routing
    cols = [[position[i] for i in members.get(f, ())] for f in names]
    if not all(cols):
        raise InputError(
            "the corpus lacks the EFRO or ESF instruments needed for fund routing (`fund_routing` in mappings.yaml)"
        )
    scores = matcher.score(texts, mode).final
    best = np.stack([scores[:, c].max(axis=1) for c in cols], axis=1)
    return [names[i] for i in best.argmax(axis=1)]


def routing_table(matcher: Matcher, rows: Sequence[Operation], modes: Sequence[Mode] = ("hybrid", "lexical")) -> str:
    truth = [r.fund for r in rows]
    counts = ", ".join(f"{f} {truth.count(f)}" for f in FAMILIES)
    lines = [f"{len(rows)} operations ({counts}), encoder {matcher.encoder.name}"]
    lines += ["| ranker | accuracy | macro-F1 |", "|---|---|---|"]
    for mode in modes:
        pred = route(matcher, [r.text for r in rows], mode)
        acc = accuracy_score(truth, pred)
        f1 = f1_score(truth, pred, average="macro", labels=list(FAMILIES))
        lines.append(f"| {'hybrid (engine)' if mode == 'hybrid' else mode + ' only'} | {acc:.3f} | {f1:.3f} |")
    return "\n".join(lines)
