"""Partner regions: which other regions fit a proposal, with evidence.

Each candidate region (provinces and neighbour regions, never the applicant's own) is scored from
- the proposal naming the region or its country ("met een Vlaamse partner", "German suppliers"),
- theme overlap between the proposal and the region's strongest themes,
- the Herstelplan collaborations the region takes part in on the proposal's themes,
- the closest of its clusters and strengths to the proposal text (dense cosine),
- cross-border programmes it shares with the applicant's region, and whether it borders it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .passages import SUMMARY, Passage
from .places import mentioned_regions
from .records import Collaboration, PartnerRegion, Region
from .text import clip, say

TOP_REGIONS = 5
W_MENTION, W_THEMES, W_COLLAB, W_DENSE, W_PROGRAMME, W_NEIGHBOUR = 0.4, 0.3, 0.2, 0.25, 0.1, 0.1
# Programmes that cover the whole country say little about a pair of regions; cross-border ones say a lot.
WIDE_PROGRAMMES = frozenset({"eu-interreg-north-sea", "eu-interreg-nwe", "eu-interreg-europe"})


def theme_overlap(prop_themes: Sequence[str], region_themes: Sequence[str]) -> float:
    """How much of the proposal's themes a region is strong in; a region's first themes count most."""
    if not prop_themes or not region_themes:
        return 0.0
    weights = {t: 1.0 / (1 + i * 0.5) for i, t in enumerate(region_themes)}
    return min(1.0, sum(weights.get(t, 0.0) for t in prop_themes) / 1.5)


class PartnerFinder:
    """Ranks partner regions; region passages, their vectors and programme sets are prepared once."""

    def __init__(
        self,
        regions: Sequence[Region],
        collaborations: Sequence[Collaboration],
        passages: Sequence[Passage],
        vectors: np.ndarray,
    ) -> None:
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
        return sorted((set(own.interreg_programmes) & set(reg.interreg_programmes)) - WIDE_PROGRAMMES)

    def suggest(
        self,
        text: str,
        prop_themes: Sequence[str],
        prop_vector: np.ndarray,
        own_region: str | None,
        theme_names: dict[str, str],
        lang: str,
        top: int = TOP_REGIONS,
    ) -> list[PartnerRegion]:
        if not self.regions:
            return []
        named_regions = mentioned_regions(text)
        sims = self.vectors @ prop_vector
        dense = np.clip(np.maximum.reduceat(sims, self._starts), 0.0, 1.0)
        own = self._by_code.get(own_region or "")
        wanted = set(prop_themes)
        collabs = [c for c in self.collaborations if wanted & set(c.themes)]
        collabs.sort(key=lambda c: own_region not in c.regions)
        scored = []
        for n, reg in enumerate(self.regions):
            if reg.code == own_region:
                continue
            named = reg.code in named_regions
            joint = [c for c in collabs if reg.code in c.regions]
            common = self._shared_programmes(own, reg)
            borders = own is not None and reg.code in own.neighbours
            score = (
                W_MENTION * named
                + W_THEMES * theme_overlap(prop_themes, reg.themes)
                + W_COLLAB * min(1.0, 0.7 * len(joint))
                + W_DENSE * float(dense[n])
                + W_PROGRAMME * bool(common)
                + W_NEIGHBOUR * borders
            )
            scored.append((min(score, 1.0), n, named, joint, common))
        scored.sort(key=lambda x: -x[0])
        return [
            self._explain(n, s, named, joint, common, sims, prop_themes, theme_names, lang)
            for s, n, named, joint, common in scored[:top]
        ]

    def _explain(
        self,
        n: int,
        score: float,
        named: bool,
        joint: list[Collaboration],
        common: list[str],
        sims: np.ndarray,
        prop_themes: Sequence[str],
        theme_names: dict[str, str],
        lang: str,
    ) -> PartnerRegion:
        reg = self.regions[n]
        why: list[str] = []
        if named:
            why.append(say(lang, "Het voorstel noemt deze regio", "The proposal names this region"))
        shared = [t for t in prop_themes if t in reg.themes]
        if shared:
            names = ", ".join(theme_names.get(t, t) for t in shared)
            why.append(say(lang, f"Sterk in: {names}", f"Strong in: {names}"))
        for col in joint[:2]:
            why.append(
                say(lang, f"Samenwerking uit het Herstelplan: {col.name}", f"Herstelplan collaboration: {col.name}")
            )
        end = self._starts[n + 1] if n + 1 < len(self._starts) else len(self.passages)
        best = int(self._starts[n] + np.argmax(sims[self._starts[n] : end]))
        if self.passages[best].kind != SUMMARY:
            why.append(f"Cluster: {clip(self.passages[best].text, 120)}")
        if common:
            why.append(say(lang, f"Samen in programma: {', '.join(common)}", f"Shared programme: {', '.join(common)}"))
        return PartnerRegion(region=reg.code, name=reg.name, score=round(score, 4), why=tuple(why))
