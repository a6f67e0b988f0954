"""The learned ranker: features per (proposal, instrument), grouped cross-validation, JSON storage."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from matcher import CorpusError, DevCase, Matcher, Proposal
from matcher.analysis.ranker import FEATURES, cross_validate, fit, format_report, load, pair_features, save

AS_OF = dt.date(2026, 11, 30)
TEXTS = {
    "nl-waterstof": ["waterstof pilot met elektrolyser", "hydrogen pilot electrolyser", "elektrolyser voor waterstof"],
    "nl-scholing": ["scholing van werknemers", "training employees", "opleiding personeel mkb"],
    "eu-zorg": ["medische technologie", "medical device", "zorg innovatie medische"],
}


def cases() -> list[DevCase]:
    out = []
    for inst, texts in TEXTS.items():
        for n, text in enumerate(texts):
            lang = "en" if n == 1 else "nl"
            out.append(DevCase(id=f"{inst}-{n}", text=text, lang=lang, relevant={inst: 2}))
    return out


def test_pair_features_mark_eligibility_region_and_level(tiny_matcher: Matcher) -> None:
    props = [Proposal(text="eiwit uit bonen", region="NL-UT", applicant_type="sme")]
    feats = pair_features(tiny_matcher, props, tiny_matcher.score([props[0].text]), AS_OF)
    assert feats.shape == (1, len(tiny_matcher.instruments), len(FEATURES))
    row = {inst.id: feats[0, j] for j, inst in enumerate(tiny_matcher.instruments)}
    col = FEATURES.index
    # Gelderland-only, closed scheme: ineligible, region misses; the national scheme covers Utrecht.
    assert row["prov-gelderland-eiwit"][col("ineligible")] == 1.0
    assert row["prov-gelderland-eiwit"][col("region_fit")] == -1.0
    assert row["prov-gelderland-eiwit"][col("level_provincial")] == 1.0
    assert row["nl-scholing"][col("region_fit")] == 1.0
    assert row["nl-scholing"][col("level_national")] == 1.0
    assert row["eu-zorg"][col("level_eu")] == 1.0


def test_cross_validation_reports_both_rankers_on_held_out_cases(tiny_matcher: Matcher) -> None:
    report = cross_validate(tiny_matcher, cases(), AS_OF, folds=3)
    assert report.fusion.name == "fusion (engine)"
    assert report.learned.name == "learned (LR)"
    assert report.fusion.success_5 == 1.0  # 5 instruments: every relevant one is in the top 5
    text = format_report(report, 9)
    assert text.splitlines()[0] == "9 labelled cases, 3-fold cross-validation grouped by case (held-out figures)"
    assert text.splitlines()[-1] in {
        "learned ranker beats fusion",
        "fusion stays the default (learned does not beat it)",
    }


def test_model_round_trips_through_json(tiny_matcher: Matcher, tmp_path: Path) -> None:
    report = cross_validate(tiny_matcher, cases(), AS_OF, folds=3)
    model = fit(tiny_matcher, cases(), AS_OF, report, command="matcher train-ranker")
    path = tmp_path / "models" / "ranker.json"
    save(model, path)
    again = load(path)
    assert again == model
    assert again.use == report.learned_wins
    x = np.ones((2, len(FEATURES)))
    assert np.allclose(again.decision(x), model.decision(x))
    assert json.loads(path.read_text())["format_version"] == 1


def test_load_names_the_wrong_field(tmp_path: Path) -> None:
    path = tmp_path / "ranker.json"
    path.write_text('{"format_version": 7}')
    with pytest.raises(CorpusError, match=r"ranker.json: field 'format_version': value 7: expected 1"):
        load(path)
    path.write_text("not json")
    with pytest.raises(CorpusError, match="cannot read the ranker model"):
        load(path)
