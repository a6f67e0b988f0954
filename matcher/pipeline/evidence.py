"""Funded projects as evidence: the projects closest to a proposal among those paid by an instrument's fund family.

A list of operations (see `matcher import operations`) says which fund paid each project. An instrument whose
record names its `funds` (EFRO, ESF) gets the projects of those funds closest to the proposal, by cosine of the
proposal vector against the project vectors built with the index.

    >>> evidence = ProjectEvidence(corpus.projects, embeddings.project_vectors)
    >>> evidence.closest(("EFRO",), proposal_vector)   # up to three SimilarProject, closest first
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.records import FundedProject, SimilarProject
from matcher.retrieval.fusion import owner_max
from matcher.retrieval.vectors import normalise

MAX_SIMILAR = 3


class ProjectEvidence:
    """Funded projects and their unit vectors, grouped by fund."""

    def __init__(self, projects: Sequence[FundedProject], vectors: np.ndarray) -> None:
        if len(projects) != len(vectors):
            raise ValueError(f"{len(projects)} projects but {len(vectors)} project vectors")
        self.projects = tuple(projects)
        self.vectors = normalise(vectors) if len(projects) else vectors
        self._rows: dict[str, np.ndarray] = {}
        for fund in sorted({p.fund for p in self.projects}):
            self._rows[fund] = np.array([n for n, p in enumerate(self.projects) if p.fund == fund])

    def __bool__(self) -> bool:
        return bool(self.projects)

    def closest(self, funds: Sequence[str], vector: np.ndarray, k: int = MAX_SIMILAR) -> tuple[SimilarProject, ...]:
        """The k projects of the given funds closest to the proposal vector, best first; () when there are none."""
        rows = [self._rows[f] for f in funds if f in self._rows]
        if not rows:
            return ()
        candidates = np.concatenate(rows)
        sims = self.vectors[candidates] @ normalise(vector.reshape(1, -1))[0]
        order = np.argsort(-sims, kind="stable")[:k]
        return tuple(_similar(self.projects[candidates[i]], float(sims[i])) for i in order)


def _similar(project: FundedProject, similarity: float) -> SimilarProject:
    return SimilarProject.model_construct(
        id=project.id,
        title=project.title,
        beneficiary=project.beneficiary,
        fund=project.fund,
        eu_subsidy_eur=project.eu_subsidy_eur,
        year=project.year,
        province=project.province,
        similarity=round(similarity, 4),
    )


# How much a described, really funded project close to the proposal adds to an instrument's ranking score (after
# `fusion.absolute_scores`): KNN_WEIGHT times the cosine above KNN_FLOOR of the closest project that instrument paid.
# Chosen on the labelled cases, each real case without its own project (`analysis.metrics.match_cases`), among
# weights 0.3-1.0 and floors 0.2-0.5: 0.8 / 0.3 lifted MRR, fit only, on the written cases (which are not among the
# examples) from 0.634 to 0.664 and on the real ones from 0.521 to 0.633 (0.5 / 0.3: 0.650 and 0.622).
KNN_WEIGHT = 0.8
KNN_FLOOR = 0.3
# And a vote of the VOTE_NEIGHBOURS funded projects closest to the proposal, whoever paid them: each weighs
# exp(cosine / VOTE_TEMPERATURE), and an instrument's share of the weight, times VOTE_WEIGHT, is added to its closest
# cosine above. An instrument that paid several projects like this one gains on one that paid a single one as close.
# Chosen on the labelled cases (fit only, each real case without its own project) among weights 0.05-0.2, 10 or 20
# neighbours and temperatures 0.02-0.1: 0.1 / 20 / 0.1 took MRR on the written cases from 0.675 to 0.682, on the
# real ones from 0.644 to 0.657 and text only from 0.618 to 0.628; every setting tried gained on all three sets.
VOTE_WEIGHT = 0.1
VOTE_NEIGHBOURS = 20
VOTE_TEMPERATURE = 0.1
# A funded project is named as similar in a why line only from this cosine: below it, it still lifts the instrument a
# little, but an adviser should not read "a similar project" for one that shares a field and little else.
SIMILAR_FROM = 0.5


@dataclass(frozen=True)
class FundedExample:
    """A real project an instrument paid for, described in the words of a public page (a labelled real case)."""

    instrument_id: str
    source: str  # the page, the key by which a case leaves its own project out


class FundedExamples:
    """Descriptions of really funded projects by the instrument that paid, as unit vectors: the closest one per
    instrument is a ranking signal (`scores`) and a why line (the project's page).

        >>> examples = FundedExamples(found, vectors, [i.id for i in corpus.instruments])
        >>> best, which = examples.scores(proposal_vectors)    # (n, n_instruments) cosine, and the example index
    """

    def __init__(self, examples: Sequence[FundedExample], vectors: np.ndarray, instrument_ids: Sequence[str]) -> None:
        if len(examples) != len(vectors):
            raise ValueError(f"{len(examples)} funded examples but {len(vectors)} vectors")
        position = {iid: k for k, iid in enumerate(instrument_ids)}
        unknown = sorted({e.instrument_id for e in examples} - set(position))
        if unknown:
            raise ValueError(f"funded examples name instruments the corpus lacks: {', '.join(unknown)}")
        self.examples = tuple(examples)
        self.vectors = normalise(vectors) if len(examples) else vectors
        self._owner = np.array([position[e.instrument_id] for e in self.examples], dtype=np.int64)
        self._n = len(instrument_ids)
        self._left_out: frozenset[str] = frozenset()

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def key(self) -> str:
        """What the ranking depends on: the examples' instruments and pages, and the weights (artefact keys)."""
        weights = (KNN_WEIGHT, KNN_FLOOR, VOTE_WEIGHT, VOTE_NEIGHBOURS, VOTE_TEMPERATURE)
        digest = hashlib.sha256(("|".join(map(str, weights)) + "|").encode())
        for e in self.examples:
            digest.update(f"{e.instrument_id}|{e.source}\n".encode())
        return digest.hexdigest()[:16]

    @contextlib.contextmanager
    def leaving_out(self, sources: set[str]) -> Iterator[None]:
        """Within the block, the examples of these pages do not count: a labelled case is judged without its own
        project (evaluation only; not for concurrent use)."""
        before = self._left_out
        self._left_out = before | frozenset(sources)
        try:
            yield
        finally:
            self._left_out = before

    def scores(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per proposal and instrument, the cosine of the closest example it paid (-1 where none), and per proposal
        the cosine of every example (-1 for those left out)."""
        sims = normalise(vectors) @ self.vectors.T if len(self.examples) else np.zeros((vectors.shape[0], 0))
        if self._left_out:
            gone = np.array([e.source in self._left_out for e in self.examples], dtype=bool)
            sims[:, gone] = -1.0
        best = owner_max(sims, self._owner, self._n)
        return best, sims

    def closest(self, sims: np.ndarray, instrument: int) -> FundedExample | None:
        """The example of the instrument at position `instrument` closest to the proposal whose cosines are `sims`."""
        mine = np.flatnonzero(self._owner == instrument)
        if not len(mine):
            return None
        return self.examples[int(mine[np.argmax(sims[mine])])]

    def votes(self, sims: np.ndarray) -> np.ndarray:
        """Per proposal and instrument, its share of the weight of the VOTE_NEIGHBOURS examples closest to the
        proposal (`sims`: the cosine of every example, -1 for those left out), each weighing exp(cosine / T)."""
        out = np.zeros((sims.shape[0], self._n), dtype=np.float64)
        k = min(VOTE_NEIGHBOURS, sims.shape[1])
        if k == 0:
            return out
        near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        close = np.take_along_axis(sims, near, axis=1).astype(np.float64)
        weight = np.exp((close - close.max(axis=1, keepdims=True)) / VOTE_TEMPERATURE) * (close > -1.0)
        weight /= np.maximum(weight.sum(axis=1, keepdims=True), 1e-12)
        rows = np.repeat(np.arange(sims.shape[0]), k)
        np.add.at(out, (rows, self._owner[near].ravel()), weight.ravel())
        return out

    def add_to(self, scores: np.ndarray, best: np.ndarray, votes: np.ndarray | None = None) -> np.ndarray:
        """The ranking scores with KNN_WEIGHT times what is above KNN_FLOOR of the closest example's cosine plus
        VOTE_WEIGHT times the instrument's vote (`votes`), capped at 1."""
        lifted = best if votes is None else best + VOTE_WEIGHT * votes
        boost = KNN_WEIGHT * np.clip(lifted - KNN_FLOOR, 0.0, None)
        out: np.ndarray = np.minimum(scores + boost, 1.0)
        return out.astype(scores.dtype)
