"""Facts read from a proposal's own words, with the words they were read from; the user's values win."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher import Matcher, Proposal, Settings, app, load_corpus
from matcher.records import Gazetteer
from matcher.text.facts import read_facts


@pytest.fixture(scope="module")
def places() -> Gazetteer:
    return load_corpus(Settings().corpora).places


def facts(text: str, places: Gazetteer) -> dict[str, tuple[object, str]]:
    return {k: (f.value, f.evidence) for k, f in read_facts(text, places).items()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Wij zijn een mkb-bedrijf met 12 medewerkers in Enschede en willen voor 35.000 euro een robot kopen.",
            {
                "region": ("NL-OV", "enschede"),
                "applicant_type": ("sme", "wij zijn een mkb-bedrijf"),
                "budget_eur": (35_000.0, "35.000 euro"),
                "stage": ("investment", "kopen"),
            },
        ),
        (
            "Wij willen met drie mkb-bedrijven uit het Westland een oogstrobot voor tomatenkassen ontwikkelen",
            {
                "region": ("NL-ZH", "westland"),
                "applicant_type": ("sme", "mkb"),
                "partners": (4, "met drie mkb-bedrijven"),
            },
        ),
        (
            "We're a 12-person deep-tech startup in Delft and need around EUR 8M to build a pilot line.",
            {
                "region": ("NL-ZH", "delft"),
                "applicant_type": ("startup", "startup"),
                "budget_eur": (8e6, "EUR 8M"),
                "stage": ("demonstration", "pilot"),
            },
        ),
        (
            "Stichting Dorpshuis in Assen wil zonnepanelen op het dak; de kosten zijn 80k",
            {"region": ("NL-DR", "assen"), "applicant_type": ("nonprofit", "stichting"), "budget_eur": (8e4, "80k")},
        ),
        (
            "Samen met een partner uit Gelderland willen we iets nieuws maken",  # the partner's place, not ours
            {"partners": (2, "samen met een partner")},
        ),
        (
            "Een project van een bedrijf uit Zwolle met een partner uit Venlo; totale begroting 2,5 miljoen euro, "
            "waarvan we 1,2 mln subsidie vragen",
            {
                "region": ("NL-OV", "zwolle"),
                "budget_eur": (2_500_000.0, "2,5 miljoen euro"),
                "partners": (2, "met een partner"),
            },
        ),
        (
            "Wij zijn een veredelingsbedrijf in Enkhuizen en willen met Wageningen onderzoek doen naar een virus",
            {"region": ("NL-NH", "enkhuizen"), "stage": ("research", "onderzoek")},  # Wageningen is the partner
        ),
        ("asdf qwerty", {}),
        ("hello hello is this working?", {}),
    ],
)
def test_facts_come_with_their_words(text: str, expected: dict[str, tuple[object, str]], places: Gazetteer) -> None:
    assert facts(text, places) == expected


def test_the_engine_uses_what_it_read_and_the_users_values_win(tiny_matcher: Matcher) -> None:
    text = "Wij zijn een mkb-bedrijf uit Arnhem en bouwen een waterstof pilot met een elektrolyser voor 500.000 euro"
    day = dt.date(2026, 11, 30)
    result = app.match(tiny_matcher, Proposal(text=text, as_of=day))
    assert {k: f.value for k, f in result.read_from_text.items()} == {
        "region": "NL-GE",
        "applicant_type": "sme",
        "budget_eur": 500_000.0,
        "stage": "demonstration",
    }
    assert not {"missing_region", "missing_applicant_type", "missing_budget"} & set(result.flags)
    region_check = next(c for c in result.matches[0].checks if c.criterion == "region")
    assert region_check.status in ("met", "missed")  # decided on the region read from the text
    given = app.match(tiny_matcher, Proposal(text=text, region="NL-GR", as_of=day))
    assert "region" not in given.read_from_text
    assert "text_disagrees_region" in given.flags


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("We werken met een Vlaamse hogeschool aan een coating.", "met een vlaamse hogeschool"),
        ("We test the sensor with a German hospital.", "with a german hospital"),
        ("Wij zijn een mkb-bedrijf met 12 medewerkers in Enschede.", None),
        ("Wij starten met een nieuw product voor de bouw.", None),
    ],
)
def test_one_partner_in_the_singular_is_a_call_for_partners(text: str, words: str | None) -> None:
    from matcher.text.facts import speaks_of_partners

    assert speaks_of_partners(text) == words


@pytest.mark.parametrize(
    ("text", "budget"),
    [
        ("The plant will require an investment of more than EUR 600mn.", 600_000_000.0),
        ("Dengue infects 400 million people a year; we need EUR 2 million for the trial.", 2_000_000.0),
        ("Het project zal jaarlijks 4 miljoen ton CO2 vermijden.", None),
        ("We bereiken 2 miljoen gebruikers met een budget van €450k.", 450_000.0),
        ("Het project kost 2,5 miljoen.", 2_500_000.0),
    ],
)
def test_a_count_with_a_scale_word_is_not_a_budget(text: str, budget: float | None, places: Gazetteer) -> None:
    found = read_facts(text, places).get("budget_eur")
    assert (found.value if found else None) == budget
