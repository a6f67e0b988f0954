"""Train the scope model: which texts ask for something no funding instrument is for (the `weak_match` decision).

Positives (out of scope): the real out-of-scope requests (`corpora/out_of_scope_real.yaml`) and the off-topic texts
of `calibration.OFF_TOPIC`. Negatives (in scope): the written dev cases and the cases from real funded projects.
The model is a logistic regression (scikit-learn, balanced class weights) on the proposal embeddings. The cut on its
probability is chosen on out-of-fold probabilities (5 stratified folds): the lowest cut that keeps the share of
in-scope texts flagged at most `MAX_IN_SCOPE_FLAGGED`; the out-of-fold shares at that cut are reported, so the
figure quoted is never measured on the texts a model was trained on. The final model is fitted on all texts.

    >>> model = load_or_train(matcher, settings, artefacts)
    >>> model.cross_validated
    {'out_of_scope_flagged': 0.94, 'in_scope_flagged': 0.04, ...}
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from matcher.analysis.calibration import OFF_TOPIC
from matcher.analysis.stored import manifest
from matcher.io.atomic import write_bytes
from matcher.io.corpus import load_dev_cases, load_out_of_scope
from matcher.pipeline.matcher import Matcher
from matcher.pipeline.scope import ScopeModel

log = logging.getLogger(__name__)
VERSION = 1
FOLDS = 5
MAX_IN_SCOPE_FLAGGED = 0.05  # at most 1 in 20 real proposals told that nothing fits
REGULARISATION = 1.0  # scikit-learn's C


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5000).fit(x, y)
    return clf.coef_[0], float(clf.intercept_[0])


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    """P(out of scope) of every text from a model fitted on the other folds."""
    from sklearn.model_selection import StratifiedKFold

    prob = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        w, b = _fit(x[train], y[train])
        prob[test] = 1.0 / (1.0 + np.exp(-(x[test] @ w + b)))
    return prob


def choose_cut(prob: np.ndarray, y: np.ndarray, max_in_scope: float = MAX_IN_SCOPE_FLAGGED) -> float:
    """The lowest cut at which at most `max_in_scope` of the in-scope texts (y == 0) reach it (never below 0.5)."""
    inside = np.sort(prob[y == 0])[::-1]
    allowed = int(np.floor(max_in_scope * len(inside)))
    cut = float(inside[allowed]) + 1e-9 if allowed < len(inside) else 0.5
    return round(max(cut, 0.5), 6)


def train(matcher: Matcher, in_scope: Sequence[str], out_of_scope: Sequence[str]) -> ScopeModel:
    texts = [*in_scope, *out_of_scope]
    y = np.array([0] * len(in_scope) + [1] * len(out_of_scope))
    x = matcher.encode(texts).astype(np.float64)
    prob = out_of_fold(x, y)
    cut = choose_cut(prob, y)
    flagged = prob >= cut
    report = {
        "out_of_scope_flagged": round(float(flagged[y == 1].mean()), 3),
        "in_scope_flagged": round(float(flagged[y == 0].mean()), 3),
        "out_of_scope_texts": int((y == 1).sum()),
        "in_scope_texts": int((y == 0).sum()),
    }
    w, b = _fit(x, y)
    method = (
        f"logistic regression on {matcher.encoder.name} embeddings of {len(in_scope)} in-scope and "
        f"{len(out_of_scope)} out-of-scope texts; cut {cut:.3f} chosen on {FOLDS}-fold out-of-fold probabilities "
        f"(at most {MAX_IN_SCOPE_FLAGGED:.0%} of in-scope texts flagged)"
    )
    return ScopeModel(tuple(float(v) for v in w), b, cut, method, report)


def _files(settings_dev: Path, real: Path, oos: Path) -> list[Path]:
    return [p for p in (settings_dev, real, oos) if p.exists()]


def artefact_path(matcher: Matcher, files: Sequence[Path], artefacts: Path) -> Path:
    digest = hashlib.sha256(f"{VERSION}|{matcher.encoder.name}|{matcher.corpus.hash}|".encode())
    for f in files:
        digest.update(f.read_bytes())
    return artefacts / "scope" / f"scope-{digest.hexdigest()[:16]}.json"


def load_or_train(
    matcher: Matcher, dev_cases: Path, real_cases: Path, out_of_scope: Path, artefacts: Path
) -> ScopeModel | None:
    """The stored scope model for this model, corpus and labelled files, trained and stored when missing.

    None when there are no out-of-scope cases or no dev cases (the weak-match threshold alone decides then).
    """
    if not out_of_scope.exists() or not dev_cases.exists():
        return None
    files = _files(dev_cases, real_cases, out_of_scope)
    path = artefact_path(matcher, files, artefacts)
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["weights"] = tuple(data["weights"])
            return ScopeModel(**data)
        except (ValueError, TypeError, KeyError):
            log.warning("%s: unreadable, training again", path)
    inside = [c.text for c in load_dev_cases(dev_cases, matcher.corpus)]
    if real_cases.exists():
        inside += [c.text for c in load_dev_cases(real_cases, matcher.corpus)]
    outside = [c.text for c in load_out_of_scope(out_of_scope)] + list(OFF_TOPIC)
    model = train(matcher, inside, outside)
    made = manifest(VERSION, matcher, files)
    stored = ScopeModel(model.weights, model.intercept, model.cut, model.method, model.cross_validated, made)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, json.dumps(asdict(stored)).encode())
    log.info("scope model stored in %s (%s)", path, model.cross_validated)
    return stored
