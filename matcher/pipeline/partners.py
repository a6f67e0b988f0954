"""Partner regions: which other regions fit a proposal, with evidence.

Each candidate region (provinces and neighbour regions, never the applicant's own) is scored from
- the proposal naming the region or its country ("met een Vlaamse partner", "German suppliers"), its part of the
  country ("Noord-Nederland"), or asking for partners across the border,
- theme overlap between the proposal and the region's strongest themes,
- the Herstelplan collaborations the region takes part in on the proposal's themes,
- the closest of its clusters and strengths to the proposal text (dense cosine),
- cross-border programmes it shares with the applicant's region, and whether it borders it,
- with an H2020 folder given (see `h2020`), a small prior for regions across the border: how often Dutch H2020
  projects on the proposal's theme had a partner from that country, relative to the most frequent partner country.

Without a region, the applicant's region is read from the opening of the text ("Transportbedrijf in Assen met ...",
"A nature organisation in Zeeland wants ...") when that names exactly one region before any partner is mentioned.
Places are found with the corpus's gazetteer (corpora/places.yaml), given to `PartnerFinder` as `places`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from matcher.io.h2020 import ALL, CountryShare, H2020Prior
from matcher.records import PROVINCES, Collaboration, Gazetteer, Instrument, PartnerRegion, Reason, Region
from matcher.rules.availability import covers
from matcher.text.language import clip, reason
from matcher.text.passages import SUMMARY, Passage
from matcher.text.places import mentioned_regions, opening
from matcher.text.themes import fold

TOP_REGIONS = 5
# A region the proposal names (a partner there) outranks regions that merely fit the themes.
W_MENTION, W_THEMES, W_COLLAB, W_DENSE, W_PROGRAMME, W_NEIGHBOUR = 0.55, 0.3, 0.2, 0.25, 0.1, 0.1
# Naming a part of the country ("Noord-Nederland") says less than naming the province.
W_AREA = 0.2
# The H2020 prior: at most this much for the most frequent partner country. Small, so that it orders neighbour
# regions and breaks near-ties without outweighing evidence about the proposal itself.
W_H2020 = 0.05
# A proposal that asks for partners across the border (without naming the country) points to the neighbour regions
# abroad that border the applicant's region or share a cross-border programme with it (all of them without a region).
W_ACROSS = 0.3
_ACROSS = re.compile(
    r"\b(over de grens|over de grenzen|grensoverschrijdend\w*|aan beide kanten van de grens|buitenlandse partners?"
    r"|across the border|cross-border|both sides of the border|foreign partners?)\b"
)
# Parts of the country by the `landsdeel` of regions.yaml (folded, as applicants write them).
AREAS: dict[str, str] = {
    "noord-nederland": "Noord",
    "northern netherlands": "Noord",
    "north netherlands": "Noord",
    "oost-nederland": "Oost",
    "eastern netherlands": "Oost",
    "east netherlands": "Oost",
    "zuid-nederland": "Zuid",
    "southern netherlands": "Zuid",
    "south netherlands": "Zuid",
    "west-nederland": "West",
    "western netherlands": "West",
    "west netherlands": "West",
}
_AREA = re.compile(r"\b(" + "|".join(map(re.escape, AREAS)) + r")\b")
# Where the applicant presents itself ends at the first sentence end or the first mention of others.


def wide_programmes(instruments: Sequence[Instrument]) -> frozenset[str]:
    """Ids of the instruments that cover every province: shared, they say little about a pair of regions.

    Cross-border programmes (Interreg Vlaanderen-Nederland) say a lot; North Sea, NWE and Europe cover the country.
    """
    return frozenset(i.id for i in instruments if all(covers(i.regions, p) for p in PROVINCES))


def theme_overlap(prop_themes: Sequence[str], region_themes: Sequence[str]) -> float:
    """How much of the proposal's themes a region is strong in; a region's first themes count most."""
    if not prop_themes or not region_themes:
        return 0.0
    weights = {t: 1.0 / (1 + i * 0.5) for i, t in enumerate(region_themes)}
    return min(1.0, sum(weights.get(t, 0.0) for t in prop_themes) / 1.5)


def on_topic(collab: Collaboration, wanted: set[str]) -> bool:
    """A collaboration fits when the proposal shares its defining (first) theme or at least two of its themes.

    One shared broad theme (SME innovation, research) would tie a medtech proposal to the protein cluster.
    """
    return collab.themes[0] in wanted or len(wanted & set(collab.themes)) >= 2


def named_areas(text: str) -> set[str]:
    """Parts of the country (landsdelen) the text names: 'bedrijven in Noord-Nederland' -> {'Noord'}."""
    return {AREAS[m] for m in _AREA.findall(fold(text))}


def applicant_region(text: str, places: Gazetteer) -> str | None:
    """The one region the opening of the text places the applicant in, if it names exactly one.

    >>> applicant_region("Transportbedrijf in Assen met 45 trucks", corpus.places)
    'NL-DR'
    """
    found = mentioned_regions(opening(fold(text)), places)
    return found.pop() if len(found) == 1 else None


class PartnerFinder:
    """Ranks partner regions; region passages, their vectors and programme sets are prepared once.

    `places` is the gazetteer that finds regions in a text; `instruments` tell which programmes cover the country.
    """

    def __init__(
        self,
        regions: Sequence[Region],
        collaborations: Sequence[Collaboration],
        passages: Sequence[Passage],
        vectors: np.ndarray,
        prior: H2020Prior | None = None,
        *,
        places: Gazetteer,
        instruments: Sequence[Instrument],
    ) -> None:
        self.prior = prior
        self.places = places
        self.wide = wide_programmes(instruments)
        self.regions = tuple(r for r in regions if any(p.owner == r.code for p in passages))
        self.collaborations = tuple(collaborations)
        codes = [r.code for r in self.regions]
        order = sorted(range(len(passages)), key=lambda i: codes.index(passages[i].owner))
        self.passages = tuple(passages[i] for i in order)
        self.vectors = vectors[order] if len(order) else vectors
        owners = [p.owner for p in self.passages]
        self._starts = np.array([owners.index(c) for c in codes], dtype=np.intp)
        self._by_code = {r.code: r for r in regions}

    def _shared_programmes(self, own: Region | None, reg: Region) -> list[str]:
        if own is None:
            return []
        return sorted((set(own.interreg_programmes) & set(reg.interreg_programmes)) - self.wide)

    def _abroad(self, reg: Region, prop_themes: Sequence[str]) -> CountryShare | None:
        """The H2020 share of the region's country, for regions outside the Netherlands when a prior is given."""
        if self.prior is None or reg.code.startswith("NL-"):
            return None
        return self.prior.share(reg.code[:2], prop_themes)

    def suggest(
        self,
        text: str,
        prop_themes: Sequence[str],
        prop_vector: np.ndarray,
        own_region: str | None,
        top: int = TOP_REGIONS,
    ) -> list[PartnerRegion]:
        if not self.regions:
            return []
        own_region = own_region or applicant_region(text, self.places)
        named_regions = mentioned_regions(text, self.places)
        areas = named_areas(text)
        across = bool(_ACROSS.search(fold(text)))
        sims = self.vectors @ prop_vector
        dense = np.clip(np.maximum.reduceat(sims, self._starts), 0.0, 1.0)
        own = self._by_code.get(own_region or "")
        wanted = set(prop_themes)
        collabs = [c for c in self.collaborations if on_topic(c, wanted)]
        collabs.sort(key=lambda c: (own_region not in c.regions, -theme_overlap(c.themes, prop_themes)))
        scored = []
        for n, reg in enumerate(self.regions):
            if reg.code == own_region:
                continue
            named = reg.code in named_regions
            in_area = not named and reg.landsdeel in areas
            joint = [c for c in collabs if reg.code in c.regions]
            common = self._shared_programmes(own, reg)
            borders = own is not None and reg.code in own.neighbours
            abroad = self._abroad(reg, prop_themes)
            over = across and not named and not reg.code.startswith("NL-") and (own is None or borders or bool(common))
            score = (
                W_MENTION * named
                + W_AREA * in_area
                + W_ACROSS * over
                + W_THEMES * theme_overlap(prop_themes, reg.themes)
                + W_COLLAB * min(1.0, 0.7 * len(joint))
                + W_DENSE * float(dense[n])
                + W_PROGRAMME * bool(common)
                + W_NEIGHBOUR * borders
                + (W_H2020 * self.prior.relative(abroad) if self.prior and abroad else 0.0)
            )
            place = None
            if in_area:
                place = reason("partner.in_area", area=reg.landsdeel)
            elif over:
                place = reason("partner.across_border")
            scored.append((min(score, 1.0), n, named, place, joint, common, abroad))
        scored.sort(key=lambda x: -x[0])
        return [
            self._explain(n, s, named, place, joint, common, abroad, sims, prop_themes)
            for s, n, named, place, joint, common, abroad in scored[:top]
        ]

    def _explain(
        self,
        n: int,
        score: float,
        named: bool,
        place: Reason | None,
        joint: list[Collaboration],
        common: list[str],
        abroad: CountryShare | None,
        sims: np.ndarray,
        prop_themes: Sequence[str],
    ) -> PartnerRegion:
        reg = self.regions[n]
        why: list[Reason] = []
        if named:
            why.append(reason("partner.named"))
        if place:
            why.append(place)
        shared = [t for t in prop_themes if t in reg.themes]
        if shared:
            why.append(reason("partner.strong_in", themes=shared))
        for col in joint[:2]:
            why.append(reason("partner.collaboration", name=col.name))
        end = self._starts[n + 1] if n + 1 < len(self._starts) else len(self.passages)
        best = int(self._starts[n] + np.argmax(sims[self._starts[n] : end]))
        if self.passages[best].kind != SUMMARY:
            why.append(reason("partner.cluster", text=clip(self.passages[best].text, 120)))
        if common:
            why.append(reason("partner.shared_programmes", programmes=common))
        if abroad is not None and self.prior is not None:
            why.append(h2020_reason(abroad, self.prior.source))
        return PartnerRegion.model_construct(
            region=reg.code, name=reg.name, score=round(score, 4), why_codes=tuple(why)
        )


def h2020_reason(found: CountryShare, source: str) -> Reason:
    """'H2020: 73% van de 452 Nederlandse projecten in Health (SC1) had een Duitse partner (CORDIS)', in codes."""
    share = {"share": found.share, "projects": found.projects, "country": found.country, "source": source}
    if found.basis == ALL:
        return reason("partner.h2020", **share)
    part = f"{found.basis_name} ({found.basis})"
    return reason("partner.h2020_part", part=part, **share)
