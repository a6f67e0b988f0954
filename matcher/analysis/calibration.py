"""The weak-match threshold for gap analysis, calibrated on the labelled dev cases.

Positives: for each dev case, the score of its best-ranked relevant instrument that is not ineligible (what a real
fit scores). Negatives: the best score that is not ineligible for texts that no funding instrument fits
(`OFF_TOPIC`). The threshold is the cut that best separates them (largest TPR - FPR, Youden's J); of the cuts that
tie, the midpoint of the widest gap. It is stored per model, corpus and dev-cases file under the artefact folder.

    >>> threshold = load_or_calibrate(matcher, settings.dev_cases, settings.artefacts)
    >>> threshold.value, threshold.method
    (0.19, 'Youden J on 114 dev cases vs 16 off-topic texts ...')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from matcher.io.atomic import write_bytes
from matcher.io.corpus import load_dev_cases
from matcher.pipeline.matcher import UNCALIBRATED_WEAK_MATCH, Matcher
from matcher.records import DevCase, MatchResult, Proposal
from matcher.records.results import best_fit
from matcher.records.threshold import Threshold

log = logging.getLogger(__name__)
VERSION = 2  # 2: best fits checked with the facts read from the text, as `match` does
AS_OF = dt.date(2026, 11, 30)

# Requests a programme's intake desk does receive but that no funding instrument is for.
OFF_TOPIC: tuple[str, ...] = (
    "Ik zoek een oppas voor mijn twee kinderen op woensdagmiddag, liefst iemand uit de buurt.",
    "Mijn fiets is gisteren gestolen bij het station. Wat moet ik doen om aangifte te doen?",
    "Wij gaan trouwen in juni en zoeken een feestzaal voor honderd gasten met een dj en een buffet.",
    "Recept gezocht: appeltaart met kaneel en rozijnen, hoe lang moet die in de oven?",
    "Ik wil mijn woonkamer opnieuw behangen en zoek een behanger die volgende week tijd heeft.",
    "Kan iemand mij vertellen hoe laat de supermarkt op zondag opengaat?",
    "Mijn kat eet niet meer sinds twee dagen, moet ik naar de dierenarts?",
    "Graag een offerte voor het verhuizen van een driekamerappartement van Utrecht naar Zwolle.",
    "asdf qwerty lorem ipsum dolor sit amet blabla test test",
    "We are planning a birthday party for our daughter and need a clown and a bouncy castle.",
    "What is the best way to remove red wine stains from a white carpet?",
    "My neighbour's dog keeps barking at night; how do I file a noise complaint?",
    "Looking for a cheap flight to Barcelona in August for two adults.",
    "Please recommend a good novel to read on holiday, preferably a detective story.",
    "I lost my passport on the train and need to know how to get a new one quickly.",
    "hello hello is this working? just testing the form, please ignore",
)


def best_score(result: MatchResult, among: frozenset[str] | None = None) -> float:
    """`records.results.best_fit` of a result's matches."""
    return best_fit(result.matches, among)


def separating_cut(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """The cut t (scores >= t count as a fit) with the largest TPR - FPR; ties go to the widest gap's midpoint.

    >>> separating_cut([0.3, 0.4, 0.5], [0.1, 0.2])
    0.25
    """
    pos, neg = np.asarray(positives, dtype=float), np.asarray(negatives, dtype=float)
    values = np.unique(np.concatenate([pos, neg]))
    cuts = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    j = np.array([(pos >= c).mean() - (neg >= c).mean() for c in cuts])
    best = np.flatnonzero(np.isclose(j, j.max()))
    # Equal J over a run of cuts: take the middle of the run (the widest margin to both sides).
    return float(round(float(cuts[best[len(best) // 2]]), 4))


def calibrate(matcher: Matcher, cases: Sequence[DevCase], as_of: dt.date = AS_OF) -> Threshold:
    """Derive the weak-match threshold from labelled dev cases and `OFF_TOPIC` texts (see the module docstring)."""
    fields = Proposal.model_fields
    proposals = [Proposal(**{k: v for k, v in c.model_dump().items() if k in fields}) for c in cases]
    positives = matcher.best_fit_scores(proposals, as_of, among=[frozenset(c.relevant) for c in cases])
    noise = [Proposal(id=f"x{i}", text=t) for i, t in enumerate(OFF_TOPIC)]
    negatives = matcher.best_fit_scores(noise, as_of)
    value = separating_cut(positives, negatives)
    method = (
        f"largest TPR - FPR (Youden J) between the best relevant match score of {len(cases)} labelled dev cases "
        f"and the best match score of {len(OFF_TOPIC)} off-topic texts, encoder {matcher.encoder.name}"
    )
    return Threshold(
        value=value,
        method=method,
        positives=len(positives),
        negatives=len(negatives),
        positive_p05=round(float(np.percentile(positives, 5)), 4),
        negative_max=round(max(negatives), 4),
    )


def artefact_path(matcher: Matcher, dev_cases: Path, artefacts: Path) -> Path:
    """Where the threshold of this model, corpus and dev-cases file is stored."""
    head = f"{VERSION}|{matcher.encoder.name}|{matcher.corpus.hash}|{matcher.examples_key}|"
    key = hashlib.sha256(head.encode() + dev_cases.read_bytes()).hexdigest()[:16]
    return artefacts / "calibration" / f"weak-threshold-{key}.json"


def load_or_calibrate(matcher: Matcher, dev_cases: Path, artefacts: Path) -> Threshold:
    """The stored threshold for this model, corpus and dev-cases file, calibrated and stored when missing.

    The artefact carries a manifest (format version, model, corpus hash, dev-cases hash, date of calibration) and is
    written atomically. Without a dev-cases file the uncalibrated default is used, and the method says so.
    """
    if not dev_cases.exists():
        return Threshold.fixed(UNCALIBRATED_WEAK_MATCH, f"uncalibrated default (no dev cases at {dev_cases})")
    path = artefact_path(matcher, dev_cases, artefacts)
    if path.exists():
        try:
            stored = Threshold(**json.loads(path.read_text(encoding="utf-8")))
            if stored.manifest.get("corpus_hash") == matcher.corpus.hash:
                return stored
            log.warning("%s: made for another corpus, calibrating again", path)
        except (ValueError, TypeError):
            log.warning("%s: unreadable, calibrating again", path)
    threshold = calibrate(matcher, load_dev_cases(dev_cases, matcher.corpus))
    manifest = {
        "format": VERSION,
        "model": matcher.encoder.name,
        "corpus_hash": matcher.corpus.hash,
        "dev_cases": str(dev_cases),
        "dev_cases_sha256": hashlib.sha256(dev_cases.read_bytes()).hexdigest(),
        "calibrated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    threshold = replace(threshold, manifest=manifest)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, json.dumps(asdict(threshold), indent=2).encode())
    log.info("weak-match threshold %.4f stored in %s", threshold.value, path)
    return threshold
