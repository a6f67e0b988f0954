from __future__ import annotations

import numpy as np

from matcher.records import Theme
from matcher.text.themes import ThemeTagger, fold

THEMES = [
    Theme(id="energy", name="Energie", name_en="Energy", keywords=("waterstof", "kas")),
    Theme(id="horticulture", name="Tuinbouw", name_en="Horticulture", keywords=("glastuinbouw", "kas")),
    Theme(id="health", name="Zorg", name_en="Care", keywords=("ziekenhuis",)),
]
VECTORS = np.eye(3, dtype=np.float32)


def test_fold_strips_accents() -> None:
    assert fold("Fryslân Coöperatie") == "fryslan cooperatie"


def test_long_keywords_match_inside_compounds_short_ones_only_as_words_with_their_endings() -> None:
    tagger = ThemeTagger(THEMES, VECTORS, reference=0.5)
    assert tagger.keyword_hits("waterstofelektrolyser in een kas").tolist() == [2.0, 1.0, 0.0]
    assert tagger.keyword_hits("tomatenkassen en de winkel").tolist() == [0.0, 0.0, 0.0]
    assert tagger.keyword_hits("kassen in de glastuinbouw").tolist() == [1.0, 3.0, 0.0]  # name "Tuinbouw" too
    assert tagger.keyword_hits("kaswarmte en kasten").tolist() == [0.0, 0.0, 0.0]  # another word, not "kas"
    assert tagger.keyword_hits("zorgen").tolist() == [0.0, 0.0, 1.0]  # the theme's name with an ending


def test_dense_themes_need_a_floor_and_keywords_rank_first() -> None:
    tagger = ThemeTagger(THEMES, VECTORS, reference=0.5)  # floor = 0.15
    weak = np.array([0.1, 0.05, 0.0], dtype=np.float32)
    assert tagger.tag("niets herkenbaars", weak) == []
    strong = np.array([0.0, 0.0, 0.9], dtype=np.float32)
    assert tagger.tag("waterstof voor het ziekenhuis", strong) == [
        "health",
        "energy",
    ]  # equal keyword hits: the closer theme first
