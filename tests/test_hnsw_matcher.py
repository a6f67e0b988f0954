"""The matcher searches the HNSW graph when the index is HNSW, and ranks exactly as before when it is exact.

The synthetic collection: 300 instruments of 5 passages each (1,500 vectors, above the `min=1000` the specs here
set), built in code from made-up words. Instrument n belongs to topic n % 30 and has 4 words of its own; a
proposal made of instrument n's own words and 3 words of its topic must rank instrument n first.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from matcher import HashingEncoder, Matcher, Proposal, load_corpus
from matcher.io.corpus import Corpus
from matcher.records import Instrument, Source, Theme
from matcher.retrieval import artefacts
from matcher.retrieval.index import NOT_SIMILAR
from matcher.retrieval.spec import IndexSpec

from .conftest import write_corpus

TODAY = dt.date(2026, 12, 1)
SOURCE = Source(url="https://example.org/regeling", as_of=dt.date(2026, 1, 1))  # type: ignore[arg-type]
N_INSTRUMENTS, TOPICS = 300, 30
KNOWN = (17, 42, 123, 299)  # instruments whose own words are asked for below


def _words(rng: np.random.Generator, n: int) -> list[str]:
    letters = np.array(list("abcdefghijklmnoprstuvwz"))
    return ["".join(rng.choice(letters, size=7)) for _ in range(n)]


def _collection() -> tuple[Corpus, list[list[str]], list[list[str]]]:
    rng = np.random.default_rng(5)
    topic_words = [_words(rng, 12) for _ in range(TOPICS)]
    own_words = [_words(rng, 4) for _ in range(N_INSTRUMENTS)]
    instruments = []
    for n, own in enumerate(own_words):
        topic = topic_words[n % TOPICS]
        pick = rng.permutation(12)
        instruments.append(
            Instrument(
                id=f"nl-syn-{n:03d}",
                name=f"Regeling {n}",
                level="national",
                administrator="RVO",
                regions=("NL",),
                applicant_types=("sme",),
                instrument_type="grant",
                recurrence="rolling",
                themes=("energy",),
                summary=" ".join([*(topic[i] for i in pick[:6]), *own[:3]]),
                criteria=tuple(" ".join([*(topic[i] for i in pick[6 + k : 9 + k]), own[3]]) for k in range(3)),
                keywords=tuple(own),
                source=SOURCE,
            )
        )
    themes = (Theme(id="energy", name="Energie", name_en="Energy", keywords=("waterstof",)),)
    return Corpus(themes, tuple(instruments), (), (), hash="synthetic"), topic_words, own_words


def _proposal(n: int, topic_words: list[list[str]], own_words: list[list[str]]) -> Proposal:
    return Proposal(id=str(n), text=" ".join([*own_words[n], *topic_words[n % TOPICS][:3]]))


@pytest.fixture(scope="module")
def collection() -> tuple[Corpus, list[Proposal]]:
    corpus, topic_words, own_words = _collection()
    return corpus, [_proposal(n, topic_words, own_words) for n in KNOWN]


def _matcher(corpus: Corpus, spec: str) -> Matcher:
    encoder = HashingEncoder()
    return Matcher(corpus, encoder, artefacts.build(corpus, encoder, IndexSpec.parse(spec)))


@pytest.fixture(scope="module")
def exact(collection: tuple[Corpus, list[Proposal]]) -> Matcher:
    return _matcher(collection[0], "exact")


def _ranked(m: Matcher, proposals: list[Proposal]) -> list[list[tuple[str, float]]]:
    results = m.match_batch(proposals, top_k=10, as_of=TODAY)
    return [[(x.instrument_id, x.score) for x in r.matches] for r in results]


def test_hnsw_match_agrees_with_exact_on_known_answers(
    collection: tuple[Corpus, list[Proposal]], exact: Matcher
) -> None:
    corpus, proposals = collection
    hnsw = _matcher(corpus, "hnsw:M=16,min=1000")
    assert (len(hnsw.embeddings.index), hnsw.embeddings.index.kind) == (1500, "hnsw")
    for n, p in zip(KNOWN, proposals, strict=True):
        got = hnsw.match(p, as_of=TODAY)
        assert got.matches[0].instrument_id == f"nl-syn-{n:03d}"
        assert got == exact.match(p, as_of=TODAY)  # ef=128 candidates cover every instrument of the top 10 here
    passage = hnsw.score([p.text for p in proposals]).passage
    assert (passage == NOT_SIMILAR).mean() > 0.5  # the graph's candidates were scored, not every passage


def test_only_the_graph_candidates_get_a_dense_score(collection: tuple[Corpus, list[Proposal]]) -> None:
    """With ef=4 the graph names at most 4 instruments; in dense mode every other instrument scores 0."""
    corpus, proposals = collection
    hnsw = _matcher(corpus, "hnsw:M=16,ef=4,min=1000")
    scores = hnsw.score([p.text for p in proposals], mode="dense")
    results = hnsw.match_batch(proposals, top_k=10, as_of=TODAY, mode="dense")
    for row, (n, result) in enumerate(zip(KNOWN, results, strict=True)):
        found = set(hnsw.embeddings.index.search(scores.vectors[row : row + 1], 4)[0][0])
        scored = {hnsw.instruments[i].id for i in np.flatnonzero(scores.final[row] > 0)}
        assert scored == found and f"nl-syn-{n:03d}" in found
        filled = np.flatnonzero(scores.passage[row] != NOT_SIMILAR)
        assert {hnsw.embeddings.passages[j].owner for j in filled} == found
        assert len(filled) == 5 * len(found)  # every passage of a candidate instrument, none of the others
        assert result.matches[0].instrument_id == f"nl-syn-{n:03d}"
        assert {x.instrument_id for x in result.matches[: len(found)]} == found
        assert [x.score for x in result.matches[len(found) :]] == [0.0] * (10 - len(found))


def test_non_candidates_cannot_outrank_candidates_on_the_dense_score(
    collection: tuple[Corpus, list[Proposal]],
) -> None:
    corpus, proposals = collection
    hnsw = _matcher(corpus, "hnsw:M=16,ef=8,min=1000")
    dense = hnsw.score([p.text for p in proposals]).dense
    reached = dense > NOT_SIMILAR
    assert (reached.sum(axis=1) <= 8).all() and reached.any(axis=1).all()
    assert (dense[~reached] == NOT_SIMILAR).all()


def test_exact_index_scores_every_passage_as_before(tiny_matcher: Matcher) -> None:
    index = tiny_matcher.embeddings.index
    texts = ["waterstof pilot met een elektrolyser", "scholing van werknemers"]
    vectors = tiny_matcher.encode(texts)
    assert index.kind == "exact"
    np.testing.assert_array_equal(index.candidate_matrix(vectors), index.similarity_matrix(vectors))
    np.testing.assert_array_equal(tiny_matcher.score(texts).passage, index.similarity_matrix(vectors))  # bit for bit
    assert (tiny_matcher.score(texts).passage > NOT_SIMILAR).all()


def test_hnsw_asked_for_a_small_corpus_matches_exactly_as_before(
    tiny_matcher: Matcher, tmp_path_factory: pytest.TempPathFactory
) -> None:
    corpus = load_corpus(write_corpus(tmp_path_factory.mktemp("tiny-hnsw") / "corpora"))
    asked = _matcher(corpus, "hnsw")  # default min=10000: the tiny corpus is indexed exactly
    assert asked.embeddings.index.kind == "exact"
    p = Proposal(text="Wij bouwen een waterstof pilot met een elektrolyser", region="NL-ZH")
    assert asked.match(p, as_of=TODAY) == tiny_matcher.match(p, as_of=TODAY)
    assert asked.match(p, as_of=TODAY).matches[0].instrument_id == "nl-waterstof"
