from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher.errors import CorpusError
from matcher.index import VectorIndex, normalise


@pytest.fixture
def vectors() -> np.ndarray:
    return np.random.default_rng(7).normal(size=(50, 16)).astype(np.float32)


def test_search_agrees_with_numpy_brute_force(vectors: np.ndarray) -> None:
    ids = [f"i{n}" for n in range(50)]
    index = VectorIndex.build(vectors, ids)
    queries = np.random.default_rng(8).normal(size=(5, 16)).astype(np.float32)
    got_ids, got_scores = index.search(queries, k=10)
    exact = normalise(queries) @ normalise(vectors).T
    for row in range(5):
        order = np.argsort(-exact[row])[:10]
        np.testing.assert_allclose(got_scores[row], exact[row, order], rtol=1e-5, atol=1e-5)
        assert got_ids[row] == [ids[i] for i in order]


def test_similarity_matrix_is_in_stored_order(vectors: np.ndarray) -> None:
    index = VectorIndex.build(vectors, [str(n) for n in range(50)])
    query = vectors[:2]
    np.testing.assert_allclose(index.similarity_matrix(query), normalise(query) @ normalise(vectors).T, atol=1e-5)


def test_save_and_load_round_trip(tmp_path: Path, vectors: np.ndarray) -> None:
    ids = [f"i{n}" for n in range(50)]
    index = VectorIndex.build(vectors, ids)
    index.save(tmp_path / "x.faiss")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.faiss"]  # no temporary file left behind
    loaded = VectorIndex.load(tmp_path / "x.faiss", ids)
    assert loaded.search(vectors[:1], 3)[0] == index.search(vectors[:1], 3)[0]


def test_id_count_must_match(vectors: np.ndarray, tmp_path: Path) -> None:
    VectorIndex.build(vectors, ["a"] * 50).save(tmp_path / "x.faiss")
    with pytest.raises(CorpusError, match="index holds 50 vectors but 3 ids"):
        VectorIndex.load(tmp_path / "x.faiss", ["a", "b", "c"])
