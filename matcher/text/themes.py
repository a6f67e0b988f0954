"""Which themes of the taxonomy a proposal is about: keyword hits plus the closest theme embeddings."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from matcher.records import Theme

MAX_THEMES = 4
DENSE_MARGIN = 0.05  # themes within this cosine of the best one count as well
DENSE_FLOOR = 0.3  # ... but only when the best one reaches this share of the corpus reference cosine


@functools.lru_cache(maxsize=256)  # one proposal's text is folded by each reader (facts, places, cues, checks)
def fold(text: str) -> str:
    """Lowercase and strip accents: 'Fryslân' -> 'fryslan'."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


SHORT = 6
ENDINGS = ("s", "en", "e", "'s", "er", "ers")  # plural and inflection endings a short keyword may carry
_WORD = re.compile(r"\w+")


def _split(keywords: Sequence[str]) -> tuple[tuple[str, ...], frozenset[str]]:
    """Long keywords may sit inside Dutch compounds ("waterstofelektrolyser"); short ones must be a whole word, or
    one with a plural or inflection ending ("sme" in "smes", "zorg" in "zorgen"): not the start of another word
    ("water" is not in "waterstof")."""
    folded = {fold(k) for k in keywords}
    short = frozenset(k for k in folded if len(k) < SHORT and k.isalnum())
    return tuple(sorted(folded - short)), short


class ThemeTagger:
    """Tags texts with theme ids. Keyword patterns are compiled once per taxonomy."""

    def __init__(self, themes: Sequence[Theme], theme_vectors: np.ndarray, reference: float = 0.5) -> None:
        self.ids = [t.id for t in themes]
        self.keywords = [_split((t.name, t.name_en, *t.keywords)) for t in themes]
        self.vectors = theme_vectors
        self.floor = DENSE_FLOOR * reference

    def keyword_hits(self, text: str) -> np.ndarray:
        folded = fold(text)
        words = set(_WORD.findall(folded))
        stems = words | {w[: -len(end)] for w in words for end in ENDINGS if w.endswith(end) and len(w) > len(end)}
        stems |= {w[:-3] for w in words if len(w) > 4 and w.endswith("en") and w[-3] == w[-4]}  # kassen, stallen
        hits = [sum(k in folded for k in long) + len(short & stems) for long, short in self.keywords]
        return np.array(hits, dtype=np.float32)

    def tag(self, text: str, vector: np.ndarray) -> list[str]:
        """Theme ids, strongest first: by keyword hits, then by cosine to the theme description."""
        dense = self.vectors @ vector
        hits = self.keyword_hits(text)
        chosen = set(np.flatnonzero(hits > 0))
        if len(dense) and dense.max() >= self.floor:  # nonsense text gets no theme from embeddings alone
            chosen |= set(np.flatnonzero(dense >= dense.max() - DENSE_MARGIN))
        ranked = sorted(chosen, key=lambda i: (-hits[i], -dense[i]))
        return [self.ids[i] for i in ranked[:MAX_THEMES]]

    def weights(self, tags: list[list[str]]) -> np.ndarray:
        """Tag lists as a (n, n_themes) matrix; earlier (stronger) tags weigh more."""
        out = np.zeros((len(tags), len(self.ids)), dtype=np.float32)
        col = {t: i for i, t in enumerate(self.ids)}
        for row, ids in enumerate(tags):
            for rank, tid in enumerate(ids):
                out[row, col[tid]] = 1.0 / (1 + 0.5 * rank)
        return out
