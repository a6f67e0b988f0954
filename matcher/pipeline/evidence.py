"""Funded projects as evidence: the projects closest to a proposal among those paid by an instrument's fund family.

A list of operations (see `matcher import operations`) says which fund paid each project. An instrument whose
record names its `funds` (EFRO, ESF) gets the projects of those funds closest to the proposal, by cosine of the
proposal vector against the project vectors built with the index.

    >>> evidence = ProjectEvidence(corpus.projects, embeddings.project_vectors)
    >>> evidence.closest(("EFRO",), proposal_vector)   # up to three SimilarProject, closest first
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.records import FundedProject, SimilarProject
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
