"""Which regions a text names: provinces, neighbour regions, their adjectives and main cities (a small gazetteer).

>>> sorted(mentioned_regions("Drie Zeeuwse bedrijven werken samen met een partner uit Aken"))
['DE-NW', 'NL-ZE']
"""

from __future__ import annotations

import re
from functools import lru_cache

from matcher.records import REGION_CODES
from matcher.text.themes import fold

# Names, adjectives and main cities by which applicants place themselves or their partners.
GAZETTEER: dict[str, tuple[str, ...]] = {
    "NL-GR": ("groningen", "groninger", "groningse", "eemshaven", "delfzijl", "eemsdelta", "appingedam"),
    "NL-FR": ("fryslan", "friesland", "friese", "leeuwarden", "harlingen", "sneek", "heerenveen", "drachten"),
    "NL-DR": ("drenthe", "drentse", "assen", "emmen", "hoogeveen", "meppel"),
    "NL-OV": ("overijssel", "overijsselse", "twente", "twentse", "zwolle", "enschede", "hengelo", "deventer", "almelo"),
    "NL-FL": ("flevoland", "flevolandse", "almere", "lelystad", "dronten", "emmeloord"),
    "NL-GE": (
        "gelderland",
        "gelderse",
        "arnhem",
        "nijmegen",
        "wageningen",
        "apeldoorn",
        "ede",
        "foodvalley",
        "achterhoek",
    ),
    "NL-UT": ("provincie utrecht", "utrechtse", "amersfoort", "veenendaal", "nieuwegein"),
    "NL-NH": (
        "noord-holland",
        "noord-hollandse",
        "amsterdam",
        "haarlem",
        "den helder",
        "alkmaar",
        "zaandam",
        "hilversum",
    ),
    "NL-ZH": ("zuid-holland", "zuid-hollandse", "rotterdam", "den haag", "delft", "dordrecht", "westland", "naaldwijk"),
    "NL-ZE": ("zeeland", "zeeuwse", "zeeuws", "middelburg", "vlissingen", "terneuzen"),
    "NL-NB": ("noord-brabant", "brabant", "brabantse", "eindhoven", "tilburg", "breda", "den bosch", "helmond", "oss"),
    "NL-LI": ("limburg", "limburgse", "maastricht", "venlo", "heerlen", "sittard", "geleen", "roermond"),
    "BE-VLG": ("vlaanderen", "vlaams", "vlaamse", "flanders", "flemish", "antwerpen", "gent", "leuven"),
    "BE-WAL": ("wallonie", "waals", "waalse", "wallonia", "walloon", "luik", "liege"),
    "DE-NW": (
        "nordrhein-westfalen",
        "nordrhein",
        "noordrijn-westfalen",
        "nrw",
        "aken",
        "aachen",
        "keulen",
        "dusseldorf",
    ),
    "DE-NI": ("niedersachsen", "nedersaksen", "lower saxony", "oldenburg", "emden", "osnabruck"),
}
# Dutch places whose names contain a Belgian region's name: read as the Dutch province before matching.
DUTCH_COMPOUNDS = re.compile(r"\bzeeuws[- ]vla(anderen|amse|ams)\b")
# Country words name every region of that country.
COUNTRIES: dict[str, tuple[str, ...]] = {
    "BE": ("belgie", "belgische", "belgium", "belgian"),
    "DE": ("duitsland", "duitse", "duits", "germany", "german"),
}


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    out = {}
    for code, words in GAZETTEER.items():
        names = {fold(REGION_CODES[code]), *words}
        names |= set(COUNTRIES.get(code[:2], ()))
        out[code] = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b")
    return out


def mentioned_regions(text: str) -> set[str]:
    """Region codes the text names (Utrecht city and province share a name, so plain 'utrecht' counts too)."""
    folded = DUTCH_COMPOUNDS.sub("zeeland", fold(text))
    return {code for code, pattern in _patterns().items() if pattern.search(folded)}
