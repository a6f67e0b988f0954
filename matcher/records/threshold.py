"""The weak-match threshold as a value: the number, how it was obtained, and the artefact's manifest.

Made by `analysis.calibration`, carried by the matcher, shown in the gap report and the service's gap answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Threshold:
    """A weak-match threshold and how it was obtained (shown in the gap report)."""

    value: float
    method: str
    positives: int = 0
    negatives: int = 0
    positive_p05: float | None = None  # 5th percentile of the positives' scores
    negative_max: float | None = None
    # What it was computed from (stored artefacts only); not part of equality, so reports cache by value and method.
    manifest: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def fixed(cls, value: float, why: str) -> Threshold:
        return cls(value=value, method=why)
