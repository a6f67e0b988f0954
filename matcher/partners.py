"""Partner regions: which other regions fit a proposal, with evidence.

Each candidate region (provinces and neighbour regions, never the applicant's own) is scored from
- theme overlap between the proposal and the region's strongest themes,
- the Herstelplan collaborations the region takes part in on the proposal's themes,
- the closest of its clusters and strengths to the proposal text (dense cosine),
- programmes it shares with the applicant's region (Interreg, EFRO).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .passages import Passage
from .records import Collaboration, PartnerRegion, Region
from .text import clip, say

TOP_REGIONS = 5
W_THEMES, W_COLLAB, W_DENSE, W_PROGRAMME = 0.35, 0.25, 0.3, 0.1


def _theme_overlap(prop_themes: Sequence[str], region_themes: Sequence[str]) -> float:
    if not prop_themes or not region_themes:
        return 0.0
    # A region's first themes are its strongest: weigh rank so the lead strength counts most.
    weights = {t: 1.0 / (1 + i * 0.5) for i, t in enumerate(region_themes)}
    return min(1.0, sum(weights.get(t, 0.0) for t in prop_themes) / 1.5)


def partner_regions(
    prop_themes: Sequence[str],
    prop_vector: np.ndarray,
    own_region: str | None,
    regions: Sequence[Region],
    collaborations: Sequence[Collaboration],
    passages: Sequence[Passage],
    passage_vectors: np.ndarray,
    theme_names: dict[str, str],
    lang: str,
    top: int = TOP_REGIONS,
) -> list[PartnerRegion]:
    sims = passage_vectors @ prop_vector if len(passages) else np.zeros(0)
    own = next((r for r in regions if r.code == own_region), None)
    own_programmes = set(own.interreg_programmes) | {own.efro_programme} if own else set()
    out = []
    for reg in regions:
        if reg.code == own_region:
            continue
        why: list[str] = []
        shared = [t for t in prop_themes if t in reg.themes]
        themes_score = _theme_overlap(prop_themes, reg.themes)
        if shared:
            names = ", ".join(theme_names.get(t, t) for t in shared)
            why.append(say(lang, f"Sterk in: {names}", f"Strong in: {names}"))
        collabs = [c for c in collaborations if reg.code in c.regions and set(c.themes) & set(prop_themes)]
        if own_region is not None:
            collabs.sort(key=lambda c: own_region not in c.regions)
        collab_score = min(1.0, 0.7 * len(collabs)) if collabs else 0.0
        for col in collabs[:2]:
            why.append(say(lang, f"Samenwerking uit het Herstelplan: {col.name}", f"Herstelplan collaboration: {col.name}"))
        rows = [i for i, p in enumerate(passages) if p.owner == reg.code]
        dense_score = 0.0
        if rows:
            best = rows[int(np.argmax(sims[rows]))]
            dense_score = float(np.clip(sims[best], 0, 1))
            if passages[best].kind != "summary":
                why.append(say(lang, f"Cluster: {clip(passages[best].text, 120)}", f"Cluster: {clip(passages[best].text, 120)}"))
        common = sorted(own_programmes & set(reg.interreg_programmes))
        prog_score = 1.0 if common else 0.0
        if common:
            why.append(say(lang, f"Samen in programma: {', '.join(common)}", f"Shared programme: {', '.join(common)}"))
        score = W_THEMES * themes_score + W_COLLAB * collab_score + W_DENSE * dense_score + W_PROGRAMME * prog_score
        out.append(PartnerRegion(region=reg.code, name=reg.name, score=round(float(min(score, 1.0)), 4), why=tuple(why)))
    out.sort(key=lambda r: -r.score)
    return out[:top]
