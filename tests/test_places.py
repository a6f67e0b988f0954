"""Places in a text: the bundled gazetteer (corpora/places.yaml) and small ones written here."""

from __future__ import annotations

import gc

import pytest

from matcher.records import Gazetteer, RegionPlaces
from matcher.text import places as places_module
from matcher.text.places import home_municipality, mentioned_regions, place_words

from .conftest import bundled_corpus


@pytest.fixture(scope="module")
def places() -> Gazetteer:
    return bundled_corpus().places


@pytest.mark.parametrize(
    ("text", "regions"),
    [
        ("Drie Zeeuwse bedrijven werken samen met een partner uit Aken", {"NL-ZE", "DE-NW"}),
        ("Wij zitten in Utrecht", {"NL-UT"}),
        ("Een Duits bedrijf", {"DE-NW", "DE-NI"}),
        ("A Belgian partner from Leuven", {"BE-VLG", "BE-WAL"}),
        ("Kaasmakerij in Oost-Brabant", {"NL-NB"}),
        ("Onderzoek leidt tot betere oogst", set()),
        ("We are based in Fryslân", {"NL-FR"}),
        ("Een fabriek in Düsseldorf en een lab in Osnabruck", {"DE-NW", "DE-NI"}),
        ("Bakkerij in Dokkum met vijf medewerkers", {"NL-FR"}),  # a town that is not a municipality
        ("Wij zitten in Súdwest-Fryslân", {"NL-FR"}),
        ("Een partner uit Kleve en een uit Hasselt", {"DE-NW", "BE-VLG"}),
        ("Dit kan leiden tot minder uitstoot in houten huizen", set()),  # everyday words, no place word before them
        ("Our ERP system is old and it goes slowly", set()),
        ("Wij zitten in Best en werken met een lab uit Leiden", {"NL-NB", "NL-ZH"}),  # after a place word they are
    ],
)
def test_mentioned_regions(places: Gazetteer, text: str, regions: set[str]) -> None:
    assert mentioned_regions(text, places) == regions


def test_zeeuws_vlaanderen_is_zeeland_not_flanders(places: Gazetteer) -> None:
    assert mentioned_regions("Een loonwerker uit Zeeuws-Vlaanderen", places) == {"NL-ZE"}
    assert mentioned_regions("Zeeuws Vlaamse akkerbouwers met een partner in Gent", places) == {"NL-ZE", "BE-VLG"}


def test_the_gazetteer_is_a_value_each_one_answers_for_itself() -> None:
    tiny = Gazetteer(
        regions={"NL-GR": RegionPlaces(cities=("Eemshaven",)), "BE-VLG": RegionPlaces(names=("Vlaanderen",))},
        countries={"BE": ("België",)},
        compounds={"NL-ZE": ("Zeeuws-Vlaanderen",)},
    )
    assert mentioned_regions("Een terminal in de Eemshaven", tiny) == {"NL-GR"}
    assert mentioned_regions("Een partner in Belgie", tiny) == {"BE-VLG"}
    assert mentioned_regions("Boeren in Zeeuws-Vlaanderen", tiny) == {"NL-ZE"}
    assert mentioned_regions("Een bedrijf in Groningen", tiny) == set()  # not in this gazetteer
    assert mentioned_regions("Een terminal in de Eemshaven", Gazetteer()) == set()


def test_place_words_are_the_single_folded_words_of_the_regions() -> None:
    tiny = Gazetteer(
        regions={"NL-NH": RegionPlaces(names=("Noord-Holland",), cities=("Den Helder",))},
        countries={"BE": ("België",)},
    )
    assert place_words(tiny) == {"noord", "holland", "den", "helder"}


def test_patterns_are_compiled_once_per_gazetteer_and_dropped_with_it() -> None:
    tiny = Gazetteer(regions={"NL-GR": RegionPlaces(names=("Groningen",))})
    key = id(tiny)
    assert mentioned_regions("Groningen", tiny) == {"NL-GR"}
    compiled = places_module._COMPILED[key]
    assert mentioned_regions("Stad Groningen", tiny) == {"NL-GR"}
    assert places_module._COMPILED[key] is compiled
    del tiny
    gc.collect()
    assert key not in places_module._COMPILED


def test_a_name_that_starts_with_an_apostrophe_is_found() -> None:
    from matcher import Settings, load_corpus
    from matcher.text.places import mentioned_regions

    places = load_corpus(Settings().corpora).places
    assert mentioned_regions("Een start-up uit 's-Gravenhage zoekt partners", places) == {"NL-ZH"}


def test_every_dutch_municipality_is_listed_once_with_its_province(places: Gazetteer) -> None:
    dutch = {code: listed for code, listed in places.towns.items() if code.startswith("NL-")}
    counts = {code: len(listed) for code, listed in dutch.items()}
    assert sum(counts.values()) == 342  # 1 January 2024; the two Bergens by their province ("Bergen (NH)")
    assert counts["NL-FL"] == 6 and counts["NL-FR"] == 18 and counts["NL-ZH"] == 50
    assert all(place in places.in_context or mentioned_regions(f"x {place} x", places) for place in dutch["NL-UT"])


@pytest.mark.parametrize(
    ("text", "municipality"),
    [
        ("Bakkerij in Dokkum met 5 medewerkers", "Noardeast-Fryslân"),
        ("Wij zijn een staalbedrijf uit IJmuiden", "Velsen"),
        ("Wij zijn een bedrijf in Den Haag", "Den Haag"),
        ("Wij zijn een bedrijf uit Houten", "Houten"),  # an everyday word after a place word
        ("Een partner uit Kleve", None),  # abroad
        ("Wij zijn een bedrijf", None),
    ],
)
def test_the_opening_places_the_applicant_in_a_municipality(
    places: Gazetteer, text: str, municipality: str | None
) -> None:
    assert home_municipality(text, places) == municipality
