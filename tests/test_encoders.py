"""One contract test for every encoder: shape, unit length, determinism, empty input, languages."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.errors import ModelError
from matcher.retrieval.encoders import Encoder, HashingEncoder, load_encoder

ENCODERS = ["hashing", "use-multilingual-v3", "all-MiniLM-L6-v2"]


@pytest.fixture(scope="module", params=ENCODERS)
def encoder(request: pytest.FixtureRequest) -> Encoder:
    return load_encoder(request.param)


def test_encoder_contract(encoder: Encoder) -> None:
    texts = ["Wij ontwikkelen een oogstrobot voor kassen.", "Subsidie voor scholing van personeel."]
    vecs = encoder.encode(texts)
    assert vecs.shape == (2, encoder.dimension)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(encoder.encode(texts), vecs, atol=1e-5)
    assert encoder.encode([]).shape == (0, encoder.dimension)
    assert isinstance(encoder, Encoder)


def test_multilingual_encoder_pairs_translations() -> None:
    enc = load_encoder("use-multilingual-v3")
    nl, en, other = enc.encode(
        ["oogstrobot voor kassen", "harvesting robot for greenhouses", "bank garantie voor een lening"]
    )
    assert float(nl @ en) > float(nl @ other) + 0.2


def test_hashing_encoder_is_the_default_test_seam() -> None:
    assert HashingEncoder().name == "hashing"


def test_unknown_model_path_is_a_clear_error() -> None:
    enc = load_encoder("/nonexistent/model/path")
    with pytest.raises(ModelError, match="cannot load sentence-transformers model '/nonexistent/model/path'"):
        enc.encode(["x"])
    with pytest.raises(ModelError, match="model name is empty"):
        load_encoder("  ")


def test_forward_pass_threads_follow_omp_num_threads() -> None:
    from matcher.retrieval.encoders import default_threads

    assert default_threads("1") == 1
    assert default_threads(" 4 ") == 4
    assert default_threads("") == 2
    assert default_threads("0") == 2
    assert default_threads("lots") == 2
