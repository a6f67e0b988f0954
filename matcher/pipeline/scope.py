"""Whether a text asks for something no funding instrument is for: the scope model, applied to proposal vectors.

A logistic model over the proposal's embedding (`analysis.scope` trains it on labelled in-scope and out-of-scope
texts and stores it as an artefact); a text whose probability of being out of scope reaches `cut` is outside.

    >>> model.outside(vectors)        # one bool per row
    array([False,  True])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ScopeModel:
    """Weights of the logistic model, the cut on its probability, and how both were obtained."""

    weights: tuple[float, ...]
    intercept: float
    cut: float
    method: str
    cross_validated: dict[str, float] = field(default_factory=dict)  # out-of-fold shares flagged, per set
    manifest: dict[str, Any] = field(default_factory=dict)

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        """P(out of scope) per row of `vectors` (n, dim)."""
        if vectors.shape[1] != len(self.weights):
            raise ValueError(f"scope model has {len(self.weights)} weights, vectors have {vectors.shape[1]} columns")
        z = vectors.astype(np.float64) @ np.asarray(self.weights, dtype=np.float64) + self.intercept
        out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
        return out

    def outside(self, vectors: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.probability(vectors) >= self.cut
        return out
