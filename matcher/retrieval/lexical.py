"""Lexical scoring with TF-IDF over word and character n-grams (scikit-learn).

Character n-grams within word boundaries let Dutch compounds match their parts: "waterstofelektrolyser" shares
n-grams with "waterstof" and "elektrolyser". The score is the mean of the word and character cosine similarities.

    >>> scorer = LexicalScorer().fit(["subsidie voor waterstof", "lening voor start-ups"])
    >>> scorer.score(["waterstofelektrolyser"]).argmax()
    0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from matcher.errors import NotBuiltError

# Function words in Dutch and English; they carry no topic and would dominate short proposals.
STOP_WORDS: frozenset[str] = frozenset(
    """
    aan al als bij dan dat de den der des deze die dit door een en er haar het hier hij hoe hun ik in is je kan
    kunnen maar me meer met mij mijn na naar niet nog nu of om onder ons onze ook op over per te tegen tot u uit
    van veel voor want was wat we wel werd wie wij wil willen wordt worden zal ze zich zij zijn zo zonder zou
    a an and are as at be been but by can for from has have in into is it its of on or our so that the their
    them they this to was we will with would you your
    """.split()
)

# Dutch function words beyond the lexical scorer's short list, and words of any intake text that say nothing about
# its topic: without them a cluster would be labelled "zodat" or "project".
DUTCH_STOP_WORDS = frozenset(
    """
    aldus alleen altijd andere anders ben beide daar daarbij daarin daarna daarom daarmee dus echter eens eerst elk
    elke enkele enz geen geweest had hebben heeft hem heel hele hen hierbij hoewel iemand iets jullie kon kunt
    laat later men mag meest misschien moet moeten mogen nadat niets noch nooit omdat ondanks ook opnieuw pas
    reeds sinds sommige steeds toch toen tussen uw vaak veel verder vooral waarbij waardoor waarin waarmee waarna
    waarom waarop weer welk welke werden zeer zelf zelfs zijn zoals zodat zonder zowel
    """.split()
)
INTAKE_WORDS = frozenset(
    """
    aanvraag aanvragen bedrijf bedrijven begroting bijdrage budget circa deel eerste eigen euro extra financiering
    fte gaan gaat geld goed graag groot helpen idee jaar jaren klein kleine komen kosten looptijd maanden maken
    medewerkers miljoen mogelijk nieuw nieuwe ongeveer onderneming ontwikkelen partner partners plan plannen project
    projecten rond samen staat steun stichting subsidie totaal totale twee drie via vinden waar willen zoek zoeken
    zoekt krijgen binnen vier vijf tien eur million company companies looking need needs funding grant support want
    wants years months new
    plans total around based small first two three cost costs help like also
    """.split()
)
# Words never shown as "terms in common": they match without saying anything about the topic.
UNINFORMATIVE: frozenset[str] = STOP_WORDS | DUTCH_STOP_WORDS | INTAKE_WORDS | frozenset(ENGLISH_STOP_WORDS)


def tfidf_rows(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> sparse.csr_matrix:
    """Same result as `vectorizer.transform(texts)` for a fitted sublinear, l2-normalised TfidfVectorizer.

    sklearn's transform validates its input on every call, which costs milliseconds per single query; this uses
    the fitted analyzer, vocabulary and idf directly.
    """
    analyze = vectorizer.build_analyzer()
    vocabulary, idf = vectorizer.vocabulary_, vectorizer.idf_
    indptr, indices, values = [0], [], []
    for text in texts:
        counts = Counter(j for j in map(vocabulary.get, analyze(text)) if j is not None)
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        weights = (1.0 + np.log(tf)) * idf[cols]
        norm = float(np.sqrt(weights @ weights))
        order = np.argsort(cols)
        indices.append(cols[order])
        values.append(weights[order] / norm if norm > 0 else weights[order])
        indptr.append(indptr[-1] + len(cols))
    shape = (len(texts), len(vocabulary))
    if not indices:
        return sparse.csr_matrix(shape, dtype=np.float64)
    return sparse.csr_matrix((np.concatenate(values), np.concatenate(indices), np.array(indptr)), shape=shape)


class LexicalScorer:
    """TF-IDF cosine similarity of queries against a fitted set of documents.

    Settings only in `__init__`; `fit` learns the vocabularies and document matrix (attributes ending in `_`).
    """

    def __init__(self, char_ngrams: tuple[int, int] = (3, 5), word_ngrams: tuple[int, int] = (1, 2)) -> None:
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams

    def fit(self, documents: Sequence[str]) -> LexicalScorer:
        self.word_ = TfidfVectorizer(
            ngram_range=self.word_ngrams,
            strip_accents="unicode",
            stop_words=sorted(STOP_WORDS),
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w[\w-]*\w\b",
        )
        self.char_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=self.char_ngrams, strip_accents="unicode", sublinear_tf=True
        )
        self.word_docs_ = self.word_.fit_transform(documents)
        self.char_docs_ = self.char_.fit_transform(documents)
        self.word_names_ = self.word_.get_feature_names_out()
        # Transposed once here: a product with `.T` would convert the matrix on every query.
        self.word_docs_t_ = sparse.csr_matrix(self.word_docs_.T)
        self.char_docs_t_ = sparse.csr_matrix(self.char_docs_.T)
        docs = sparse.csr_matrix(self.word_docs_)
        self.doc_terms_ = [
            dict(zip(docs.indices[a:b].tolist(), docs.data[a:b].tolist(), strict=True))
            for a, b in zip(docs.indptr[:-1], docs.indptr[1:], strict=True)
        ]
        return self

    def _require_fit(self) -> None:
        if not hasattr(self, "word_docs_"):
            raise NotBuiltError("LexicalScorer is not fitted: call fit(documents) first")

    def transform(self, queries: Sequence[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Word and character TF-IDF rows of the queries (reuse them for `score_rows` and `shared_terms`)."""
        self._require_fit()
        return tfidf_rows(self.word_, queries), tfidf_rows(self.char_, queries)

    def score_rows(self, rows: tuple[sparse.csr_matrix, sparse.csr_matrix]) -> np.ndarray:
        word, char = rows
        total = (word @ self.word_docs_t_ + char @ self.char_docs_t_) * 0.5
        return np.asarray(total.todense(), dtype=np.float32)

    def score(self, queries: Sequence[str]) -> np.ndarray:
        """Return a (len(queries), n_documents) array of similarities in [0, 1]."""
        return self.score_rows(self.transform(queries))

    def shared_terms(self, query: str | sparse.csr_matrix, doc_index: int, top: int = 5) -> list[str]:
        """Words of the query (text, or its word row from `transform`) that weigh most in document `doc_index`."""
        self._require_fit()
        q = self.transform([query])[0] if isinstance(query, str) else query
        doc = self.doc_terms_[doc_index]
        # Sorted by column (= alphabetical term order) first, so ties keep a stable, readable order.
        pairs = sorted(zip(q.indices.tolist(), q.data.tolist(), strict=True))
        weights = [(w * doc[t], t) for t, w in pairs if t in doc]
        words = [str(self.word_names_[t]) for _, t in sorted(weights, key=lambda x: -x[0])]
        keep = [w for w in words if " " not in w and len(w) > 2 and not any(c.isdigit() for c in w)]
        return [w for w in keep if w not in UNINFORMATIVE][:top]
