"""Vector helpers shared by the encoders and the index, without faiss (so loading settings stays cheap).

>>> normalise(np.array([[3.0, 4.0]]))
array([[0.6, 0.8]], dtype=float32)
"""

from __future__ import annotations

import numpy as np


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    arr = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    out: np.ndarray = arr / np.maximum(norms, 1e-12)
    return out
