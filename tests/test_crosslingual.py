"""Cross-lingual pairs: one proposal in Dutch and in English, scored per language."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from matcher import CorpusError, Matcher
from matcher.analysis.crosslingual import evaluate_pairs, format_pairs_table, load_pairs

PAIRS = """
- id: xl-1
  relevant: [nl-waterstof]
  as_of: 2026-08-01
  text_nl: Wij bouwen een waterstof pilot met een elektrolyser.
  text_en: We build a hydrogen pilot with an electrolyser.
- id: xl-2
  relevant: [nl-scholing]
  region: NL-UT
  text_nl: Scholing en opleiding van onze werknemers.
  text_en: Training and education of our employees.
"""


def test_pairs_become_one_case_per_language(tiny_matcher: Matcher, tmp_path: Path) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text(PAIRS, encoding="utf-8")
    pairs = load_pairs(path, tiny_matcher.corpus)
    assert [p.id for p in pairs] == ["xl-1", "xl-2"]
    nl, en = pairs[0].case("nl"), pairs[0].case("en")
    assert (nl.id, nl.lang, nl.relevant, nl.as_of) == ("xl-1-nl", "nl", {"nl-waterstof": 2}, dt.date(2026, 8, 1))
    assert (en.id, en.lang, en.text) == ("xl-1-en", "en", "We build a hydrogen pilot with an electrolyser.")
    assert pairs[1].case("en").region == "NL-UT"

    rows = evaluate_pairs(tiny_matcher, pairs, dt.date(2026, 11, 30), modes=("hybrid",))
    assert [(lang, m.name) for lang, m in rows] == [("nl", "hybrid (engine)"), ("en", "hybrid (engine)")]
    assert rows[0][1].success_1 == 1.0  # Dutch texts against Dutch instruments of the tiny corpus
    table = format_pairs_table(rows, 2, "hashing", 5).splitlines()
    assert table[0] == "2 case pairs (Dutch and English), 5 instruments, encoder hashing"
    assert table[3].startswith("| nl | hybrid (engine) | 1.000 |")


def test_unknown_instrument_says_to_import_the_topics(tiny_matcher: Matcher, tmp_path: Path) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text(PAIRS.replace("[nl-scholing]", "[eu-ft-horizon-x]"), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"case xl-2: field 'relevant': value 'eu-ft-horizon-x': no such instrument"):
        load_pairs(path, tiny_matcher.corpus)


def test_bad_field_is_named(tiny_matcher: Matcher, tmp_path: Path) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text("- id: xl-1\n  relevant: [nl-waterstof]\n  text_nl: hallo\n  text_en: hello\n  colour: red\n")
    with pytest.raises(CorpusError, match=r"case 1: field 'colour': value 'red': Extra inputs are not permitted"):
        load_pairs(path, tiny_matcher.corpus)
    path.write_text("{}")
    with pytest.raises(CorpusError, match="expected a list of cases"):
        load_pairs(path, tiny_matcher.corpus)
