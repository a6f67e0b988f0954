"""Vector index over passage embeddings (faiss inner product on L2-normalised vectors = cosine).

The index owns the id array: callers pass and get string ids, never faiss positions.

    >>> idx = VectorIndex.build(vectors, ids=["nl-wbso", "nl-wbso", "eu-life"])
    >>> ids, scores = idx.search(query_vectors, k=2)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from .atomic import atomic_path
from .errors import CorpusError


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    arr = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    out: np.ndarray = arr / np.maximum(norms, 1e-12)
    return out


class VectorIndex:
    """Exact cosine search over a set of vectors with string ids (an id may own several vectors)."""

    def __init__(self, index: faiss.Index, ids: Sequence[str]) -> None:
        if index.ntotal != len(ids):
            raise CorpusError(f"index holds {index.ntotal} vectors but {len(ids)} ids were given")
        self._index = index
        self.ids: tuple[str, ...] = tuple(ids)

    @classmethod
    def build(cls, vectors: np.ndarray, ids: Sequence[str]) -> VectorIndex:
        vecs = normalise(vectors)
        index = faiss.IndexFlatIP(vecs.shape[1])
        index.add(vecs)
        return cls(index, ids)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[list[list[str]], np.ndarray]:
        """Top-k ids and cosine scores per query, best first."""
        k = min(k, len(self))
        scores, positions = self._index.search(normalise(queries), k)
        ids = [[self.ids[p] for p in row if p >= 0] for row in positions]
        return ids, scores

    def similarity_matrix(self, queries: np.ndarray) -> np.ndarray:
        """Cosine of every query against every stored vector, in stored order: shape (n_queries, len(self))."""
        scores, positions = self._index.search(normalise(queries), len(self))
        out = np.empty_like(scores)
        np.put_along_axis(out, positions, scores, axis=1)
        return out

    def save(self, path: Path) -> None:
        """Write the faiss index atomically (temp file in the same folder, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            faiss.write_index(self._index, str(tmp))

    @classmethod
    def load(cls, path: Path, ids: Sequence[str]) -> VectorIndex:
        return cls(faiss.read_index(str(path)), ids)
