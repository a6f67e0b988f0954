from __future__ import annotations

import datetime as dt
from pathlib import Path

from matcher import HashingEncoder, Matcher, MatchResult, Proposal, load_corpus
from matcher.text.i18n import localise

from .conftest import INSTRUMENTS, instrument, write_corpus

TODAY = dt.date(2026, 11, 30)


def worded(m: Matcher, result: MatchResult, lang: str = "nl") -> MatchResult:
    return localise(result, lang, m.corpus.theme_names(lang))


def ids(m: Matcher, text: str, **fields: object) -> list[str]:
    result = m.match(Proposal(text=text, **fields), top_k=5, as_of=TODAY)  # type: ignore[arg-type]
    return [x.instrument_id for x in result.matches]


def test_each_proposal_finds_its_instrument_first(tiny_matcher: Matcher) -> None:
    assert ids(tiny_matcher, "Wij bouwen een waterstof pilot met een elektrolyser")[0] == "nl-waterstof"
    assert ids(tiny_matcher, "Scholing en opleiding van onze werknemers")[0] == "nl-scholing"
    assert ids(tiny_matcher, "Medische technologie voor de zorg")[0] == "eu-zorg"


def test_ineligible_instruments_rank_after_all_others(tiny_matcher: Matcher) -> None:
    # The protein scheme fits the text best but is closed and Gelderland-only.
    result = tiny_matcher.match(
        Proposal(text="plantaardige eiwitten en vleesvervangers", region="NL-GR"), top_k=5, as_of=TODAY
    )
    got = [(m.instrument_id, m.eligibility) for m in result.matches]
    assert got[-2:] == [("prov-gelderland-eiwit", "ineligible"), ("rom-oost-lening", "ineligible")]
    assert all(e != "ineligible" for _, e in got[:-2])
    eiwit = result.matches[-2]
    assert [c.status for c in eiwit.checks if c.criterion in ("region", "deadline")] == ["missed", "missed"]


def test_scores_are_sorted_within_eligibility_groups_and_bounded(tiny_matcher: Matcher) -> None:
    result = tiny_matcher.match(Proposal(text="lening voor een start-up met waterstof"), top_k=5, as_of=TODAY)
    open_scores = [m.score for m in result.matches if m.eligibility != "ineligible"]
    assert open_scores == sorted(open_scores, reverse=True)
    assert all(0.0 <= m.score <= 1.0 for m in result.matches)


def test_match_is_a_batch_of_one_and_deterministic(tiny_matcher: Matcher) -> None:
    p = Proposal(id="x", text="opleiding van personeel in de zorg", region="NL-GE", applicant_type="sme")
    single = tiny_matcher.match(p, as_of=TODAY)
    batch = tiny_matcher.match_batch([Proposal(id="y", text="waterstof"), p], as_of=TODAY)
    assert batch[1] == single
    assert tiny_matcher.match(p, as_of=TODAY) == single


def test_why_lines_name_themes_passage_and_missing_information(tiny_matcher: Matcher) -> None:
    result = tiny_matcher.match(
        Proposal(text="Wij bouwen een waterstof pilot met een elektrolyser"), top_k=1, as_of=TODAY
    )
    top = worded(tiny_matcher, result).matches[0]
    assert top.why[0] == "Gedeelde thema's: Energie"
    assert top.why[1].startswith('Sluit het best aan bij: "')
    assert top.why[-1] == (
        "Ontbreekt om geschiktheid te bepalen: regio, type aanvrager, technologische rijpheid (TRL), aantal partners"
    )
    assert top.eligibility == "unknown"


def test_english_proposals_are_recognised_and_worded_in_the_language_asked_for(tiny_matcher: Matcher) -> None:
    result = tiny_matcher.match(
        Proposal(text="We want a loan for our start-up and we are growing"), top_k=1, as_of=TODAY
    )
    assert result.language == "en"
    assert any(w.startswith("Closest part of the scheme") for w in worded(tiny_matcher, result, "en").matches[0].why)
    assert any(w.startswith("Sluit het best aan bij") for w in worded(tiny_matcher, result, "nl").matches[0].why)


def test_top_k_limits_the_list(tiny_matcher: Matcher) -> None:
    assert len(tiny_matcher.match(Proposal(text="waterstof"), top_k=2, as_of=TODAY).matches) == 2
    assert len(tiny_matcher.match(Proposal(text="waterstof"), top_k=50, as_of=TODAY).matches) == 5


def test_partner_regions_exclude_own_region_and_cite_evidence(tiny_matcher: Matcher) -> None:
    result = tiny_matcher.match(Proposal(text="waterstof elektrolyser", region="NL-GR"), as_of=TODAY)
    regions = [p.region for p in result.partner_regions]
    assert "NL-GR" not in regions
    assert regions[0] == "NL-ZH"
    why = worded(tiny_matcher, result).partner_regions[0].why
    assert "Samenwerking uit het Herstelplan op Energie: Waterstof Noord en West" in why


def test_modes_rank_differently_but_return_all(tiny_matcher: Matcher) -> None:
    p = [Proposal(text="waterstof pilot")]
    for mode in ("hybrid", "dense", "lexical"):
        res = tiny_matcher.match_batch(p, top_k=5, as_of=TODAY, mode=mode)  # type: ignore[arg-type]
        assert sorted(m.instrument_id for m in res[0].matches) == sorted(i.id for i in tiny_matcher.instruments)


def test_the_answer_is_its_own_schema(tiny_matcher: Matcher) -> None:
    import json

    from matcher import MatchResult

    result = tiny_matcher.match(Proposal(text="waterstof pilot", region="NL-GR"), as_of=TODAY)
    data = json.loads(json.dumps(result.to_dict()))
    assert MatchResult.model_validate(data) == result
    assert set(data["matches"][0]) == set(MatchResult.model_json_schema()["$defs"]["Match"]["properties"])


def test_flags_tell_an_adviser_what_to_look_at(tiny_matcher: Matcher) -> None:
    full = Proposal(text="waterstof pilot elektrolyser", region="NL-GR", applicant_type="sme", budget_eur=500_000)
    assert tiny_matcher.match(full, as_of=TODAY).flags == ()
    nothing = tiny_matcher.match(Proposal(text="qqq zzz", region="BE-WAL", applicant_type="public_body"), as_of=TODAY)
    assert nothing.flags == ("weak_match", "no_eligible_match", "missing_budget")


def test_a_named_region_is_suggested_first_with_the_reason(tiny_matcher: Matcher) -> None:
    result = tiny_matcher.match(Proposal(text="Samen met een partner uit Gelderland iets nieuws maken"), as_of=TODAY)
    first = worded(tiny_matcher, result).partner_regions[0]
    assert (first.region, first.why[0]) == ("NL-GE", "Het voorstel noemt deze regio")


def test_only_dutch_queries_against_instruments_without_dutch_text_are_cross_lingual(
    tiny_matcher: Matcher, tmp_path: Path
) -> None:
    cross = tiny_matcher.cross_lingual(["nl", "en"])
    assert cross.shape == (2, len(tiny_matcher.instruments))
    assert not cross.any()  # every tiny instrument has a Dutch summary

    english = instrument(
        id="eu-call-hydrogen",
        name="Hydrogen valleys call",
        level="eu",
        administrator="European Commission",
        regions=["EU"],
        themes=["energy"],
        summary="Grants for hydrogen valleys that connect the production of renewable hydrogen with its use.",
    )
    matcher = Matcher.build(load_corpus(write_corpus(tmp_path / "c", [*INSTRUMENTS, english])), HashingEncoder())
    cross = matcher.cross_lingual(["nl", "en"])
    assert [i.id for i, flag in zip(matcher.instruments, cross[0], strict=True) if flag] == ["eu-call-hydrogen"]
    assert not cross[1].any()  # English queries keep the lexical score everywhere
