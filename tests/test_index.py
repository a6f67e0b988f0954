from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matcher import HashingEncoder, Settings, load_corpus
from matcher.errors import CorpusError, InputError
from matcher.retrieval.artefacts import is_current, load_or_build, read_manifest
from matcher.retrieval.index import NOT_SIMILAR, VectorIndex
from matcher.retrieval.spec import IndexSpec
from matcher.retrieval.vectors import normalise

from .conftest import write_corpus


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


# -- index kinds (MATCHER_INDEX) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("exact", "exact"),
        (" EXACT ", "exact"),
        ("hnsw", "hnsw:M=32,efc=80,ef=128,min=10000"),
        ("hnsw:M=16,ef=64", "hnsw:M=16,efc=80,ef=64,min=10000"),
        ("hnsw: ef=256 , m=48, efc=200, min=1", "hnsw:M=48,efc=200,ef=256,min=1"),
    ],
)
def test_index_spec_parses_to_canonical_form(text: str, canonical: str) -> None:
    spec = IndexSpec.parse(text)
    assert str(spec) == canonical
    assert IndexSpec.parse(canonical) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ivf", "index setting (MATCHER_INDEX) 'ivf': unknown kind 'ivf'; use 'exact' or 'hnsw[:M=32,ef=128]'"),
        ("exact:M=4", "index setting (MATCHER_INDEX) 'exact:M=4': 'exact' takes no parameters"),
        ("hnsw:nprobe=4", "index setting (MATCHER_INDEX) 'hnsw:nprobe=4': bad parameter 'nprobe=4'; use M=, efc="),
        ("hnsw:M", "index setting (MATCHER_INDEX) 'hnsw:M': bad parameter 'M'"),
        (
            "hnsw:ef=many",
            "index setting (MATCHER_INDEX) 'hnsw:ef=many': ef must be a positive whole number, not 'many'",
        ),
        ("hnsw:M=0", "index setting (MATCHER_INDEX) 'hnsw:M=0': M must be a positive whole number, not '0'"),
    ],
)
def test_index_spec_rejects_bad_values_by_name(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        IndexSpec.parse(text)
    assert str(info.value).startswith(message)


def test_settings_read_matcher_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATCHER_INDEX", raising=False)
    assert Settings.from_env().index == IndexSpec()
    monkeypatch.setenv("MATCHER_INDEX", "hnsw:ef=64")
    assert str(Settings.from_env().index) == "hnsw:M=32,efc=80,ef=64,min=10000"
    monkeypatch.setenv("MATCHER_INDEX", "hnsw:ef=-1")
    with pytest.raises(InputError, match="'hnsw:ef=-1': ef must be a positive whole number"):
        Settings.from_env()


def test_small_collections_stay_exact_when_hnsw_is_asked_for(vectors: np.ndarray) -> None:
    assert IndexSpec().kind_for(10**9) == "exact"
    assert IndexSpec.parse("hnsw").kind_for(9_999) == "exact"
    assert IndexSpec.parse("hnsw").kind_for(10_000) == "hnsw"
    assert VectorIndex.build(vectors, [str(n) for n in range(50)], IndexSpec.parse("hnsw")).kind == "exact"


@pytest.fixture
def clustered() -> tuple[np.ndarray, np.ndarray]:
    """600 vectors around 20 centres, and 40 queries that are stored vectors plus a little noise."""
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(20, 32))
    data = centres[rng.integers(0, 20, size=600)] + 0.3 * rng.normal(size=(600, 32))
    queries = data[rng.choice(600, size=40, replace=False)] + 0.01 * rng.normal(size=(40, 32))
    return data.astype(np.float32), queries.astype(np.float32)


def test_hnsw_finds_the_same_top_1_as_exact(clustered: tuple[np.ndarray, np.ndarray]) -> None:
    data, queries = clustered
    ids = [f"i{n}" for n in range(len(data))]
    exact = VectorIndex.build(data, ids)
    hnsw = VectorIndex.build(data, ids, IndexSpec.parse("hnsw:M=16,ef=64,min=1"))
    assert (exact.kind, hnsw.kind) == ("exact", "hnsw")
    assert [row[0] for row in hnsw.search(queries, 10)[0]] == [row[0] for row in exact.search(queries, 10)[0]]
    assert hnsw.nbytes > exact.nbytes == 600 * 32 * 4  # the graph links come on top of the vectors


def test_hnsw_similarity_matrix_is_exact(clustered: tuple[np.ndarray, np.ndarray]) -> None:
    data, queries = clustered
    hnsw = VectorIndex.build(data, [str(n) for n in range(len(data))], IndexSpec.parse("hnsw:min=1"))
    np.testing.assert_allclose(hnsw.similarity_matrix(queries), normalise(queries) @ normalise(data).T, atol=1e-5)


def test_candidate_matrix_of_an_exact_index_is_the_similarity_matrix(vectors: np.ndarray) -> None:
    index = VectorIndex.build(vectors, [str(n // 5) for n in range(50)])
    np.testing.assert_array_equal(index.candidate_matrix(vectors[:3]), index.similarity_matrix(vectors[:3]))


@pytest.mark.parametrize("ef", [1, 8, 40])
def test_hnsw_candidate_matrix_scores_every_vector_of_the_ids_found(
    clustered: tuple[np.ndarray, np.ndarray], ef: int
) -> None:
    """Ids own 3 vectors each: the `ef` nearest vectors name ids, and all vectors of those ids are scored exactly."""
    data, queries = clustered
    ids = [f"i{n // 3}" for n in range(len(data))]
    hnsw = VectorIndex.build(data, ids, IndexSpec.parse(f"hnsw:M=16,ef={ef},min=1"))
    got = hnsw.candidate_matrix(queries)
    exact = normalise(queries) @ normalise(data).T
    found, _ = hnsw.search(queries, ef)
    for row in range(len(queries)):
        wanted = np.array([i for i, owner in enumerate(ids) if owner in set(found[row])])
        assert 3 <= len(wanted) <= 3 * ef and len(wanted) % 3 == 0
        np.testing.assert_array_equal(np.flatnonzero(got[row] != NOT_SIMILAR), wanted)
        np.testing.assert_allclose(got[row, wanted], exact[row, wanted], atol=1e-5)
    assert int(np.argmax(got[0])) == int(np.argmax(exact[0]))  # query 0 is a stored vector plus noise


def test_tune_sets_the_number_of_candidates(clustered: tuple[np.ndarray, np.ndarray]) -> None:
    data, queries = clustered
    hnsw = VectorIndex.build(data, [str(n) for n in range(len(data))], IndexSpec.parse("hnsw:M=16,ef=64,min=1"))
    assert ((hnsw.candidate_matrix(queries) != NOT_SIMILAR).sum(axis=1) == 64).all()
    hnsw.tune(ef_search=2)
    assert ((hnsw.candidate_matrix(queries) != NOT_SIMILAR).sum(axis=1) == 2).all()


def test_hnsw_save_and_load_keep_kind_and_parameters(tmp_path: Path, clustered: tuple[np.ndarray, np.ndarray]) -> None:
    data, queries = clustered
    ids = [f"i{n}" for n in range(len(data))]
    index = VectorIndex.build(data, ids, IndexSpec.parse("hnsw:M=8,efc=40,ef=24,min=1"))
    index.save(tmp_path / "x.faiss")
    loaded = VectorIndex.load(tmp_path / "x.faiss", ids)
    assert loaded.kind == "hnsw"
    assert loaded.search(queries, 5)[0] == index.search(queries, 5)[0]
    assert [len(row) for row in loaded.search(queries[:3], 300)[0]] == [300, 300, 300]  # k above ef: still k ids
    loaded.tune(ef_search=200)
    assert loaded.search(queries, 1)[0] == VectorIndex.build(data, ids).search(queries, 1)[0]


def test_changed_index_setting_rebuilds_the_artefacts(tmp_path: Path) -> None:
    corpus = load_corpus(write_corpus(tmp_path / "c"))
    folder = tmp_path / "art"
    first = load_or_build(corpus, HashingEncoder(), folder)
    assert (first.manifest["index"], first.manifest["index_kind"], first.index.kind) == ("exact", "exact", "exact")
    hnsw = IndexSpec.parse("hnsw:M=8,min=1")
    assert not is_current(read_manifest(folder), corpus, HashingEncoder(), hnsw)
    second = load_or_build(corpus, HashingEncoder(), folder, index_spec=hnsw)
    assert (second.manifest["index"], second.manifest["index_kind"]) == ("hnsw:M=8,efc=80,ef=128,min=1", "hnsw")
    assert is_current(read_manifest(folder), corpus, HashingEncoder(), hnsw)
    assert load_or_build(corpus, HashingEncoder(), folder, index_spec=hnsw).index.kind == "hnsw"  # from disk
    # Asked for HNSW but below `min`: built exact, and the manifest says both.
    third = load_or_build(corpus, HashingEncoder(), folder, index_spec=IndexSpec.parse("hnsw"))
    assert (third.manifest["index"], third.manifest["index_kind"]) == ("hnsw:M=32,efc=80,ef=128,min=10000", "exact")
