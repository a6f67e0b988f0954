from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matcher.retrieval.fusion import (
    absolute_scores,
    dense_instrument_scores,
    fuse,
    max_normalise,
    owner_max,
    theme_overlap,
)


def test_owner_max_takes_the_best_passage_per_owner() -> None:
    scores = np.array([[0.1, 0.9, 0.3, 0.2]], dtype=np.float32)
    owners = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(owner_max(scores, owners, 2), [[0.9, 0.3]])


def test_dense_scores_blend_best_and_summary() -> None:
    scores = np.array([[0.2, 0.8, 0.4]], dtype=np.float32)
    np.testing.assert_allclose(dense_instrument_scores(scores, np.array([0, 0, 1]), np.array([0, 2])), [[0.5, 0.4]])


def test_max_normalise_floors_at_zero() -> None:
    np.testing.assert_allclose(max_normalise(np.array([[-0.2, 0.1, 0.4]])), [[0.0, 0.25, 1.0]])
    np.testing.assert_allclose(max_normalise(np.array([[0.0, 0.0]])), [[0.0, 0.0]])


def test_fuse_weights_sum_to_one() -> None:
    dense = np.array([[0.5, 0.25]])
    lexical = np.array([[0.1, 0.2]])
    themes = np.array([[1.0, 0.0]])
    np.testing.assert_allclose(fuse(dense, lexical, themes, dense_weight=0.5, theme_weight=0.2), [[0.85, 0.55]])
    np.testing.assert_allclose(fuse(dense, lexical, None, dense_weight=0.5), [[0.75, 0.75]])


def test_theme_overlap_is_the_covered_share() -> None:
    query = np.array([[1.0, 0.5, 0.0], [0.0, 0.0, 0.0]])
    items = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(theme_overlap(query, items), [[1 / 1.5, 1.0], [0.0, 0.0]])


def test_absolute_scores_shrink_weak_queries_but_keep_order() -> None:
    fused = np.array([[1.0, 0.5], [1.0, 0.5]])
    dense = np.array([[0.6, 0.1], [0.15, 0.05]])
    out = absolute_scores(fused, dense, reference=0.6)
    np.testing.assert_allclose(out, [[1.0, 0.5], [0.25, 0.125]])


scores = arrays(np.float64, (3, 6), elements=st.floats(-1, 1, allow_nan=False))


@given(scores, scores, st.floats(0, 1))
def test_fused_scores_stay_in_unit_interval(dense: np.ndarray, lexical: np.ndarray, weight: float) -> None:
    out = absolute_scores(fuse(dense, np.abs(lexical), None, dense_weight=weight), dense, reference=0.5)
    assert out.min() >= 0.0
    assert out.max() <= 1.0 + 1e-9


@given(
    arrays(np.float32, (2, 9), elements=st.floats(-1, 1, width=32)),
    st.lists(st.integers(-1, 3), min_size=9, max_size=9),
)
def test_owner_max_agrees_with_a_plain_loop(scores: np.ndarray, owners: list[int]) -> None:
    owner_of = np.array(owners)
    expected = np.full((2, 4), -1.0, dtype=np.float32)
    for o in range(4):
        if (owner_of == o).any():
            expected[:, o] = scores[:, owner_of == o].max(axis=1)
    np.testing.assert_allclose(owner_max(scores, owner_of, 4), expected)


def test_cross_lingual_pairs_use_the_dense_score_for_the_lexical_part() -> None:
    dense = np.array([[0.8, 0.4]])
    lexical = np.array([[0.0, 0.5]])  # the first item shares no words: it is written in another language
    plain = fuse(dense, lexical, dense_weight=0.5, theme_weight=0.0)
    cross = fuse(dense, lexical, dense_weight=0.5, theme_weight=0.0, cross_lingual=np.array([[True, False]]))
    assert plain.tolist() == [[0.5, 0.75]]
    assert cross.tolist() == [[1.0, 0.75]]
