"""Encode chunks of texts ahead of ranking, in a worker, so that encoding overlaps with ranking.

Two kinds of worker:
- a thread (default): fine for encoders that spend their time outside the GIL (torch);
- a forked process (`processes=True`, for encoders marked `fork_safe`): the multilingual USE encoder tokenizes in
  pure Python, which would contend for the GIL with ranking. The child inherits the loaded model (no reload), is
  limited to one BLAS thread, and leaves the other core to ranking. Used by batch triage, not by the service.

    >>> for vectors in encode_ahead(encoder, [["tekst 1"], ["tekst 2"]]):
    ...     rank(vectors)
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

from .encoders import Encoder
from .errors import ModelError

_forked_encoder: Encoder | None = None  # set in the parent just before forking; inherited by the child


def _init_child() -> None:
    limit = getattr(_forked_encoder, "limit_threads", None)
    if limit is not None:
        limit(1)


def _encode_in_child(texts: list[str]) -> np.ndarray:
    if _forked_encoder is None:
        raise ModelError("worker process started without an encoder")
    return _forked_encoder.encode(texts)


def _can_fork(encoder: Encoder) -> bool:
    return bool(getattr(encoder, "fork_safe", False)) and "fork" in multiprocessing.get_all_start_methods()


def encode_ahead(encoder: Encoder, chunks: Sequence[list[str]], processes: bool = False) -> Iterator[np.ndarray]:
    """Yield the vectors of each chunk in order while later chunks are encoded in the background."""
    global _forked_encoder
    if not chunks:
        return
    if len(chunks) == 1:
        yield encoder.encode(chunks[0])
        return
    if processes and _can_fork(encoder):
        _forked_encoder = encoder
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_init_child) as pool:
            yield from pool.map(_encode_in_child, chunks)
        return
    with ThreadPoolExecutor(max_workers=1) as threads:
        yield from threads.map(encoder.encode, chunks)
