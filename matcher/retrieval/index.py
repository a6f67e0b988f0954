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
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from matcher.errors import CorpusError, InputError
from matcher.io.atomic import atomic_path

Kind = Literal["exact", "hnsw"]
KINDS: tuple[Kind, ...] = ("exact", "hnsw")
ADD_CHUNK = 65_536  # vectors normalised and added at a time, so building never holds a second full copy
NOT_SIMILAR = -1.0  # the lowest cosine: what `candidate_matrix` gives vectors the graph search did not reach
_KEYS = {"m": "m", "efc": "ef_construction", "ef": "ef_search", "min": "min_vectors"}


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    arr = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    out: np.ndarray = arr / np.maximum(norms, 1e-12)
    return out


@dataclass(frozen=True)
class IndexSpec:
    """Which index to build: `IndexSpec.parse("hnsw:M=32,ef=128")`; `str(spec)` is the canonical form."""

    kind: Kind = "exact"
    m: int = 32
    ef_construction: int = 80
    ef_search: int = 128
    min_vectors: int = 10_000

    @classmethod
    def parse(cls, text: str) -> IndexSpec:
        """Parse `exact`, `hnsw` or `hnsw:M=32,efc=80,ef=128,min=10000` (keys case-insensitive, any order)."""
        where = f"index setting (MATCHER_INDEX) {text!r}"
        kind, _, params = text.strip().partition(":")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise InputError(f"{where}: unknown kind {kind!r}; use 'exact' or 'hnsw[:M=32,ef=128]'")
        if kind == "exact":
            if params.strip():
                raise InputError(f"{where}: 'exact' takes no parameters")
            return cls()
        values: dict[str, int] = {}
        for item in filter(None, (p.strip() for p in params.split(","))):
            key, eq, value = (s.strip() for s in item.partition("="))
            if key.lower() not in _KEYS or not eq:
                raise InputError(f"{where}: bad parameter {item!r}; use M=, efc=, ef= or min=")
            try:
                number = int(value)
            except ValueError:
                number = 0
            if number < 1:
                raise InputError(f"{where}: {key} must be a positive whole number, not {value!r}")
            values[_KEYS[key.lower()]] = number
        base = cls(kind="hnsw")
        return cls(
            kind="hnsw",
            m=values.get("m", base.m),
            ef_construction=values.get("ef_construction", base.ef_construction),
            ef_search=values.get("ef_search", base.ef_search),
            min_vectors=values.get("min_vectors", base.min_vectors),
        )

    def __str__(self) -> str:
        if self.kind == "exact":
            return "exact"
        return f"hnsw:M={self.m},efc={self.ef_construction},ef={self.ef_search},min={self.min_vectors}"

    def kind_for(self, count: int) -> Kind:
        """The kind actually built for `count` vectors: small collections are always exact."""
        return "exact" if count < self.min_vectors else self.kind

    def empty_index(self, dimension: int, count: int) -> faiss.Index:
        if self.kind_for(count) == "exact":
            return faiss.IndexFlatIP(dimension)
        index = faiss.IndexHNSWFlat(dimension, self.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        index.hnsw.efSearch = self.ef_search
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
        index = spec.empty_index(vectors.shape[1], len(vectors))
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
