"""Encode chunks of texts ahead of ranking, in a worker, so that encoding overlaps with ranking.

Two kinds of worker:
- a thread (default): fine for encoders that spend their time outside the GIL (torch);
- forked processes (`processes=True`, for encoders marked `fork_safe`): the multilingual USE encoder tokenizes in
  pure Python, which would contend for the GIL with ranking. Each child inherits the loaded model (no reload) and
  runs one BLAS thread; one child per core, so encoding and ranking share all cores. Used by batch triage, not by
  the service (forking a threaded server is unsafe).

    >>> for vectors in encode_ahead(encoder, [["tekst 1"], ["tekst 2"]]):
    ...     rank(vectors)
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

from matcher.errors import ModelError
from matcher.retrieval.encoders import Encoder

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
        # One single-threaded encoder per core: together with ranking in this process that keeps every core busy.
        n_workers = min(os.cpu_count() or 1, len(chunks))
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=context, initializer=_init_child) as pool:
            yield from pool.map(_encode_in_child, chunks)
        return
    with ThreadPoolExecutor(max_workers=1) as threads:
        yield from threads.map(encoder.encode, chunks)
