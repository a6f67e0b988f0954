"""Partner regions: which other regions fit a proposal, scored on checkable features, with why lines that are true.

Each candidate region (the provinces and the four neighbour regions, never the applicant's own) gets the features
of `FEATURES`, each in [0, 1]:
- `named`, `area`: the text names a place in the region, or its part of the country ("Noord-Nederland");
- `across`: the text asks for partners across the border (`across_words`) and the region lies abroad, borders the
  applicant's region or shares a cross-border programme with it; `intent`: the same by meaning (the proposal's cosine
  to the cross-border theme), for regions abroad; `abroad` and `abroad_unasked`: the region lies abroad and the text
  asks for partners abroad (cross-border words, a neighbour's language, cross-border among its strongest themes), or
  does not;
  `language` (the text is written in the region's language);
- geography: `border` (a shared border), `shared_area` (a cross-border programme or the EFRO programme in common),
  `top_area` and `top_area_home` (the region, abroad or in the Netherlands, lies in the area of one of the proposal's
  best-fitting instruments that need partners, with the applicant's region; the best such instrument counts most);
- evidence: `evidence_theme` and `evidence_pair`, how many real projects (corpora/partner_evidence.yaml) joined the
  applicant's region and the candidate on the proposal's strongest themes, and at all;
- strengths: `region_themes` (the region is strong in the proposal's themes), `collab` (a Herstelplan collaboration
  whose lead theme is one of the proposal's strongest), `dense` (the closest cluster or strength, by cosine),
  `h2020` (with a CORDIS folder: how often Dutch H2020 projects on the theme had a partner from that country).

A `PartnerModel` (logistic weights learned on real partner cases by `analysis.partner_model`, used only where it
beats the hand weights under grouped cross-validation) or the hand weights `HAND` score the features.

Every why line states a fact that can be checked against the text, the corpus or the evidence file; a line about
a collaboration or a cluster appears only when its lead theme is one of the proposal's strongest themes
(`analysis.partner_model.check_why` checks each kind against its rule).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.io.h2020 import ALL, CountryShare, H2020Prior
from matcher.pipeline.scope import logistic
from matcher.records import (
    PROVINCES,
    Collaboration,
    Gazetteer,
    Instrument,
    JointProject,
    PartnerRegion,
    Reason,
    Region,
)
from matcher.rules.availability import covers
from matcher.text.language import clip, reason
from matcher.text.passages import SUMMARY, Passage
from matcher.text.places import mentioned_regions, opening
from matcher.text.themes import fold

TOP_REGIONS = 5
STRONGEST = 2  # the proposal's strongest themes: the ones a collaboration or cluster line must lead with
# Themes too broad to tie a proposal to a collaboration, a cluster or a pair of regions: nearly every cooperation
# project is "cross-border", "research" or "SME innovation". The strongest themes are the first topical ones.
BROAD = frozenset({"cross-border", "sme-innovation", "research", "transitions", "growth-investment", "eu-recovery"})
CLUSTER_FLOOR = 0.35  # a cluster line needs at least this cosine between the proposal and the cluster
TOP_INSTRUMENTS = 5  # the best instruments whose programme areas say where partners can be
FEATURES = (
    "named",
    "area",
    "across",
    "intent",
    "abroad",
    "abroad_unasked",
    "language",
    "border",
    "shared_area",
    "top_area",
    "top_area_home",
    "evidence_theme",
    "evidence_pair",
    "region_themes",
    "collab",
    "dense",
    "h2020",
)
# The hand weights: a region the proposal names outranks regions that merely fit; geography and the programme areas
# of the best instruments order the rest; strengths break near-ties. Used when no learned model wins.
HAND: dict[str, float] = {
    "named": 0.55,
    "area": 0.2,
    "across": 0.3,
    "language": 0.2,
    "border": 0.1,
    "shared_area": 0.1,
    "top_area": 0.3,
    "top_area_home": 0.3,
    "evidence_theme": 0.2,
    "evidence_pair": 0.1,
    "region_themes": 0.3,
    "collab": 0.2,
    "dense": 0.25,
    "h2020": 0.05,
}
EVIDENCE_SCALE = 20  # this many joint projects (or more) count as full evidence: log1p(n) / log1p(20)
_ACROSS = re.compile(
    r"\b(over de grens|over de grenzen|grensoverschrijdend\w*|grensregio\w*|aan beide kanten van de grens"
    r"|buitenlandse partners?|across the border|cross-border|both sides of the border|border region|foreign partners?"
    r"|grensgebied\w*|grenzuberschreitend\w*|grenzubergreifend\w*|grenzregion\w*|grenzgebiet\w*|grenzraum\w*"
    r"|(?:beiderseits|diesseits und jenseits|jenseits) der grenze|transfrontali\w*"
    r"|de part et d'autre de la frontiere)\b"
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
# Function words of the neighbours' languages: a text written in German points to German partners.
_FOREIGN_WORDS = {
    "de": frozenset("der die das und nicht mit für von zu den dem ein eine ist sich auf auch wird werden".split()),
    "fr": frozenset("le la les et des du une est dans pour avec sur qui par au aux sont".split()),
}
_LANGUAGE_REGIONS = {"de": ("DE-NW", "DE-NI"), "fr": ("BE-WAL",)}
_WORD = re.compile(r"[a-zà-ÿß]+")


def needs_partners(inst: Instrument) -> bool:
    """An instrument that needs a consortium, partners from two countries, or is about cross-border cooperation."""
    return (
        (inst.min_partners or 0) > 1
        or "international_consortium" in inst.requirements
        or "cross-border" in inst.themes[:2]
    )


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


def on_topic(lead_theme: str | None, prop_themes: Sequence[str]) -> bool:
    """A collaboration or cluster fits when its lead theme is one of the proposal's strongest (topical) themes."""
    return lead_theme is not None and lead_theme in strongest(prop_themes)


def strongest(prop_themes: Sequence[str]) -> list[str]:
    """The proposal's strongest topical themes: its first `STRONGEST` themes that are not `BROAD`."""
    return [t for t in prop_themes if t not in BROAD][:STRONGEST]


def named_areas(text: str) -> set[str]:
    """Parts of the country (landsdelen) the text names: 'bedrijven in Noord-Nederland' -> {'Noord'}."""
    return {AREAS[m] for m in _AREA.findall(fold(text))}


def across_words(text: str) -> str | None:
    """The words with which the text asks for partners across a border ('grensoverschrijdend'), else None."""
    found = _ACROSS.search(fold(text))
    return found.group(0) if found else None


def written_in(text: str) -> str | None:
    """'de' or 'fr' when the text is written in a neighbour's language (its function words outnumber the rest)."""
    words = _WORD.findall(text.lower())
    counts = {lang: sum(w in vocab for w in words) for lang, vocab in _FOREIGN_WORDS.items()}
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    return lang if n >= 3 and n > 0.08 * len(words) else None


def applicant_region(text: str, places: Gazetteer) -> str | None:
    """The one region the opening of the text places the applicant in, if it names exactly one.

    >>> applicant_region("Transportbedrijf in Assen met 45 trucks", corpus.places)
    'NL-DR'
    """
    found = mentioned_regions(opening(text), places)
    return found.pop() if len(found) == 1 else None


def ranked_order(found: Candidates, scores: np.ndarray) -> list[int]:
    """Candidate positions, best first: the regions the text names, then those in a part of the country it names,
    then the rest, each group by score (then code). What the applicant states beats what the model infers: the
    real cases it learns from have their places removed, so it cannot learn that itself."""

    def tier(k: int) -> int:
        code = found.codes[k]
        return 0 if code in found.named else 1 if code in found.in_area else 2

    return sorted(range(len(found.codes)), key=lambda k: (tier(k), -scores[k], found.codes[k]))


@dataclass(frozen=True)
class PartnerModel:
    """Logistic weights over `features`, learned on real partner cases, and how they were obtained.

    `use` says whether the learned weights won under grouped cross-validation; when False the hand weights rank.
    """

    features: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float
    use: bool
    method: str
    cross_validated: dict[str, dict[str, float]] = field(default_factory=dict)  # ranker -> hit@1, hit@3, MRR
    manifest: dict[str, Any] = field(default_factory=dict)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """P(a real partner comes from there) per candidate row of the feature matrix `x`."""
        return logistic(x, self.weights, self.intercept, "partner model")


def hand_scores(x: np.ndarray) -> np.ndarray:
    """The hand weights `HAND` over the feature matrix, capped at 1."""
    w = np.array([HAND.get(f, 0.0) for f in FEATURES], dtype=np.float64)
    out: np.ndarray = np.minimum(x.astype(np.float64) @ w, 1.0)
    return out


@dataclass(frozen=True)
class Candidates:
    """The candidate regions of one proposal with their feature rows, and what the why lines are built from."""

    codes: tuple[str, ...]
    x: np.ndarray  # (n candidates, len(FEATURES))
    own: str | None
    themes: tuple[str, ...]
    across: str | None  # the cross-border words of the text
    areas: dict[str, list[str]]  # candidate -> names of the best instruments whose area joins it to the applicant
    outside: tuple[str, ...]  # names of the best instruments needing partners whose area leaves a candidate out
    outside_of: frozenset[str]  # candidates outside every such area
    joint: dict[str, list[JointProject]]  # candidate -> joint projects with the applicant's region
    on_theme: dict[str, list[JointProject]]  # ... of those, the ones on the proposal's strongest themes
    collabs: dict[str, list[Collaboration]]
    clusters: dict[str, str | None]  # candidate -> the on-topic cluster or strength line, if close enough
    shared: dict[str, list[str]]  # candidate -> names of the cross-border programmes in common
    abroad: dict[str, CountryShare]
    named: frozenset[str]
    in_area: frozenset[str]


class PartnerFinder:
    """Ranks partner regions; region passages, their vectors and themes and the evidence are prepared once.

    `places` is the gazetteer that finds regions in a text; `instruments` give programme areas; `joint_projects` the
    evidence; `passage_themes` the lead theme of each region passage (for the rule on cluster lines);
    `cross_border` the vector of the cross-border theme (intent by meaning).
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
        joint_projects: Sequence[JointProject] = (),
        passage_themes: Sequence[str | None] = (),
        cross_border: np.ndarray | None = None,
    ) -> None:
        self.prior = prior
        self.places = places
        self.model: PartnerModel | None = None
        self.wide = wide_programmes(instruments)
        self._instruments = {i.id: i for i in instruments}
        self.regions = tuple(r for r in regions if any(p.owner == r.code for p in passages))
        self.collaborations = tuple(collaborations)
        self.joint_projects = tuple(joint_projects)
        self._left_out: frozenset[str] = frozenset()
        self.cross_border = cross_border
        codes = [r.code for r in self.regions]
        order = sorted(range(len(passages)), key=lambda i: codes.index(passages[i].owner))
        self.passages = tuple(passages[i] for i in order)
        themes = list(passage_themes) if passage_themes else [None] * len(passages)
        self.passage_themes = tuple(themes[i] for i in order)
        self.vectors = vectors[order] if len(order) else vectors
        owners = [p.owner for p in self.passages]
        self._starts = np.array([owners.index(c) for c in codes], dtype=np.intp)
        self._by_code = {r.code: r for r in regions}

    def with_model(self, model: PartnerModel | None) -> PartnerFinder:
        clone = copy.copy(self)
        clone.model = model
        return clone

    @contextlib.contextmanager
    def leaving_out(self, keys: set[str]) -> Iterator[None]:
        """Evidence without the joint projects of `keys` (source URLs or folded project names) while inside: a
        partner case is judged without the evidence of its own project (evaluation and training only)."""
        before = self._left_out
        self._left_out = frozenset(keys)
        try:
            yield
        finally:
            self._left_out = before

    def evidence(self) -> list[JointProject]:
        """The joint projects counted now (all, or without those left out by `leaving_out`)."""
        if not self._left_out:
            return list(self.joint_projects)
        out = self._left_out
        return [j for j in self.joint_projects if str(j.source.url) not in out and j.project.casefold() not in out]

    def _name(self, inst_id: str) -> str:
        inst = self._instruments.get(inst_id)
        return inst.name if inst else inst_id

    def _shared_programmes(self, own: Region | None, reg: Region) -> list[str]:
        if own is None:
            return []
        return sorted((set(own.interreg_programmes) & set(reg.interreg_programmes)) - self.wide)

    def candidates(
        self,
        text: str,
        prop_themes: Sequence[str],
        prop_vector: np.ndarray,
        own_region: str | None,
        ranked: Sequence[str] = (),
    ) -> Candidates:
        """The candidate regions and their features; `ranked` are the proposal's best instrument ids, best first."""
        own_region = own_region or applicant_region(text, self.places)
        own = self._by_code.get(own_region or "")
        themes = tuple(prop_themes)
        topical = set(strongest(themes))
        named = mentioned_regions(text, self.places)
        areas = named_areas(text)
        across = across_words(text)
        language = written_in(text)
        sims = self.vectors @ prop_vector
        dense = np.clip(np.maximum.reduceat(sims, self._starts), 0.0, 1.0) if len(sims) else np.zeros(0)
        intent = float(np.clip(self.cross_border @ prop_vector, 0.0, 1.0)) if self.cross_border is not None else 0.0
        partner_insts = [
            self._instruments[i]
            for i in ranked[:TOP_INSTRUMENTS]
            if i in self._instruments and needs_partners(self._instruments[i])
        ]
        local = [
            i for i in partner_insts if i.id not in self.wide and (own_region is None or covers(i.regions, own_region))
        ]
        # The text itself asks for partners abroad: words for the border, a neighbour's language, or cross-border
        # cooperation among its two strongest themes (by meaning: the tagger reads the embedding too).
        asks_abroad = across is not None or language is not None or "cross-border" in themes[:2]
        evidence = self.evidence() if own_region else []
        with_own = [j for j in evidence if own_region in j.regions]
        collabs = [c for c in self.collaborations if on_topic(c.themes[0], themes)]
        codes, rows = [], []
        found_areas: dict[str, list[str]] = {}
        joint: dict[str, list[JointProject]] = {}
        on_theme: dict[str, list[JointProject]] = {}
        cols: dict[str, list[Collaboration]] = {}
        clusters: dict[str, str | None] = {}
        shared: dict[str, list[str]] = {}
        abroad_share: dict[str, CountryShare] = {}
        outside: set[str] = set()
        for n, reg in enumerate(self.regions):
            if reg.code == own_region:
                continue
            code = reg.code
            is_abroad = not code.startswith("NL-")
            is_named = code in named
            in_area = not is_named and reg.landsdeel in areas
            borders = own is not None and code in own.neighbours
            common = self._shared_programmes(own, reg)
            same_efro = own is not None and own.efro_programme is not None and own.efro_programme == reg.efro_programme
            over = across is not None and not is_named and is_abroad and (own is None or borders or bool(common))
            in_top = [k for k, inst in enumerate(local) if covers(inst.regions, code)]
            top_area = 1.0 / (1 + 0.5 * in_top[0]) if in_top else 0.0
            if local and not in_top:
                outside.add(code)
            pair = [j for j in with_own if code in j.regions]
            themed = [j for j in pair if topical & set(j.themes)]
            mine = [c for c in collabs if code in c.regions and (own_region is None or own_region in c.regions)]
            share = self._abroad(reg, themes)
            start = int(self._starts[n])
            end = int(self._starts[n + 1]) if n + 1 < len(self._starts) else len(self.passages)
            best = start + int(np.argmax(sims[start:end])) if end > start else start
            cluster = None
            if (
                end > start
                and self.passages[best].kind != SUMMARY
                and float(sims[best]) >= CLUSTER_FLOOR
                and on_topic(self.passage_themes[best], themes)
            ):
                cluster = self.passages[best].text
            abroad_called = is_abroad and asks_abroad
            row = {
                "named": float(is_named),
                "area": float(in_area),
                "across": float(over),
                "intent": intent * is_abroad,
                "abroad": float(abroad_called),
                "abroad_unasked": float(is_abroad and not asks_abroad),
                "language": float(language is not None and code in _LANGUAGE_REGIONS[language]),
                "border": float(borders),
                "shared_area": float(bool(common) or same_efro),
                "top_area": top_area * is_abroad,
                "top_area_home": top_area * (not is_abroad),
                "evidence_theme": min(1.0, math.log1p(len(themed)) / math.log1p(EVIDENCE_SCALE)),
                "evidence_pair": min(1.0, math.log1p(len(pair)) / math.log1p(EVIDENCE_SCALE)),
                "region_themes": theme_overlap(themes, reg.themes),
                "collab": min(1.0, 0.7 * len(mine)),
                "dense": float(dense[n]),
                "h2020": self.prior.relative(share) if self.prior and share else 0.0,
            }
            codes.append(code)
            rows.append([row[f] for f in FEATURES])
            found_areas[code] = [local[k].name for k in in_top]
            joint[code], on_theme[code], cols[code], clusters[code] = pair, themed, mine, cluster
            shared[code] = [self._name(p) for p in common]
            if share is not None:
                abroad_share[code] = share
        x = np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))
        return Candidates(
            codes=tuple(codes),
            x=x,
            own=own_region,
            themes=themes,
            across=across,
            areas=found_areas,
            outside=tuple(i.name for i in local),
            outside_of=frozenset(outside),
            joint=joint,
            on_theme=on_theme,
            collabs=cols,
            clusters=clusters,
            shared=shared,
            abroad=abroad_share,
            named=frozenset(c for c in codes if c in named),
            in_area=frozenset(c for c in codes if self._by_code[c].landsdeel in areas and c not in named),
        )

    def score(self, found: Candidates) -> np.ndarray:
        """Scores of the candidates: the learned model where it won, else the hand weights."""
        if not len(found.codes):
            return np.zeros(0)
        if self.model is not None and self.model.use:
            return self.model.scores(found.x)
        return hand_scores(found.x)

    def suggest(
        self,
        text: str,
        prop_themes: Sequence[str],
        prop_vector: np.ndarray,
        own_region: str | None,
        ranked: Sequence[str] = (),
        top: int = TOP_REGIONS,
    ) -> list[PartnerRegion]:
        if not self.regions:
            return []
        found = self.candidates(text, prop_themes, prop_vector, own_region, ranked)
        scores = self.score(found)
        # A region the text names comes first and is certain (score 1), whatever the model infers about the rest.
        shown = [1.0 if found.codes[k] in found.named else float(scores[k]) for k in range(len(found.codes))]
        return [self._explain(found, k, shown[k]) for k in ranked_order(found, scores)[:top]]

    def _abroad(self, reg: Region, prop_themes: Sequence[str]) -> CountryShare | None:
        """The H2020 share of the region's country, for regions outside the Netherlands when a prior is given."""
        if self.prior is None or reg.code.startswith("NL-"):
            return None
        return self.prior.share(reg.code[:2], prop_themes)

    def _explain(self, found: Candidates, k: int, score: float) -> PartnerRegion:
        code = found.codes[k]
        reg = self._by_code[code]
        own = self._by_code.get(found.own or "")
        why: list[Reason] = []
        if code in found.named:
            why.append(reason("partner.named"))
        if code in found.in_area:
            why.append(reason("partner.in_area", area=reg.landsdeel))
        if found.x[k, FEATURES.index("across")] and found.across:
            why.append(reason("partner.across_border", words=found.across))
        if found.areas[code] and own is not None:
            why.append(reason("partner.programme_area", programmes=found.areas[code], region=own.name))
        elif code in found.outside_of:
            why.append(reason("partner.outside_areas", programmes=list(found.outside)))
        elif found.shared[code] and own is not None:
            why.append(reason("partner.shared_programmes", programmes=found.shared[code], region=own.name))
        if found.joint[code] and own is not None:
            why.append(self._evidence_reason(found, code, own, reg))
        shared = [t for t in found.themes[:3] if t in reg.themes and t not in BROAD]
        if shared:
            why.append(reason("partner.strong_in", themes=shared))
        for col in found.collabs[code][:2]:
            why.append(reason("partner.collaboration", name=col.name, theme=col.themes[0]))
        cluster = found.clusters[code]
        if cluster:
            why.append(reason("partner.cluster", text=clip(cluster, 120)))
        share = found.abroad.get(code)
        if share is not None and self.prior is not None:
            why.append(h2020_reason(share, self.prior.source))
        return PartnerRegion.model_construct(
            region=code, name=reg.name, score=round(min(max(score, 0.0), 1.0), 4), why_codes=tuple(why)
        )

    def _evidence_reason(self, found: Candidates, code: str, own: Region, reg: Region) -> Reason:
        """'12 real projects joined Limburg and Vlaanderen, 5 of them on health (source: ...)'."""
        pair, themed = found.joint[code], found.on_theme[code]
        latest = max(themed or pair, key=lambda j: j.source.as_of or dt.date.min)
        params = {"count": len(pair), "own": own.name, "other": reg.name, "source": str(latest.source.url)}
        if themed:
            lead = [t for t in strongest(found.themes) if any(t in j.themes for j in themed)]
            return reason("partner.evidence_theme", themed=len(themed), themes=lead, **params)
        return reason("partner.evidence", **params)


def h2020_reason(found: CountryShare, source: str) -> Reason:
    """'H2020: 73% van de 452 Nederlandse projecten in Health (SC1) had een Duitse partner (CORDIS)', in codes."""
    share = {"share": found.share, "projects": found.projects, "country": found.country, "source": source}
    if found.basis == ALL:
        return reason("partner.h2020", **share)
    part = f"{found.basis_name} ({found.basis})"
    return reason("partner.h2020_part", part=part, **share)
