"""Vector index over passage embeddings (faiss inner product on L2-normalised vectors = cosine).

The index owns the id array: callers pass and get string ids, never faiss positions.

    >>> idx = VectorIndex.build(vectors, ids=["nl-wbso", "nl-wbso", "eu-life"])
    >>> ids, scores = idx.search(query_vectors, k=2)

Two kinds, chosen with an `IndexSpec` (setting `MATCHER_INDEX`, parsed by `IndexSpec.parse`):
- `exact` (default): `IndexFlatIP`, brute force, the true top k.
- `hnsw[:M=32,efc=80,ef=128,min=10000]`: `IndexHNSWFlat` graph search, approximate top k. `M` is the number of
  links per vector, `efc` the candidate list while building, `ef` the candidate list while searching (raise it
  for recall, lower it for speed). `scripts/index_benchmark.py` measured recall@10 0.970 for the defaults at
  1M clustered 512-d vectors (0.901 with ef=64, 0.987 with ef=256). Collections with fewer than `min` vectors
  are indexed exactly even when `hnsw` is asked for: there brute force takes milliseconds and is never wrong.

`similarity_matrix` is exact for every kind (it scores every stored vector). `candidate_matrix` is what the matcher
ranks with: the same matrix for an exact index; for HNSW, the graph search's `ef` nearest vectors per query name the
candidate ids, every vector of a candidate id gets its exact cosine and every other vector `NOT_SIMILAR`. The graph
gives `ef` candidate vectors because it ranks `ef` vectors anyway, so returning all of them costs no more than the
top 10, and one knob (`ef`, or `tune`) trades speed for recall. Every vector of a candidate id is rescored because
an instrument's dense score blends its best passage with its summary (`fusion.dense_instrument_scores`): with only
the hit passages scored, an instrument found by a criterion would lose its summary half. `NOT_SIMILAR` is -1, the
lowest cosine: an instrument the graph did not reach gets dense score -1, below every candidate's, and fusion's
max-normalisation clips it to 0 (its lexical and theme scores still count). `scripts/matcher_index_benchmark.py`
measured, through `Matcher.match` at 200,000 passages (40,000 instruments), recall@10 0.977 of the exact top 10 with
the default ef=128 (0.939 with ef=64, 0.989 with ef=256) and p50 15.6 ms per match against 140 ms exact
(docs/index-benchmark.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from matcher.errors import CorpusError
from matcher.io.atomic import atomic_path
from matcher.retrieval.spec import IndexSpec, Kind
from matcher.retrieval.vectors import normalise

ADD_CHUNK = 65_536  # vectors normalised and added at a time, so building never holds a second full copy
NOT_SIMILAR = -1.0  # the lowest cosine: what `candidate_matrix` gives vectors the graph search did not reach


def empty_index(spec: IndexSpec, dimension: int, count: int) -> faiss.Index:
    """A faiss index of the kind `spec` builds for `count` vectors."""
    if spec.kind_for(count) == "exact":
        return faiss.IndexFlatIP(dimension)
    index = faiss.IndexHNSWFlat(dimension, spec.m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = spec.ef_construction
    index.hnsw.efSearch = spec.ef_search
    return index


class VectorIndex:
    """Cosine search over a set of vectors with string ids (an id may own several vectors)."""

    def __init__(self, index: faiss.Index, ids: Sequence[str]) -> None:
        if index.ntotal != len(ids):
            raise CorpusError(f"index holds {index.ntotal} vectors but {len(ids)} ids were given")
        self._index = index
        # HNSW keeps the vectors in a flat index: brute force over it gives exact similarities.
        self._flat = faiss.downcast_index(index.storage) if isinstance(index, faiss.IndexHNSW) else index
        self.ids: tuple[str, ...] = tuple(ids)

    @classmethod
    def build(cls, vectors: np.ndarray, ids: Sequence[str], spec: IndexSpec | None = None) -> VectorIndex:
        spec = spec or IndexSpec()
        index = empty_index(spec, vectors.shape[1], len(vectors))
        for start in range(0, len(vectors), ADD_CHUNK):
            index.add(normalise(vectors[start : start + ADD_CHUNK]))
        return cls(index, ids)

    @property
    def kind(self) -> Kind:
        """The kind built (may be `exact` where `hnsw` was asked for; see `IndexSpec.min_vectors`)."""
        return "hnsw" if isinstance(self._index, faiss.IndexHNSW) else "exact"

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def nbytes(self) -> int:
        """Bytes the index holds in memory: the vectors plus, for HNSW, the graph links."""
        size = 4 * len(self) * self.dimension  # float32 vectors
        if isinstance(self._index, faiss.IndexHNSW):
            hnsw: Any = self._index.hnsw  # the type stubs lack the graph arrays
            size += 4 * int(hnsw.neighbors.size()) + 4 * int(hnsw.levels.size()) + 8 * int(hnsw.offsets.size())
        return size

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def tune(self, ef_search: int) -> None:
        """Set HNSW's search candidate list (and so `candidate_matrix`'s candidates) without rebuilding.

        No effect on an exact index.
        """
        if isinstance(self._index, faiss.IndexHNSW):
            self._index.hnsw.efSearch = ef_search

    def search(self, queries: np.ndarray, k: int) -> tuple[list[list[str]], np.ndarray]:
        """Top-k ids and cosine scores per query, best first."""
        k = min(k, len(self))
        params = None
        if isinstance(self._index, faiss.IndexHNSW) and k > self._index.hnsw.efSearch:
            # A candidate list shorter than k would return fewer than k ids. (The faiss stubs lack this class.)
            params = faiss.SearchParametersHNSW(efSearch=k)  # type: ignore[attr-defined]
        scores, positions = self._index.search(normalise(queries), k, params=params)
        ids = [[self.ids[p] for p in row if p >= 0] for row in positions]
        return ids, scores

    def similarity_matrix(self, queries: np.ndarray) -> np.ndarray:
        """Cosine of every query against every stored vector, in stored order: shape (n_queries, len(self))."""
        scores, positions = self._flat.search(normalise(queries), len(self))
        out = np.empty_like(scores)
        np.put_along_axis(out, positions, scores, axis=1)
        return out

    def candidate_matrix(self, queries: np.ndarray) -> np.ndarray:
        """Like `similarity_matrix`, but for HNSW only the candidates' vectors are scored (see the module docstring).

        Exact index: `similarity_matrix` itself. HNSW: the vectors of every id among the graph search's `ef` nearest
        vectors get their exact cosine; all others `NOT_SIMILAR`.
        """
        if not isinstance(self._index, faiss.IndexHNSW):
            return self.similarity_matrix(queries)
        normed = normalise(queries)
        _, positions = self._index.search(normed, min(int(self._index.hnsw.efSearch), len(self)))
        out = np.full((len(normed), len(self)), NOT_SIMILAR, dtype=np.float32)
        for row, found in enumerate(positions):
            # O(len(self)) per query, like filling the row: under 1 ms at 200,000 vectors.
            cols = np.flatnonzero(np.isin(self._id_numbers, self._id_numbers[found[found >= 0]]))
            # einsum, not `@`: a few thousand products do not pay for waking BLAS threads, which on a busy
            # 2-core machine tripled this method's time (9 against 24 ms at 15,000 vectors, ef=256).
            out[row, cols] = np.einsum("ij,j->i", self._flat.reconstruct_batch(cols), normed[row])
        return out

    @cached_property
    def _id_numbers(self) -> np.ndarray:
        """One integer per stored vector, equal where the ids are equal (computed on first use)."""
        numbers: np.ndarray = np.unique(np.array(self.ids), return_inverse=True)[1]
        return numbers

    def save(self, path: Path) -> None:
        """Write the faiss index atomically (temp file in the same folder, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            faiss.write_index(self._index, str(tmp))

    @classmethod
    def load(cls, path: Path, ids: Sequence[str]) -> VectorIndex:
        """Read an index written by `save`; HNSW keeps its build and search parameters in the file."""
        return cls(faiss.read_index(str(path)), ids)
