"""Learned ranking: a logistic regression over the engine's own signals, trained on the labelled dev cases.

Each (proposal, instrument) pair becomes one row of features (dense and lexical similarity, theme overlap,
eligibility, region and level fit, the fused score). Training is pointwise (relevant or not); the ranking is the
model's decision value. `cross_validate` compares it with the fusion baseline on held-out folds grouped by case, so
a case is never in the training and the test part of the same fold. The fitted model is stored as plain JSON
(coefficients, scaler, manifest): readable, diffable, and loaded without pickle.

    >>> report = cross_validate(matcher, cases, as_of)          # held-out figures, fusion vs learned
    >>> model = fit(matcher, cases, as_of); save(model, path)   # trained on all cases
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matcher.analysis.metrics import Metrics, Qrels, Run, metrics, proposal_of
from matcher.errors import CorpusError
from matcher.io import atomic
from matcher.pipeline.matcher import Matcher, Scores
from matcher.records import DevCase, Proposal
from matcher.retrieval.fusion import max_normalise
from matcher.rules.eligibility import check_all, overall, region_covers

FEATURES = (
    "fused",
    "dense",
    "dense_norm",
    "lexical",
    "lexical_norm",
    "themes",
    "eligible",
    "ineligible",
    "region_fit",
    "level_eu",
    "level_national",
    "level_provincial",
    "level_regional",
)
LEVELS = ("eu", "national", "provincial", "regional")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class RankerModel:
    """A fitted linear ranker: score = ((x - mean) / scale) . coef + intercept."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    encoder: str
    trained_on: int
    cv: dict[str, dict[str, float]]
    use: bool
    command: str
    created: str

    def decision(self, x: np.ndarray) -> np.ndarray:
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        out: np.ndarray = z @ np.asarray(self.coef) + self.intercept
        return out


def pair_features(matcher: Matcher, proposals: Sequence[Proposal], scores: Scores, as_of: dt.date) -> np.ndarray:
    """(n_proposals, n_instruments, n_features) in the order of FEATURES."""
    n, m = scores.final.shape
    out = np.zeros((n, m, len(FEATURES)), dtype=np.float64)
    out[:, :, 0] = scores.final
    out[:, :, 1] = scores.dense
    out[:, :, 2] = max_normalise(scores.dense)
    out[:, :, 3] = scores.lexical
    out[:, :, 4] = max_normalise(scores.lexical)
    out[:, :, 5] = scores.overlap
    for i, prop in enumerate(proposals):
        for j, inst in enumerate(matcher.instruments):
            status = overall(check_all(inst, prop, prop.as_of or as_of))
            out[i, j, 6] = status == "eligible"
            out[i, j, 7] = status == "ineligible"
            if prop.region is not None:
                out[i, j, 8] = 1.0 if region_covers(inst.regions, prop.region) else -1.0
            out[i, j, 9 + LEVELS.index(inst.level)] = 1.0
    return out


def _labels(cases: Sequence[DevCase], matcher: Matcher) -> np.ndarray:
    ids = [i.id for i in matcher.instruments]
    return np.array([[c.relevant.get(i, 0) > 0 for i in ids] for c in cases], dtype=np.int64)


def _run(matcher: Matcher, cases: Sequence[DevCase], values: np.ndarray, ineligible: np.ndarray) -> Run:
    """Rank by `values` per case, eligible-or-unknown before ineligible, as the engine shows them."""
    ids = [i.id for i in matcher.instruments]
    run: Run = {}
    for c, v, bad in zip(cases, values, ineligible, strict=True):
        order = np.lexsort((-v, bad))  # last key first: ineligible last, then by value
        run[c.id] = [ids[k] for k in order]
    return run


def _fit_arrays(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    model.fit((x - mean) / scale, y)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


@dataclass(frozen=True)
class CvReport:
    folds: int
    fusion: Metrics
    learned: Metrics

    @property
    def learned_wins(self) -> bool:
        return self.learned.ndcg_10 > self.fusion.ndcg_10 and self.learned.mrr >= self.fusion.mrr


def _prepare(matcher: Matcher, cases: Sequence[DevCase], as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    proposals = [proposal_of(c) for c in cases]
    scores = matcher.score([p.text for p in proposals])
    return pair_features(matcher, proposals, scores, as_of), _labels(cases, matcher)


def cross_validate(
    matcher: Matcher, cases: Sequence[DevCase], as_of: dt.date, folds: int = 5, c: float = 1.0
) -> CvReport:
    """Held-out comparison, GroupKFold by case: every case is scored by a model that never saw it."""
    from sklearn.model_selection import GroupKFold

    feats, labels = _prepare(matcher, cases, as_of)
    n, m, f = feats.shape
    learned = np.zeros((n, m))
    groups = np.arange(n)
    for train, test in GroupKFold(n_splits=folds).split(np.zeros(n), groups=groups):
        mean, scale, coef, intercept = _fit_arrays(feats[train].reshape(-1, f), labels[train].reshape(-1), c)
        learned[test] = ((feats[test] - mean) / scale) @ coef + intercept
    qrels: Qrels = {c.id: dict(c.relevant) for c in cases}
    ineligible = feats[:, :, FEATURES.index("ineligible")]
    fusion_run = _run(matcher, cases, feats[:, :, 0], ineligible)
    learned_run = _run(matcher, cases, learned, ineligible)
    return CvReport(folds, metrics("fusion (engine)", fusion_run, qrels), metrics("learned (LR)", learned_run, qrels))


def fit(
    matcher: Matcher, cases: Sequence[DevCase], as_of: dt.date, report: CvReport, command: str, c: float = 1.0
) -> RankerModel:
    feats, labels = _prepare(matcher, cases, as_of)
    f = feats.shape[2]
    mean, scale, coef, intercept = _fit_arrays(feats.reshape(-1, f), labels.reshape(-1), c)
    cv = {
        "fusion": {k: round(float(v), 4) for k, v in asdict(report.fusion).items() if isinstance(v, float)},
        "learned": {k: round(float(v), 4) for k, v in asdict(report.learned).items() if isinstance(v, float)},
    }
    return RankerModel(
        features=FEATURES,
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in coef),
        intercept=intercept,
        encoder=matcher.encoder.name,
        trained_on=len(cases),
        cv=cv | {"folds": {"n": float(report.folds)}},
        use=report.learned_wins,
        command=command,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


def save(model: RankerModel, path: Path) -> None:
    body: dict[str, Any] = {"format_version": FORMAT_VERSION, **asdict(model)}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(path, (json.dumps(body, indent=2) + "\n").encode("utf-8"))


def load(path: Path) -> RankerModel:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read the ranker model: {exc}") from None
    version = raw.pop("format_version", None)
    if version != FORMAT_VERSION:
        raise CorpusError(f"{path}: field 'format_version': value {version!r}: expected {FORMAT_VERSION}")
    try:
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        model = RankerModel(**fields)
    except TypeError as exc:
        raise CorpusError(f"{path}: not a ranker model: {exc}") from None
    if model.features != FEATURES:
        raise CorpusError(f"{path}: field 'features': value {list(model.features)}: expected {list(FEATURES)}")
    return model


def format_report(report: CvReport, n_cases: int) -> str:
    head = ["ranker", "success@1", "success@5", "MRR", "nDCG@10"]
    lines = [
        f"{n_cases} labelled cases, {report.folds}-fold cross-validation grouped by case (held-out figures)",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join(r.row()[:5]) + " |" for r in (report.fusion, report.learned)]
    verdict = (
        "learned ranker beats fusion" if report.learned_wins else "fusion stays the default (learned does not beat it)"
    )
    return "\n".join([*lines, verdict])
