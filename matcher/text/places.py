"""Which regions a text names, by a gazetteer (corpora/places.yaml): region names, adjectives, cities, countries.

>>> places = load_corpus(Path("corpora")).places
>>> sorted(mentioned_regions("Drie Zeeuwse bedrijven werken samen met een partner uit Aken", places))
['DE-NW', 'NL-ZE']
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from matcher.records import Gazetteer
from matcher.text.themes import fold


@dataclass(frozen=True)
class _Compiled:
    regions: dict[str, re.Pattern[str]]  # per region code: any of its words or its country's words
    compounds: dict[str, re.Pattern[str]]  # per region code: compound names read as that region only
    in_context: dict[str, re.Pattern[str]]  # per region code: its everyday-word names after a place word (group 1)
    municipality: dict[str, str]  # a Dutch place name, folded, to the municipality it lies in


# The words after which a name that is also an everyday word is read as a place: "in Best", "uit Goes".
_PLACE_WORD = r"(?<!\w)(?:in|uit|te|bij|nabij|rond|regio|gemeente|omgeving|from|near|around|municipality of)\s+"
_NEVER = re.compile(r"(?!x)x")


# Patterns per gazetteer object, compiled on first use. Records holding dicts are unhashable, so the cache is keyed
# by id and the entry dropped when the gazetteer is.
_COMPILED: dict[int, _Compiled] = {}


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so "noord-holland" wins over a shorter word at the same place.
    # Word edges by lookaround, not \b: a name may start with an apostrophe ("'s-Hertogenbosch").
    return r"(?<!\w)(" + "|".join(sorted(sorted(set(words)), key=len, reverse=True)) + r")(?!\w)"


def _compile(places: Gazetteer) -> _Compiled:
    regions, in_context = {}, {}
    everyday = {fold(w) for w in places.in_context}
    for code, entry in places.regions.items():
        towns = [fold(w) for w in places.cities_of(code)]
        words = [fold(w) for w in (*entry.names, *entry.adjectives, *places.countries.get(code.split("-")[0], ()))]
        words += [w for w in towns if w not in everyday]
        regions[code] = re.compile(_alternation(re.escape(w) for w in words))
        contextual = [re.escape(w) for w in towns if w in everyday]
        in_context[code] = re.compile(_PLACE_WORD + _alternation(contextual)) if contextual else _NEVER
    compounds = {
        code: re.compile(_alternation("[- ]".join(map(re.escape, re.split(r"[- ]", fold(w)))) for w in words))
        for code, words in places.compounds.items()
    }
    municipality = {
        fold(name): head
        for code, listed in places.towns.items()
        if code.startswith("NL-")
        for head, names in listed.items()
        for name in (head, *names)
    }
    return _Compiled(regions, compounds, in_context, municipality)


def _compiled(places: Gazetteer) -> _Compiled:
    key = id(places)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = _compile(places)
        weakref.finalize(places, _COMPILED.pop, key, None)
    return found


def mentioned_regions(text: str, places: Gazetteer) -> set[str]:
    """Region codes the text names by a word of the gazetteer; a compound name counts for its own region only."""
    compiled = _compiled(places)
    folded = fold(text)
    found = set()
    for code, pattern in compiled.compounds.items():
        folded, hits = pattern.subn(lambda m: " " * len(m.group(0)), folded)  # positions kept
        if hits:
            found.add(code)
    return found | {
        code
        for code, pattern in compiled.regions.items()
        if pattern.search(folded) or any(_capitalised(text, m) for m in compiled.in_context[code].finditer(folded))
    }


def _capitalised(text: str, found: re.Match[str]) -> bool:
    """An everyday-word name counts as a place only written with a capital ("in Best", not "in houten huizen"); the
    folded text keeps the positions of the text it was folded from (`themes.fold` drops only accents)."""
    at = found.start(1)
    return len(text) != len(found.string) or text[at : at + 1].isupper()


_TOWNS: dict[int, re.Pattern[str]] = {}


def without_towns(text: str, places: Gazetteer) -> str:
    """The folded text with the gazetteer's cities and towns left out: where the applicant is, is a fact the region
    check reads, not a topic; left in, a town's name makes a scheme that names it (a city's façade fund) look alike."""
    key = id(places)
    pattern = _TOWNS.get(key)
    if pattern is None:
        towns = [re.escape(fold(w)) for code in places.regions for w in places.cities_of(code)]
        pattern = _TOWNS[key] = re.compile(_alternation(towns)) if towns else re.compile(r"(?!x)x")
        weakref.finalize(places, _TOWNS.pop, key, None)
    return pattern.sub(" ", fold(text))


def place_words(places: Gazetteer) -> frozenset[str]:
    """The single words of the gazetteer's region entries, folded: 'Den Helder' -> 'den', 'helder'; and the towns
    named in one word ('Dokkum'; not the parts of 'Aa en Hunze')."""
    towns = (fold(w) for code in places.towns for w in places.cities_of(code) if re.fullmatch(r"[\w']+", w))
    return frozenset(
        w for entry in places.regions.values() for name in entry.words for w in re.split(r"[\s-]+", fold(name))
    ) | frozenset(towns)


def region_mentions(text: str, places: Gazetteer) -> list[tuple[str, str, int]]:
    """(region code, the words that named it, where) in the order the text names them; compounds count for their own
    region. Positions are in the folded text (`themes.fold`).

    >>> region_mentions("Wij zijn een mkb-bedrijf in Enschede", places)
    [('NL-OV', 'enschede', 28)]
    """
    compiled = _compiled(places)
    folded = fold(text)
    hits: list[tuple[int, str, str]] = []
    for code, pattern in compiled.compounds.items():
        for m in pattern.finditer(folded):
            hits.append((m.start(), code, m.group(0)))
        folded = pattern.sub(lambda m: " " * len(m.group(0)), folded)
    for code, pattern in compiled.regions.items():
        hits += [(m.start(), code, m.group(0)) for m in pattern.finditer(folded)]
        everyday = compiled.in_context[code].finditer(folded)
        hits += [(m.start(1), code, m.group(1)) for m in everyday if _capitalised(text, m)]
    return [(code, words, start) for start, code, words in sorted(hits)]


# Where the opening of a text, in which applicants place themselves, ends: a sentence end or a word about partners.
_OPENING_END = re.compile(r"[.!?;:]\s|\b(met|samen|partners?|with|together|alongside)\b", re.IGNORECASE)


def opening(text: str) -> str:
    """The part of a text before its first sentence end or partner word ("Transportbedrijf in Assen")."""
    end = _OPENING_END.search(text)
    return text[: end.start()] if end else text


def home_municipality(text: str, places: Gazetteer) -> str | None:
    """The Dutch municipality the opening of the text places the applicant in ("Bakkerij in Dokkum" ->
    'Noardeast-Fryslân'): its first place listed under `towns`, None when it names none."""
    municipality = _compiled(places).municipality
    for _, words, _ in region_mentions(opening(text), places):
        if words in municipality:
            return municipality[words]
    return None
