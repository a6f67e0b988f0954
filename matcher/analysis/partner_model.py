"""The partner-region ranker: trained and measured on real partner cases, beside a baseline that only knows the map.

- `neighbour_baseline`: the applicant's neighbouring regions, those abroad first, then the rest: what a map says.
- `train`: a logistic regression (scikit-learn, balanced classes) over the candidate features of
  `pipeline.partners.FEATURES`, one row per case and candidate region (label: a real partner came from there).
  Grouped cross-validation (`FOLDS` folds, a case's candidates always in one fold) gives out-of-fold scores; the
  learned weights are used (`PartnerModel.use`) only where their out-of-fold MRR beats the hand weights'. Each case
  is judged without the evidence of its own project (`PartnerFinder.leaving_out`), in training and in measuring.
- `evaluate`: hit@1, hit@3 and MRR of the engine as a user sees it (no suggestions when the proposal does not call
  for partners), of the rankers under cross-validation and of the baseline; and the why-line rule check.
- `check_why`: the rule for each kind of why line, checked against the text, the corpus and the evidence.

    >>> model = load_or_train(matcher, settings.partner_cases, settings.artefacts)
    >>> model.cross_validated["learned"]
    {'hit@1': 0.8, 'hit@3': 0.93, 'MRR': 0.87, ...}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from matcher.analysis.stored import manifest
from matcher.io.atomic import write_bytes
from matcher.io.corpus import Corpus, load_partner_cases
from matcher.pipeline import partners
from matcher.pipeline.matcher import Matcher
from matcher.pipeline.partners import (
    FEATURES,
    TOP_REGIONS,
    Candidates,
    PartnerModel,
    hand_scores,
    on_topic,
    ranked_order,
    strongest,
)
from matcher.records import JointProject, PartnerCase, PartnerRegion, Proposal, Reason
from matcher.text.places import mentioned_regions

log = logging.getLogger(__name__)
VERSION = 1
FOLDS = 5
REGULARISATION = 1.0  # scikit-learn's C
MIN_CASES = 10  # fewer real cases than this: no model is trained (the hand weights rank)


# -- rankings and their metrics ---------------------------------------------------------------------------------------
def neighbour_baseline(own: str, corpus: Corpus) -> list[str]:
    """The applicant's neighbours, foreign ones first (each group in regions.yaml order), then every other region."""
    regions = {r.code: r for r in corpus.regions}
    near = list(regions[own].neighbours) if own in regions else []
    ordered = [c for c in near if not c.startswith("NL-")] + [c for c in near if c.startswith("NL-")]
    return ordered + [c for c in regions if c != own and c not in ordered]


def rank_metrics(rankings: Sequence[Sequence[str]], truths: Sequence[set[str]]) -> dict[str, float]:
    """hit@1, hit@3 (a real partner region among the first one or three) and MRR (of the first real one)."""
    n = len(truths)
    if not n:
        return {"hit@1": 0.0, "hit@3": 0.0, "MRR": 0.0, "cases": 0}
    hit1 = sum(bool(set(r[:1]) & t) for r, t in zip(rankings, truths, strict=True)) / n
    hit3 = sum(bool(set(r[:3]) & t) for r, t in zip(rankings, truths, strict=True)) / n
    rr = [next((1.0 / (k + 1) for k, c in enumerate(r) if c in t), 0.0) for r, t in zip(rankings, truths, strict=True)]
    return {"hit@1": round(hit1, 3), "hit@3": round(hit3, 3), "MRR": round(sum(rr) / n, 3), "cases": n}


def _ranking(found: Candidates, scores: np.ndarray) -> list[str]:
    return [found.codes[k] for k in ranked_order(found, scores)]


@dataclass(frozen=True)
class Labelled:
    """A proposal with the regions its real partners came from; `leave_out` names its own project in the evidence."""

    proposal: Proposal
    truths: frozenset[str]
    leave_out: frozenset[str] = frozenset()


def labelled(cases: Sequence[PartnerCase]) -> list[Labelled]:
    """The real partner cases as proposals (text and the applicant's region), each with its own project named."""
    return [
        Labelled(
            Proposal(id=c.id, text=c.text, region=c.region),
            frozenset(c.partner_regions),
            frozenset({str(c.source), *(p.casefold() for p in c.projects)}),
        )
        for c in cases
    ]


def candidates_of(matcher: Matcher, cases: Sequence[Labelled], as_of: dt.date) -> list[Candidates]:
    """The candidates of every case, each without the evidence (and funded example) of its own project."""
    out = []
    for case in cases:
        with matcher.partners.leaving_out(set(case.leave_out)), matcher.leaving_out(set(case.leave_out)):
            out.extend(matcher.partner_candidates([case.proposal], as_of=as_of))
    return out


# -- training ---------------------------------------------------------------------------------------------------------
def _design(found: Sequence[Candidates], cases: Sequence[Labelled]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs: list[np.ndarray] = []
    ys: list[int] = []
    groups: list[int] = []
    for g, (cand, case) in enumerate(zip(found, cases, strict=True)):
        xs.append(cand.x)
        ys.extend(int(c in case.truths) for c in cand.codes)
        groups.extend([g] * len(cand.codes))
    return np.vstack(xs), np.array(ys), np.array(groups)


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5000).fit(x, y)
    return clf.coef_[0], float(clf.intercept_[0])


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int = FOLDS) -> np.ndarray:
    """The learned score of every row from a model fitted on the other folds (a case's rows stay together)."""
    from sklearn.model_selection import GroupKFold

    scores = np.zeros(len(y))
    for train_rows, test_rows in GroupKFold(min(folds, len(set(groups)))).split(x, y, groups):
        w, b = _fit(x[train_rows], y[train_rows])
        scores[test_rows] = x[test_rows] @ w + b
    return scores


def _split(values: np.ndarray, found: Sequence[Candidates]) -> list[np.ndarray]:
    bounds = np.cumsum([0, *(len(c.codes) for c in found)])
    return [values[bounds[i] : bounds[i + 1]] for i in range(len(found))]


def rankings_of(matcher: Matcher, cases: Sequence[Labelled], found: Sequence[Candidates]) -> dict[str, list[list[str]]]:
    """Per ranker, the ranking of every case: the learned weights out of fold, the hand weights, the baseline."""
    x, y, groups = _design(found, cases)
    learned = _split(out_of_fold(x, y, groups), found)
    return {
        "learned": [_ranking(f, s) for f, s in zip(found, learned, strict=True)],
        "hand": [_ranking(f, hand_scores(f.x)) for f in found],
        "neighbours": [neighbour_baseline(c.proposal.region or "", matcher.corpus) for c in cases],
    }


def compare(matcher: Matcher, cases: Sequence[Labelled], found: Sequence[Candidates]) -> dict[str, dict[str, float]]:
    """hit@1, hit@3 and MRR of the learned weights (out of fold), the hand weights and the neighbour baseline."""
    truths = [set(c.truths) for c in cases]
    return {k: rank_metrics(r, truths) for k, r in rankings_of(matcher, cases, found).items()}


def train(matcher: Matcher, cases: Sequence[Labelled], as_of: dt.date) -> PartnerModel:
    found = candidates_of(matcher, cases, as_of)
    figures = compare(matcher, cases, found)
    x, y, _ = _design(found, cases)
    w, b = _fit(x, y)
    use = figures["learned"]["MRR"] > figures["hand"]["MRR"]
    method = (
        f"logistic regression over {len(FEATURES)} features of {len(cases)} real partner cases ({len(y)} case-region "
        f"rows), compared with the hand weights under {FOLDS}-fold grouped cross-validation: "
        f"{'learned' if use else 'hand'} weights in use"
    )
    return PartnerModel(FEATURES, tuple(float(v) for v in w), b, use, method, figures)


def artefact_path(matcher: Matcher, files: Sequence[Path], artefacts: Path) -> Path:
    key = f"{VERSION}|{matcher.encoder.name}|{matcher.corpus.hash}|{FEATURES}|{matcher.examples_key}|"
    digest = hashlib.sha256(key.encode())
    for f in files:
        digest.update(f.read_bytes())
    digest.update(Path(partners.__file__).read_bytes())  # the features are computed there: a change retrains
    return artefacts / "partners" / f"partners-{digest.hexdigest()[:16]}.json"


def load_or_train(
    matcher: Matcher, cases_file: Path, artefacts: Path, as_of: dt.date | None = None
) -> PartnerModel | None:
    """The stored partner model for this model, corpus and case file, trained and stored when missing.

    None when there is no case file or fewer than `MIN_CASES` real cases (the hand weights rank then).
    """
    if not cases_file.exists():
        return None
    cases = load_partner_cases(cases_file, matcher.corpus)
    if len(cases) < MIN_CASES:
        return None
    files = [cases_file]
    path = artefact_path(matcher, files, artefacts)
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["features"], data["weights"] = tuple(data["features"]), tuple(data["weights"])
            return PartnerModel(**data)
        except (ValueError, TypeError, KeyError):
            log.warning("%s: unreadable, training again", path)
    day = as_of or max((c.as_of for c in cases if c.as_of), default=dt.date.today())
    model = train(matcher, labelled(cases), day)
    stored = dataclasses.replace(model, manifest=manifest(VERSION, matcher, files, "cases"))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, json.dumps(asdict(stored)).encode())
    log.info("partner model stored in %s (%s)", path, model.method)
    return stored


# -- why lines and their rules ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WhyCheck:
    kind: str
    passed: bool


def check_why(
    why: Reason,
    text: str,
    themes: Sequence[str],
    own: str | None,
    region: str,
    corpus: Corpus,
    evidence: Sequence[JointProject] | None = None,
) -> bool:
    """Whether one why line of a suggested `region` holds, by its kind's rule (recomputed from the text, the
    proposal's themes, the corpus and the joint projects counted, `evidence`, default all of the corpus; not from
    the engine's features)."""
    regions = {r.code: r for r in corpus.regions}
    reg, mine = regions[region], regions.get(own or "")
    p = why.params
    code = why.code
    if code == "partner.named":
        return region in mentioned_regions(text, corpus.places)
    if code == "partner.in_area":
        from matcher.pipeline.partners import named_areas

        return reg.landsdeel in named_areas(text) and p.get("area") == reg.landsdeel
    if code == "partner.across_border":
        from matcher.pipeline.partners import across_words

        return across_words(text) is not None and not region.startswith("NL-")
    names = {i.name: i for i in corpus.instruments} | {i.id: i for i in corpus.instruments}  # named or by id
    if code in ("partner.programme_area", "partner.shared_programmes"):
        found = [names.get(n) for n in p.get("programmes", [])]
        return (
            bool(found)
            and mine is not None
            and all(i is not None and region in i.regions and mine.code in i.regions for i in found)
        )
    if code == "partner.outside_areas":
        found = [names.get(n) for n in p.get("programmes", [])]
        return bool(found) and all(i is not None and region not in i.regions for i in found)
    if code in ("partner.evidence", "partner.evidence_theme"):
        if mine is None:
            return False
        counted = corpus.joint_projects if evidence is None else evidence
        pair = [j for j in counted if mine.code in j.regions and region in j.regions]
        ok = p.get("count") == len(pair) and any(str(j.source.url) == p.get("source") for j in pair)
        if code == "partner.evidence_theme":
            lead = set(p.get("themes", []))
            themed = [j for j in pair if set(strongest(themes)) & set(j.themes)]
            ok = ok and p.get("themed") == len(themed) and bool(lead) and lead <= set(strongest(themes))
        return ok
    if code == "partner.strong_in":
        listed = set(p.get("themes", []))
        return bool(listed) and listed <= set(themes[:3]) and listed <= set(reg.themes)
    if code == "partner.collaboration":
        col = next((c for c in corpus.collaborations if c.name == p.get("name")), None)
        return col is not None and region in col.regions and on_topic(col.themes[0], themes)
    if code == "partner.cluster":
        quoted = str(p.get("text", "")).rstrip(" …")
        line = next((c for c in (*reg.clusters, *reg.strengths) if c.startswith(quoted)), None)
        return line is not None and bool(set(strongest(themes)) & set(_line_themes(line, corpus)))
    if code in ("partner.h2020", "partner.h2020_part"):
        return not region.startswith("NL-")
    return False


def _line_themes(line: str, corpus: Corpus) -> list[str]:
    """Themes whose keywords a cluster or strength line uses (the check does not trust the engine's tagging)."""
    from matcher.text.themes import fold

    folded = fold(line)
    out = []
    for t in corpus.themes:
        words = [w for w in (t.name, t.name_en or "", *t.keywords) if w]
        if any(fold(w) in folded for w in words if len(w) > 3):
            out.append(t.id)
    return out


def why_checks(
    suggestions: Sequence[PartnerRegion],
    text: str,
    themes: Sequence[str],
    own: str | None,
    corpus: Corpus,
    evidence: Sequence[JointProject] | None = None,
    top: int = 3,
) -> list[WhyCheck]:
    """The rule check of every why line of the first `top` suggestions."""
    return [
        WhyCheck(w.code, check_why(w, text, themes, own, s.region, corpus, evidence))
        for s in suggestions[:top]
        for w in s.why_codes
    ]


def why_shares(checks: Sequence[WhyCheck]) -> dict[str, tuple[int, int]]:
    """Per kind of why line: (lines passing their rule, lines)."""
    total, passed = Counter(c.kind for c in checks), Counter(c.kind for c in checks if c.passed)
    return {k: (passed[k], total[k]) for k in sorted(total)}


# -- evaluation -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartnerReport:
    engine: dict[str, float]  # as a user sees it: the ranking in use, no suggestions where none are called for
    suggested: float  # share of cases that get partner regions at all
    rankers: dict[str, dict[str, float]]  # learned (out of fold), hand, neighbours
    in_use: str
    why: dict[str, tuple[int, int]]


def evaluate(matcher: Matcher, cases: Sequence[PartnerCase], as_of: dt.date) -> PartnerReport:
    """The engine's partner regions on real cases as users get them, the rankers compared, and the why lines.

    The engine row ranks each case as the engine does where it suggests partners at all (no suggestion counts as a
    miss); with the learned weights in use, by the weights of the fold that did not see the case."""
    every = labelled(cases)
    gate: list[bool] = []
    checks: list[WhyCheck] = []
    for case in every:
        with matcher.partners.leaving_out(set(case.leave_out)), matcher.leaving_out(set(case.leave_out)):
            result = matcher.match(case.proposal, as_of=as_of)
            counted = matcher.partners.evidence()
        gate.append(bool(result.partner_regions))
        own = case.proposal.region
        checks += why_checks(result.partner_regions, case.proposal.text, result.themes, own, matcher.corpus, counted)
    ranked = rankings_of(matcher, every, candidates_of(matcher, every, as_of))
    model = matcher.partners.model
    in_use = "learned" if model is not None and model.use else "hand"
    engine = [r[:TOP_REGIONS] if shown else [] for r, shown in zip(ranked[in_use], gate, strict=True)]
    truths = [set(c.truths) for c in every]
    return PartnerReport(
        engine=rank_metrics(engine, truths),
        suggested=round(sum(gate) / max(len(every), 1), 3),
        rankers={k: rank_metrics(r, truths) for k, r in ranked.items()},
        in_use=in_use,
        why=why_shares(checks),
    )


def format_report(report: PartnerReport, n_cases: int, name: str) -> str:
    head = "| ranker | hit@1 | hit@3 | MRR |"
    rows = [f"{n_cases} real partner cases ({name})", head, "|---|---|---|---|"]
    e = report.engine
    rows.append(
        f"| engine as users get it ({report.in_use} weights) | {e['hit@1']:.3f} | {e['hit@3']:.3f} | {e['MRR']:.3f} |"
    )
    labels = {
        "learned": f"learned weights, {FOLDS}-fold grouped cross-validation",
        "hand": "hand weights",
        "neighbours": "neighbour baseline (neighbours, foreign first)",
    }
    for key, label in labels.items():
        if key in report.rankers:
            r = report.rankers[key]
            rows.append(f"| {label} | {r['hit@1']:.3f} | {r['hit@3']:.3f} | {r['MRR']:.3f} |")
    rows += [
        "",
        f"Partner regions suggested for {report.suggested:.0%} of the cases (the others do not call for partners).",
    ]
    rows += ["", "Why lines of the top 3 passing their rule:", "| kind | passed | lines |", "|---|---|---|"]
    rows += [f"| {k} | {p} | {n} |" for k, (p, n) in report.why.items()]
    return "\n".join(rows)
