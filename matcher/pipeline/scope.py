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


def logistic(x: np.ndarray, weights: tuple[float, ...], intercept: float, what: str) -> np.ndarray:
    """The probability of a logistic model with `weights` and `intercept` for every row of `x` (n, len(weights))."""
    if x.shape[1] != len(weights):
        raise ValueError(f"{what} has {len(weights)} weights, its input has {x.shape[1]} columns")
    z = x.astype(np.float64) @ np.asarray(weights, dtype=np.float64) + intercept
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


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
        return logistic(vectors, self.weights, self.intercept, "scope model")

    def outside(self, vectors: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.probability(vectors) >= self.cut
        return out
