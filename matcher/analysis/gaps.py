"""Gap analysis for programme managers: where a batch of proposals finds no fitting open instrument.

Pure analysis over a corpus, the proposals, their match results and a date; `gap_report` is the front door that
runs the matcher first. The report holds:

- the demand/supply matrix by theme x region: proposals per cell (each proposal counts once for each of its themes;
  without a region it counts under `NL`) against the instruments not closed at `as_of` that cover the theme and the
  region; a cell with demand and no such instrument is a gap;
- unmet demand: proposals flagged weak (`records.results.is_weak`: best fit below the threshold, or no theme), clustered
  (k-means, k by silhouette) and labelled with the terms most distinctive of each cluster against the whole batch;
- instruments nobody matched (not closed, and in no proposal's top matches at or above the threshold);
- instruments closing within `window_days` of `as_of`, with the proposals whose top matches include them.

    >>> report = gap_report(matcher, proposals, dt.date(2026, 11, 30), threshold, GapOptions(window_days=60))
    >>> [c.label for c in report.clusters]
    [('zorg', 'ouderen', 'thuis'), ...]
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from matcher.analysis.calibration import best_score
from matcher.errors import InputError
from matcher.io.corpus import Corpus
from matcher.pipeline.matcher import Matcher
from matcher.records import DEFAULT_TOP, REGION_CODES, Instrument, MatchResult, Proposal
from matcher.records.results import is_weak
from matcher.records.threshold import Threshold
from matcher.retrieval.lexical import DUTCH_STOP_WORDS, INTAKE_WORDS, STOP_WORDS
from matcher.rules.availability import Availability, availability, covers, status_on
from matcher.text.language import clip
from matcher.text.places import place_words

Encode = Callable[[Sequence[str]], np.ndarray]
NO_REGION = "NL"  # a proposal without a region is somewhere in the Netherlands
MAX_CLUSTERS = 8
LABEL_TERMS = 5

# Place names (of the gazetteer, added per corpus) say where, not what: the region is a column of its own.
LABEL_STOP_WORDS = frozenset(STOP_WORDS | DUTCH_STOP_WORDS | ENGLISH_STOP_WORDS | INTAKE_WORDS)


@dataclass(frozen=True)
class GapOptions:
    """Settings of one analysis; `theme` and `region` keep only the proposals and instruments they name."""

    window_days: int = 90
    theme: str | None = None
    region: str | None = None
    top_k: int = DEFAULT_TOP
    max_clusters: int = MAX_CLUSTERS


@dataclass(frozen=True)
class Cell:
    """One theme x region cell of the demand/supply matrix."""

    theme: str
    theme_name: str
    region: str
    demand: int  # proposals with this theme in this region
    demand_budget_eur: float  # their summed project budgets, where given
    unmet: int  # of which the best match is weak
    supply: int  # instruments not closed at as_of that cover theme and region
    supply_open: int  # of which open for sure (call window includes as_of, or rolling)
    max_award_sum_eur: float  # summed per-project maxima of the supply, where stated (the corpus has no call budgets)
    instruments: tuple[str, ...]

    @property
    def gap(self) -> bool:
        return self.demand > 0 and self.supply == 0


@dataclass(frozen=True)
class UnmetProposal:
    proposal_id: str
    region: str
    themes: tuple[str, ...]
    best_instrument: str | None
    best_score: float
    cluster: int
    text: str


@dataclass(frozen=True)
class Cluster:
    cluster: int  # 1 = the largest
    size: int
    label: tuple[str, ...]  # most distinctive terms, strongest first
    members: tuple[str, ...]  # proposal ids
    themes: tuple[str, ...]  # most frequent themes of the members
    regions: tuple[str, ...]  # most frequent regions of the members


@dataclass(frozen=True)
class InstrumentGap:
    """An instrument nobody matched, or one closing soon (with the proposals that matched it)."""

    instrument_id: str
    name: str
    level: str
    regions: tuple[str, ...]
    themes: tuple[str, ...]
    availability: Availability
    closes: dt.date | None
    days_left: int | None
    max_amount_eur: float | None
    matching_proposals: tuple[str, ...] = ()


@dataclass(frozen=True)
class GapReport:
    as_of: dt.date
    threshold: Threshold
    options: GapOptions
    proposals: int  # after the filters
    unthemed: tuple[str, ...]  # proposals the tagger found no theme for (outside the matrix)
    themes: tuple[str, ...]  # matrix rows, taxonomy order
    regions: tuple[str, ...]  # matrix columns
    cells: tuple[Cell, ...]  # every theme x region, row by row
    unmet: tuple[UnmetProposal, ...]
    clusters: tuple[Cluster, ...]
    unmatched: tuple[InstrumentGap, ...]
    closing: tuple[InstrumentGap, ...]
    theme_names: dict[str, str] = field(default_factory=dict)

    def gap_cells(self) -> list[Cell]:
        """Cells with demand and no instrument, most demand first."""
        return sorted((c for c in self.cells if c.gap), key=lambda c: (-c.demand, c.theme, c.region))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the tables as lists of records, plus the threshold and how it was set."""
        return {
            "as_of": self.as_of.isoformat(),
            "threshold": asdict(self.threshold),
            "options": asdict(self.options),
            "proposals": self.proposals,
            "unthemed": list(self.unthemed),
            "demand_supply": [_plain({**asdict(c), "gap": c.gap}) for c in self.cells],
            "unmet": [_plain(asdict(u)) for u in self.unmet],
            "clusters": [_plain(asdict(c)) for c in self.clusters],
            "unmatched_instruments": [_plain(asdict(i)) for i in self.unmatched],
            "closing_soon": [_plain(asdict(i)) for i in self.closing],
        }


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: list(v) if isinstance(v, tuple) else v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()
    }


# -- the front door --------------------------------------------------------------------------------------------------
def gap_report(
    matcher: Matcher,
    proposals: Sequence[Proposal],
    as_of: dt.date,
    threshold: Threshold,
    options: GapOptions = GapOptions(),
    parallel: bool = False,
) -> GapReport:
    """Match the batch, then analyse it; unmet proposals are clustered on the matcher's embeddings."""
    check_filters(matcher.corpus, options)
    if not proposals:
        raise InputError("no proposals in the batch")
    results = matcher.match_batch(proposals, top_k=options.top_k, as_of=as_of, parallel=parallel)
    scoped = matcher.scope is not None
    return analyse(matcher.corpus, proposals, results, as_of, threshold, options, encode=matcher.encode, scoped=scoped)


def check_filters(corpus: Corpus, options: GapOptions) -> None:
    known = [t.id for t in corpus.themes]
    if options.theme is not None and options.theme not in known:
        raise InputError(f"unknown theme {options.theme!r}; known themes: {', '.join(known)}")
    if options.region is not None and options.region not in REGION_CODES:
        raise InputError(f"unknown region {options.region!r}; known regions: {', '.join(REGION_CODES)}")
    if options.window_days < 0:
        raise InputError(f"window of {options.window_days} days; give 0 or more days")


def analyse(
    corpus: Corpus,
    proposals: Sequence[Proposal],
    results: Sequence[MatchResult],
    as_of: dt.date,
    threshold: Threshold,
    options: GapOptions = GapOptions(),
    encode: Encode | None = None,
    scoped: bool = False,
) -> GapReport:
    """The gap report of matched proposals; `encode` gives the vectors to cluster on (default: TF-IDF)."""
    check_filters(corpus, options)
    if not proposals:
        raise InputError("no proposals in the batch")
    pairs = [(p, r) for p, r in zip(proposals, results, strict=True) if _keeps(p, r, options)]
    # A programme's calls are its rounds, not supply of their own: a programme counts once, open through its calls.
    instruments = [i for i in corpus.instruments if i.parent is None and _covers(i, options)]
    states = {i.id: availability(i, as_of, corpus.calls_of(i.id)) for i in instruments}
    matched = {p.id: _matched(r, threshold.value) for p, r in pairs}
    # The pipeline's decision; without a scope model (`scoped`), also the threshold given here where that is stricter.
    weak = {
        p.id
        for p, r in pairs
        if "weak_match" in r.flags or (not scoped and is_weak(r.matches, r.themes, threshold.value))
    }
    names = corpus.theme_names("nl")
    themes = tuple(t.id for t in corpus.themes if options.theme in (None, t.id))
    regions = _regions(pairs, options)
    cells = tuple(_cell(t, names[t], reg, pairs, weak, instruments, states) for t in themes for reg in regions)
    unmet, clusters = _unmet(pairs, weak, options, encode, LABEL_STOP_WORDS | place_words(corpus.places))
    used = set().union(*matched.values()) if matched else set()
    unmatched = tuple(
        _instrument_row(i, states[i.id], as_of) for i in instruments if i.id not in used and states[i.id] != "closed"
    )
    return GapReport(
        as_of=as_of,
        threshold=threshold,
        options=options,
        proposals=len(pairs),
        unthemed=tuple(p.id for p, r in pairs if not r.themes),
        themes=themes,
        regions=regions,
        cells=cells,
        unmet=unmet,
        clusters=clusters,
        unmatched=unmatched,
        closing=_closing(instruments, states, matched, as_of, options.window_days),
        theme_names=names,
    )


# -- pieces ----------------------------------------------------------------------------------------------------------
def region_of(prop: Proposal) -> str:
    return prop.region or NO_REGION


def _keeps(prop: Proposal, result: MatchResult, options: GapOptions) -> bool:
    return (options.theme is None or options.theme in result.themes) and (
        options.region is None or region_of(prop) == options.region
    )


def _covers(inst: Instrument, options: GapOptions) -> bool:
    return (options.theme is None or options.theme in inst.themes) and (
        options.region is None or covers(inst.regions, options.region)
    )


def _matched(result: MatchResult, threshold: float) -> set[str]:
    return {m.instrument_id for m in result.matches if m.eligibility != "ineligible" and m.score >= threshold}


def _regions(pairs: Sequence[tuple[Proposal, MatchResult]], options: GapOptions) -> tuple[str, ...]:
    if options.region is not None:
        return (options.region,)
    present = {region_of(p) for p, _ in pairs}
    return tuple(code for code in REGION_CODES if code in present)


def _cell(
    theme: str,
    theme_name: str,
    region: str,
    pairs: Sequence[tuple[Proposal, MatchResult]],
    weak: set[str],
    instruments: Sequence[Instrument],
    states: dict[str, Availability],
) -> Cell:
    members = [p for p, r in pairs if theme in r.themes and region_of(p) == region]
    supply = [i for i in instruments if theme in i.themes and covers(i.regions, region) and states[i.id] != "closed"]
    return Cell(
        theme=theme,
        theme_name=theme_name,
        region=region,
        demand=len(members),
        demand_budget_eur=float(sum(p.budget_eur or 0.0 for p in members)),
        unmet=sum(p.id in weak for p in members),
        supply=len(supply),
        supply_open=sum(states[i.id] == "open" for i in supply),
        max_award_sum_eur=float(sum(i.max_amount_eur or 0.0 for i in supply)),
        instruments=tuple(i.id for i in supply),
    )


def _instrument_row(
    inst: Instrument, availability: Availability, as_of: dt.date, matching: tuple[str, ...] = ()
) -> InstrumentGap:
    closes = status_on(inst, as_of)[2]
    return InstrumentGap(
        instrument_id=inst.id,
        name=inst.name,
        level=inst.level,
        regions=inst.regions,
        themes=inst.themes,
        availability=availability,
        closes=closes,
        days_left=None if closes is None else (closes - as_of).days,
        max_amount_eur=inst.max_amount_eur,
        matching_proposals=matching,
    )


def _closing(
    instruments: Sequence[Instrument],
    states: dict[str, Availability],
    matched: dict[str, set[str]],
    as_of: dt.date,
    window_days: int,
) -> tuple[InstrumentGap, ...]:
    """Instruments whose deadline falls in [as_of, as_of + window]: most matching demand first, then soonest."""
    end = as_of + dt.timedelta(days=window_days)
    rows = [
        _instrument_row(i, states[i.id], as_of, tuple(pid for pid, ids in matched.items() if i.id in ids))
        for i in instruments
        if (closes := status_on(i, as_of)[2]) is not None and as_of <= closes <= end
    ]
    return tuple(sorted(rows, key=lambda r: (-len(r.matching_proposals), r.closes or end, r.instrument_id)))


# -- unmet demand: cluster and label ---------------------------------------------------------------------------------
def _unmet(
    pairs: Sequence[tuple[Proposal, MatchResult]],
    weak: set[str],
    options: GapOptions,
    encode: Encode | None,
    stop_words: frozenset[str],
) -> tuple[tuple[UnmetProposal, ...], tuple[Cluster, ...]]:
    chosen = [(p, r) for p, r in pairs if p.id in weak]
    if not chosen:
        return (), ()
    texts = [p.text for p, _ in chosen]
    terms = _term_matrix([p.text for p, _ in pairs], stop_words)
    vectors = encode(texts) if encode is not None else terms.transform(texts).toarray()
    labels = cluster_labels(np.asarray(vectors, dtype=np.float64), options.max_clusters)
    in_batch = np.array([p.id in weak for p, _ in pairs])
    batch_terms = terms.transform([p.text for p, _ in pairs])
    clusters = []
    for c in range(int(labels.max()) + 1):
        rows = [n for n, lab in enumerate(labels) if lab == c]
        members = [chosen[n] for n in rows]
        mask = np.zeros(len(pairs), dtype=bool)
        mask[np.flatnonzero(in_batch)[rows]] = True
        clusters.append(
            Cluster(
                cluster=c + 1,
                size=len(rows),
                label=distinctive_terms(batch_terms, mask, terms.get_feature_names_out()),
                members=tuple(p.id for p, _ in members),
                themes=_most_common(t for _, r in members for t in r.themes),
                regions=_most_common(region_of(p) for p, _ in members),
            )
        )
    unmet = tuple(
        UnmetProposal(
            proposal_id=p.id,
            region=region_of(p),
            themes=r.themes,
            best_instrument=_best_id(r),
            best_score=round(best_score(r), 4),
            cluster=int(lab) + 1,
            text=clip(p.text, 200),
        )
        for (p, r), lab in zip(chosen, labels, strict=True)
    )
    return unmet, tuple(clusters)


def _term_matrix(texts: Sequence[str], stop_words: frozenset[str]) -> TfidfVectorizer:
    vectorizer = TfidfVectorizer(
        lowercase=True,
        strip_accents="unicode",
        stop_words=sorted(stop_words),
        token_pattern=r"(?u)\b[^\W\d_][^\W\d_-]{2,}\b",
        sublinear_tf=True,
    )
    try:
        return vectorizer.fit(texts)
    except ValueError:  # only stop words in the whole batch: fall back to every word
        return TfidfVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b").fit(texts)


def cluster_labels(vectors: np.ndarray, max_clusters: int = MAX_CLUSTERS, seed: int = 0) -> np.ndarray:
    """k-means on unit vectors with k in 2..max_clusters chosen by cosine silhouette; cluster 0 is the largest.

    Fewer than three distinct vectors make one cluster. Same input, same labels.
    """
    n = len(vectors)
    x = normalize(vectors)
    distinct = len(np.unique(np.round(x, 8), axis=0))
    best, best_score_ = np.zeros(n, dtype=int), -1.0
    for k in range(2, min(max_clusters, distinct - 1, n - 1) + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(x)
        if len(set(labels)) < 2:
            continue
        score = float(silhouette_score(x, labels, metric="cosine"))
        if score > best_score_ + 1e-9:
            best, best_score_ = labels, score
    # Renumber: largest cluster first, ties by first member, so the numbering does not depend on k-means' order.
    order = sorted(set(best.tolist()), key=lambda c: (-int((best == c).sum()), int(np.argmax(best == c))))
    rename = {old: new for new, old in enumerate(order)}
    return np.array([rename[c] for c in best.tolist()], dtype=int)


def distinctive_terms(
    rows: Any, mask: np.ndarray, vocabulary: Sequence[str], top: int = LABEL_TERMS
) -> tuple[str, ...]:
    """Terms whose mean TF-IDF in the masked rows most exceeds their mean in the other rows.

    Terms shared by two or more members come first, so one text's quirks do not label a cluster. A cluster of two
    (or one without shared terms) is filled up by each member in turn adding its own most distinctive term.
    """
    dense = np.asarray(rows.toarray())
    inside, outside = dense[mask], dense[~mask]
    score = inside.mean(axis=0) - (outside.mean(axis=0) if len(outside) else 0.0)
    positive = score > 0
    shared = positive & ((inside > 0).sum(axis=0) >= min(2, len(inside)))
    chosen = [int(j) for j in np.lexsort((np.arange(len(score)), -score)) if shared[j]][:top]
    own = [[int(j) for j in np.lexsort((np.arange(len(score)), -row)) if row[j] > 0 and positive[j]] for row in inside]
    if len(inside) >= 3 and chosen:  # a larger cluster is labelled by what its members share, nothing else
        own = []
    for depth in range(max((len(o) for o in own), default=0)):
        for terms in own:
            if len(chosen) < top and depth < len(terms) and terms[depth] not in chosen:
                chosen.append(terms[depth])
    return tuple(str(vocabulary[j]) for j in chosen)


def _most_common(items: Any, top: int = 3) -> tuple[str, ...]:
    return tuple(k for k, _ in Counter(items).most_common(top))


def _best_id(result: MatchResult) -> str | None:
    best = max((m for m in result.matches if m.eligibility != "ineligible"), key=lambda m: m.score, default=None)
    return best.instrument_id if best else None
