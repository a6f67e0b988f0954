from __future__ import annotations

import numpy as np
import pytest

from matcher.errors import NotBuiltError
from matcher.retrieval.lexical import LexicalScorer, tfidf_rows

DOCS = ["subsidie voor waterstof en elektrolysers", "lening voor start-ups", "scholing van personeel in de zorg"]


def test_compound_words_match_their_parts() -> None:
    scores = LexicalScorer().fit(DOCS).score(["waterstofelektrolyser voor de haven"])
    assert scores.shape == (1, 3)
    assert int(scores.argmax()) == 0


def test_scores_are_deterministic_and_bounded() -> None:
    scorer = LexicalScorer().fit(DOCS)
    a = scorer.score(["zorgpersoneel opleiden", "startende ondernemer zoekt krediet"])
    b = scorer.score(["zorgpersoneel opleiden", "startende ondernemer zoekt krediet"])
    assert (a == b).all()
    assert a.min() >= 0 and a.max() <= 1
    assert [int(x) for x in a.argmax(axis=1)] == [2, 1]


def test_shared_terms_name_the_overlap() -> None:
    scorer = LexicalScorer().fit(DOCS)
    assert scorer.shared_terms("wij zoeken een lening voor onze start-ups", 1) == ["lening", "start-ups"]


def test_use_before_fit_raises_with_advice() -> None:
    with pytest.raises(NotBuiltError, match=r"call fit\(documents\) first"):
        LexicalScorer().score(["x"])


def test_fast_rows_equal_sklearn_transform() -> None:
    scorer = LexicalScorer().fit(DOCS)
    queries = ["Waterstof-elektrolysers voor de haven!", "", "onbekende woorden zonder overlap", "lening lening lening"]
    for vectorizer in (scorer.word_, scorer.char_):
        fast = tfidf_rows(vectorizer, queries).toarray()
        np.testing.assert_allclose(fast, vectorizer.transform(queries).toarray(), atol=1e-12)


def test_shared_terms_leave_out_words_that_say_nothing_about_the_topic() -> None:
    scorer = LexicalScorer().fit(["nieuwe subsidie van 2 miljoen voor een lening aan start-ups", "scholing"])
    assert scorer.shared_terms("wij willen een nieuwe lening van 2 miljoen subsidie", 0) == ["lening"]
