from __future__ import annotations

import numpy as np
import pytest

from matcher.retrieval.encoders import HashingEncoder
from matcher.retrieval.workers import encode_ahead

CHUNKS = [["waterstof", "scholing"], ["zorg"], ["lening", "eiwit", "kas"]]


@pytest.mark.parametrize("processes", [False, True])
def test_chunks_come_back_in_order_and_equal_to_direct_encoding(processes: bool) -> None:
    enc = HashingEncoder()
    got = list(encode_ahead(enc, CHUNKS, processes=processes))
    assert [g.shape[0] for g in got] == [2, 1, 3]
    for chunk, vectors in zip(CHUNKS, got, strict=True):
        np.testing.assert_allclose(vectors, enc.encode(chunk))


def test_no_chunks_yields_nothing() -> None:
    assert list(encode_ahead(HashingEncoder(), [])) == []


def test_parallel_batch_matches_serial(tiny_matcher) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from matcher import Proposal
    from matcher.pipeline import matcher as engine

    proposals = [Proposal(id=str(i), text=t) for i, t in enumerate(["waterstof", "scholing", "zorg"] * 30)]
    old = engine.ENCODE_CHUNK
    engine.ENCODE_CHUNK = 16  # several chunks, so the worker really runs
    try:
        day = dt.date(2026, 11, 30)
        parallel = tiny_matcher.match_batch(proposals, as_of=day, parallel=True)
        serial = [tiny_matcher.match(p, as_of=day) for p in proposals]
    finally:
        engine.ENCODE_CHUNK = old
    assert parallel == serial
