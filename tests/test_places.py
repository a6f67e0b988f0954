from __future__ import annotations

import pytest

from matcher.text.places import mentioned_regions


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
    ],
)
def test_mentioned_regions(text: str, regions: set[str]) -> None:
    assert mentioned_regions(text) == regions


def test_zeeuws_vlaanderen_is_zeeland_not_flanders() -> None:
    assert mentioned_regions("Een loonwerker uit Zeeuws-Vlaanderen") == {"NL-ZE"}
    assert mentioned_regions("Zeeuws-Vlaamse akkerbouwers met een partner in Gent") == {"NL-ZE", "BE-VLG"}
