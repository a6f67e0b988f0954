"""The matching pipeline: proposals in, ranked and explained matches out.

    corpus -> embeddings (passage index) + lexical scorer -> scores -> fusion -> eligibility -> explanations

    >>> m = app.load_matcher(Settings.from_env())      # or Matcher.build(corpus, encoder) in memory
    >>> result = m.match(Proposal(text="Wij ontwikkelen een oogstrobot voor kassen", region="NL-ZH"))
    >>> result.matches[0].instrument_id

The batch path is the real one; `match` is a batch of one.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import logging
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse

from matcher.io.corpus import Corpus
from matcher.io.h2020 import H2020Prior
from matcher.pipeline.evidence import SIMILAR_FROM, FundedExamples, ProjectEvidence
from matcher.pipeline.explain import next_step_codes, why_codes
from matcher.pipeline.partners import (
    STRONGEST,
    TOP_INSTRUMENTS,
    Candidates,
    PartnerFinder,
    PartnerModel,
    across_words,
    needs_partners,
)
from matcher.pipeline.scope import ScopeModel
from matcher.records import DEFAULT_TOP, CallMatch, Eligibility, Instrument, Match, MatchResult, Proposal, Stage
from matcher.records.results import ReadFact, is_weak
from matcher.retrieval import artefacts
from matcher.retrieval.artefacts import Embeddings
from matcher.retrieval.encoders import Encoder
from matcher.retrieval.fusion import (
    DENSE_WEIGHT,
    THEME_WEIGHT,
    absolute_scores,
    dense_instrument_scores,
    fuse,
    theme_overlap,
)
from matcher.retrieval.lexical import LexicalScorer
from matcher.retrieval.workers import encode_ahead
from matcher.rules.eligibility import Check, check_all, check_open, check_requirements, overall
from matcher.text.facts import money_asked, read_facts, speaks_of_partners, without_amounts
from matcher.text.language import guess_language
from matcher.text.passages import KEYWORDS, SUMMARY, instrument_document
from matcher.text.places import home_municipality, without_towns
from matcher.text.themes import ThemeTagger

log = logging.getLogger(__name__)
Mode = Literal["hybrid", "dense", "lexical"]
# Best score below which a proposal is flagged as a weak match, used only where nothing was calibrated (a corpus
# without dev cases, or a matcher built in memory): `app.load_matcher` gives the threshold that
# `analysis.calibration` computed for the corpus, model and dev cases, and the gap analysis reads the same value.
UNCALIBRATED_WEAK_MATCH = 0.2
ENCODE_CHUNK = 64
# Fit signals added to the score once the proposal's facts are known (`Matcher.fit`): an instrument that names the
# stages it serves gains STAGE_WEIGHT when the proposal's stage is one of them and loses it when not; an instrument
# whose largest contribution is far from what the proposal can use loses up to SIZE_WEIGHT.
STAGE_WEIGHT = 0.03
SIZE_WEIGHT = 0.05
# A hard requirement the text speaks to (a farm for a farmers' scheme) adds REQUIREMENT_WEIGHT; one it is silent on
# takes it off (a missed one makes the instrument ineligible instead).
REQUIREMENT_WEIGHT = 0.02
# A consortium (two or more organisations, stated or read from the text) gains PARTNER_WEIGHT at an instrument that
# asks for one (`min_partners` it meets): such schemes are for joint projects, whatever their topic.
PARTNER_WEIGHT = 0.05
# A text that asks for a loan, an investor, a guarantee or a tax scheme (`text.facts.money_asked`) lifts an
# instrument that gives that kind of money by MONEY_WEIGHT. "Subsidie" lifts nothing: applicants call every scheme
# that ("subsidie" for the WBSO). An investor's money does not lift a loan, nor the reverse: a bakery asking for a
# loan is no case for the EIC Accelerator's equity.
MONEY_WEIGHT = 0.06
MONEY_KIND: dict[str, str] = {"voucher": "grant"}
CALLS_SHOWN = 3  # the best-fitting calls listed under a programme (`Match.calls`)
PARTNER_INSTRUMENTS = 3  # the best instruments whose need for partners makes the engine suggest partner regions
SIZE_OVER = 3.0  # a project that could use more than 3x the largest contribution starts to lose
SIZE_UNDER = 200.0  # a contribution more than 200x what the project could use starts to lose


@dataclass(frozen=True)
class Scores:
    """Per-proposal score arrays over the corpus's instruments, in corpus order."""

    final: np.ndarray  # (n, n_instruments) in [0, 1], the ranking score
    passage: np.ndarray  # (n, n_passages) cosine of each proposal with each passage (HNSW: candidates only, else -1)
    vectors: np.ndarray  # (n, dim) proposal embeddings
    themes: list[list[str]]  # theme ids per proposal, strongest first
    languages: list[str]  # "nl" or "en" per proposal
    word_rows: list[sparse.csr_matrix]  # word TF-IDF row of each proposal, for shared terms
    dense: np.ndarray  # (n, n_instruments) dense cosine blend per instrument (before fusion)
    lexical: np.ndarray  # (n, n_instruments) lexical score per instrument
    overlap: np.ndarray  # (n, n_instruments) share of the proposal's theme weight each instrument covers
    examples: np.ndarray | None = None  # (n, n_instruments) cosine of the closest funded example (-1: none)
    example_sims: np.ndarray | None = None  # (n, n_examples) cosine of each funded example


@dataclass(frozen=True)
class Ranking:
    """One proposal's ranking (`Matcher._rank`): fitted scores, scores with calls folded in, the best calls of each
    programme, the order, and the requirement checks read on the way."""

    final: np.ndarray
    ranked: np.ndarray
    calls: dict[int, list[tuple[int, tuple[Check, ...]]]]
    order: np.ndarray
    requirements: dict[int, tuple[Check, ...]]
    home: str | None  # the municipality the text places the applicant in (`places.home_municipality`)
    partners_read: bool  # the number of partners was read from the text (a lower bound), not given


class Matcher:
    """Ranks the corpus's instruments for proposals. Build once, match many times."""

    def __init__(
        self,
        corpus: Corpus,
        encoder: Encoder,
        embeddings: Embeddings,
        dense_weight: float = DENSE_WEIGHT,
        theme_weight: float = THEME_WEIGHT,
        h2020: H2020Prior | None = None,
        weak_match: float = UNCALIBRATED_WEAK_MATCH,
    ) -> None:
        self.corpus = corpus
        self.weak_match = weak_match
        self.calibration: object | None = None  # how `weak_match` was obtained (set by `app.load_matcher`)
        self.scope: ScopeModel | None = None  # out-of-scope texts (set by `app.load_matcher`; `with_scope`)
        self.examples: FundedExamples | None = None  # really funded projects (`app.load_matcher`; `with_examples`)
        self.encoder = encoder
        self.embeddings = embeddings
        self.dense_weight = dense_weight
        self.theme_weight = theme_weight
        self.instruments: tuple[Instrument, ...] = corpus.instruments
        position = {inst.id: i for i, inst in enumerate(self.instruments)}
        self._owner_of = np.array([position[p.owner] for p in embeddings.passages])
        # One pass over the passages (a scan per instrument took 22 minutes at 200,000 passages).
        summary: dict[str, int] = {}
        readable: dict[str, list[int]] = {i.id: [] for i in self.instruments}
        for j, p in enumerate(embeddings.passages):
            if p.kind == SUMMARY:
                summary.setdefault(p.owner, j)
            if p.kind != KEYWORDS:
                readable[p.owner].append(j)
        self._summary_cols = np.array([summary[i.id] for i in self.instruments])
        self._readable_cols = [np.array(readable[i.id], dtype=np.int64) for i in self.instruments]
        docs = [instrument_document(i, corpus.theme_names("nl")) for i in self.instruments]
        self.lexical = LexicalScorer().fit(docs)
        self.tagger = ThemeTagger(corpus.themes, embeddings.theme_vectors, embeddings.reference)
        theme_ids = [t.id for t in corpus.themes]
        self.partners = PartnerFinder(
            corpus.regions,
            corpus.collaborations,
            embeddings.region_passages,
            embeddings.region_vectors,
            h2020,
            places=corpus.places,
            instruments=corpus.instruments,
            joint_projects=corpus.joint_projects,
            passage_themes=[
                next(iter(self.tagger.tag(p.text, v)), None)
                for p, v in zip(embeddings.region_passages, embeddings.region_vectors, strict=True)
            ],
            cross_border=(
                embeddings.theme_vectors[theme_ids.index("cross-border")] if "cross-border" in theme_ids else None
            ),
        )
        self._instrument_themes = self.tagger.weights([list(i.themes) for i in self.instruments])
        # Instruments with no Dutch text: an English summary and no Dutch one (see `cross_lingual`).
        self._no_dutch = np.array([guess_language(i.summary) != "nl" for i in self.instruments], dtype=bool)
        self.evidence = ProjectEvidence(corpus.projects, embeddings.project_vectors)
        stages = typing.get_args(Stage)
        self._stage_col = {stage: k for k, stage in enumerate(stages)}
        self._serves = np.array([[s in i.stages for s in stages] for i in self.instruments], dtype=bool).reshape(
            len(self.instruments), len(stages)
        )
        self._names_stages = self._serves.any(axis=1)
        self._deadlines: dict[tuple[int, dt.date], Check] = {}
        self._with_requirements = [pos for pos, i in enumerate(self.instruments) if i.requirements]
        # Calls of programmes (imported topics with a `parent`): ranked inside their programme, never on their own.
        calls: dict[int, list[int]] = {}
        for pos, inst in enumerate(self.instruments):
            if inst.parent is not None and inst.parent in position:
                calls.setdefault(position[inst.parent], []).append(pos)
        self._calls_of = {parent: np.array(kids, dtype=np.int64) for parent, kids in calls.items()}
        self._is_call = np.zeros(len(self.instruments), dtype=bool)
        # A programme's hard requirements hold for each of its calls (imported calls state none of their own).
        self._requirements_of = np.arange(len(self.instruments))
        for parent, kids in self._calls_of.items():
            self._is_call[kids] = True
            self._requirements_of[kids] = parent
        self._min_partners = np.array([i.min_partners or 0 for i in self.instruments], dtype=np.float64)
        kinds = [MONEY_KIND.get(i.instrument_type, i.instrument_type) for i in self.instruments]
        self._money_kind = np.array(kinds, dtype=object)
        self._max_eur = np.array([i.max_amount_eur or np.nan for i in self.instruments], dtype=np.float64)
        self._rate = np.array([i.funding_rate or 1.0 for i in self.instruments], dtype=np.float64)

    def requirement_checks(self, prop: Proposal) -> dict[int, tuple[Check, ...]]:
        """`check_requirements` of every instrument that has hard requirements, by position: read once per proposal."""
        return {pos: check_requirements(self.instruments[pos], prop) for pos in self._with_requirements}

    def fit(
        self, final: np.ndarray, prop: Proposal, requirements: dict[int, tuple[Check, ...]] | None = None
    ) -> np.ndarray:
        """The score row with the requirement, stage and size fit of `prop` (its facts known) added, in [0, 1]."""
        asked = {kind for kind in money_asked(prop.text) if kind != "grant"}
        if (
            prop.stage is None
            and prop.budget_eur is None
            and prop.partners is None
            and not asked
            and not self._with_requirements
        ):
            return final
        out = final.astype(np.float64, copy=True)
        found = self.requirement_checks(prop) if requirements is None else requirements
        for pos, checks in found.items():
            said = [c.status for c in checks]
            shift = REQUIREMENT_WEIGHT * (said.count("met") - said.count("unknown"))
            out[pos] += shift
            if pos in self._calls_of:  # the programme's requirements are its calls' too
                out[self._calls_of[pos]] += shift
        if prop.stage is not None:
            serves = self._serves[:, self._stage_col[prop.stage]]
            out += STAGE_WEIGHT * np.where(self._names_stages, np.where(serves, 1.0, -1.0), 0.0)
        if prop.partners is not None and prop.partners > 1:
            out += PARTNER_WEIGHT * ((self._min_partners > 1) & (self._min_partners <= prop.partners))
        if asked:
            out += MONEY_WEIGHT * np.isin(self._money_kind, list(asked))
        if prop.budget_eur is not None and prop.budget_eur > 0:
            usable = prop.budget_eur * self._rate
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                over = np.log10(usable / (SIZE_OVER * self._max_eur))
                under = np.log10(self._max_eur / (SIZE_UNDER * usable))
            miss = np.nan_to_num(np.clip(np.maximum(over, under) / 2.0, 0.0, 1.0), nan=0.0)
            out -= SIZE_WEIGHT * miss
        return np.clip(out, 0.0, 1.0).astype(final.dtype)

    @classmethod
    def build(cls, corpus: Corpus, encoder: Encoder, weak_match: float = UNCALIBRATED_WEAK_MATCH) -> Matcher:
        """Build in memory, without an artefact folder (tests, notebooks); `app.load_matcher` is the usual way."""
        return cls(corpus, encoder, artefacts.build(corpus, encoder), weak_match=weak_match)

    def with_weak_match(self, value: float, calibration: object | None = None) -> Matcher:
        """The same matcher with another weak-match threshold (the calibrated one); shares every built part."""
        clone = copy.copy(self)
        clone.weak_match, clone.calibration = value, calibration
        return clone

    def with_partner_model(self, model: PartnerModel | None) -> Matcher:
        """The same matcher whose partner regions are scored by `model` where it won (`analysis.partner_model`)."""
        clone = copy.copy(self)
        clone.partners = self.partners.with_model(model)
        return clone

    def with_examples(self, examples: FundedExamples | None) -> Matcher:
        """The same matcher that also ranks by the closest really funded project of each instrument (hybrid mode)."""
        clone = copy.copy(self)
        clone.examples = examples if examples is not None and len(examples) else None
        return clone

    @property
    def examples_key(self) -> str:
        """'' without funded examples, else what they are: part of the keys of artefacts computed from rankings."""
        return self.examples.key if self.examples is not None else ""

    def leaving_out(self, sources: set[str]) -> contextlib.AbstractContextManager[None]:
        """Within the block, the funded examples of these pages do not count (a labelled case without its own
        project; evaluation only)."""
        if self.examples is None:
            return contextlib.nullcontext()
        return self.examples.leaving_out(sources)

    def with_scope(self, model: ScopeModel | None) -> Matcher:
        """The same matcher whose `weak_match` decision also asks the scope model (`pipeline.scope`)."""
        clone = copy.copy(self)
        clone.scope = model
        return clone

    # -- scoring -------------------------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Proposal vectors, of the texts without their amounts (`text.facts.without_amounts`)."""
        texts = [without_amounts(t) for t in texts]
        chunks = []
        for start in range(0, len(texts), ENCODE_CHUNK):
            chunk = texts[start : start + ENCODE_CHUNK]
            chunks.append(self.encoder.encode(chunk))
        if not chunks:
            return np.zeros((0, self.embeddings.index.dimension), dtype=np.float32)
        return np.vstack(chunks)

    def score(self, texts: Sequence[str], mode: Mode = "hybrid", vectors: np.ndarray | None = None) -> Scores:
        texts = [without_amounts(t) for t in texts]
        best = sims = None
        vecs = self.encode(texts) if vectors is None else vectors
        passage = self.embeddings.index.candidate_matrix(vecs)  # HNSW: only candidates scored, the rest -1
        dense = dense_instrument_scores(passage, self._owner_of, self._summary_cols)
        themes = [self.tagger.tag(t, v) for t, v in zip(texts, vecs, strict=True)]
        languages = [guess_language(t) for t in texts]
        rows = self.lexical.transform([without_towns(t, self.corpus.places) for t in texts])
        lexical = self.lexical.score_rows(rows)
        overlap = theme_overlap(self.tagger.weights(themes), self._instrument_themes)
        if mode == "dense":
            final = np.clip(dense, 0.0, 1.0)
        elif mode == "lexical":
            final = np.clip(lexical, 0.0, 1.0)
        else:
            cross = self.cross_lingual(languages)
            fused = fuse(dense, lexical, overlap, self.dense_weight, self.theme_weight, cross)
            final = absolute_scores(fused, dense, self.embeddings.reference)
            if self.examples is not None:
                best, sims = self.examples.scores(vecs)
                final = self.examples.add_to(final, best, self.examples.votes(sims))
        return Scores(
            final=final,
            passage=passage,
            vectors=vecs,
            themes=themes,
            languages=languages,
            word_rows=list(rows[0]),
            dense=dense,
            lexical=lexical,
            overlap=overlap,
            examples=best,
            example_sims=sims,
        )

    def cross_lingual(self, languages: Sequence[str]) -> np.ndarray:
        """(queries x instruments) True for a Dutch query against an instrument with no Dutch text.

        There the lexical score is noise and the dense score stands in for it. Measured on the cross-lingual pairs,
        Dutch proposals share almost no terms with English calls (lexical-only success@5 0.05), while English
        proposals do share terms with Dutch scheme texts full of English loanwords and programme names (applying
        the rule in that direction too lowered success@5 on the dev cases from 0.92 to 0.85).
        """
        dutch = np.array([lang == "nl" for lang in languages], dtype=bool)
        out: np.ndarray = np.outer(dutch, self._no_dutch)
        return out

    # -- matching ------------------------------------------------------------------------------------------------
    def match_batch(
        self,
        proposals: Sequence[Proposal],
        top_k: int = DEFAULT_TOP,
        as_of: dt.date | None = None,
        progress: Callable[[int], None] | None = None,
        mode: Mode = "hybrid",
        parallel: bool = False,
        availability: bool = True,
    ) -> list[MatchResult]:
        """Match proposals in chunks; the next chunk is encoded in a worker while this one is ranked.

        `parallel=True` lets that worker be a forked process (see `workers.encode_ahead`): for batch jobs.
        `availability=False` leaves the deadline check out: the ranking by fit alone, which labelled cases measure.
        """
        today = as_of or dt.date.today()
        chunks = [proposals[i : i + ENCODE_CHUNK] for i in range(0, len(proposals), ENCODE_CHUNK)]
        texts = [[without_amounts(p.text) for p in chunk] for chunk in chunks]
        results: list[MatchResult] = []
        for chunk, chunk_texts, vectors in zip(
            chunks, texts, encode_ahead(self.encoder, texts, processes=parallel), strict=True
        ):
            scores = self.score(chunk_texts, mode, vectors=vectors)
            results.extend(
                self._result(p, i, scores, (p.as_of or today) if availability else None, top_k)
                for i, p in enumerate(chunk)
            )
            if progress is not None:
                progress(len(chunk))
        return results

    def best_fit_scores(
        self,
        proposals: Sequence[Proposal],
        as_of: dt.date | None = None,
        among: Sequence[frozenset[str] | None] | None = None,
    ) -> list[float]:
        """Per proposal, the highest score of an instrument that is not ineligible (only ids in `among[i]` when
        given), 0.0 when none: the number the weak-match threshold is compared with. Builds no explanations, so the
        calibration can rank every instrument for every case cheaply."""
        today = as_of or dt.date.today()
        out: list[float] = []
        for start in range(0, len(proposals), ENCODE_CHUNK):
            chunk = proposals[start : start + ENCODE_CHUNK]
            final = self.score([p.text for p in chunk]).final
            for row, given in enumerate(chunk):
                prop, _, read = self.with_facts(given)  # checked as `match` checks it: flags and calibration agree
                allowed = among[start + row] if among is not None else None
                best = 0.0
                reqs = self.requirement_checks(prop)
                home = home_municipality(prop.text, self.corpus.places)
                fitted = self.fit(final[row], prop, reqs)
                for pos in np.argsort(-fitted, kind="stable"):
                    inst = self.instruments[pos]
                    if allowed is not None and inst.id not in allowed:
                        continue
                    checks = self._checks(int(pos), prop, prop.as_of or today, reqs, home, "partners" in read)
                    if overall(checks) != "ineligible":
                        best = float(round(fitted[pos], 4))
                        break
                out.append(best)
        return out

    def partner_candidates(self, proposals: Sequence[Proposal], as_of: dt.date | None = None) -> list[Candidates]:
        """Per proposal, its partner-region candidates and their features as `match` would score them, whether or
        not the proposal calls for partners (the partner model is trained and measured on these)."""
        today = as_of or dt.date.today()
        scores = self.score([p.text for p in proposals])
        out = []
        for row, given in enumerate(proposals):
            prop, _, read = self.with_facts(given)
            order = self._rank(scores.final[row], prop, prop.as_of or today, "partners" in read).order
            themes = scores.themes[row]
            vector = scores.vectors[row]
            out.append(self.partners.candidates(prop.text, themes, vector, prop.region, self._by_fit(order)))
        return out

    def match(self, proposal: Proposal, top_k: int = DEFAULT_TOP, as_of: dt.date | None = None) -> MatchResult:
        return self.match_batch([proposal], top_k, as_of)[0]

    def with_facts(self, given: Proposal) -> tuple[Proposal, dict[str, ReadFact], dict[str, ReadFact]]:
        """The proposal as checked (the user's values, then what its text states), all facts read, and those used."""
        facts = read_facts(given.text, self.corpus.places)
        read = {k: f for k, f in facts.items() if getattr(given, k) is None}  # what the user gave wins
        return given.model_copy(update={k: f.value for k, f in read.items()}), facts, read

    def _by_fit(self, order: np.ndarray) -> list[str]:
        """The ids of the best-fitting instruments by score, whatever their checks: where partners can be depends on
        the programmes that fit, also while a round is closed (`partners.TOP_INSTRUMENTS` of them)."""
        return [self.instruments[int(p)].id for p in order[:TOP_INSTRUMENTS]]

    def _result(self, given: Proposal, row: int, scores: Scores, as_of: dt.date | None, top_k: int) -> MatchResult:
        prop, facts, read = self.with_facts(given)
        themes = scores.themes[row]
        ranking = self._rank(scores.final[row], prop, as_of, "partners" in read)
        final, ranked, calls, order = ranking.final, ranking.ranked, ranking.calls, ranking.order
        reqs = ranking.requirements
        kept: list[tuple[int, tuple[Check, ...], Eligibility]] = []
        rejected: list[tuple[int, tuple[Check, ...], Eligibility]] = []
        for pos in order:
            if len(kept) >= top_k or self._is_call[pos]:
                break  # calls rank last (-1): past them nothing is left but calls, which their programmes list
            checks = self._checks(int(pos), prop, as_of, reqs, ranking.home, ranking.partners_read)
            eligibility = overall(checks)
            if eligibility != "ineligible":
                kept.append((int(pos), checks, eligibility))
            elif len(rejected) < top_k:
                rejected.append((int(pos), checks, eligibility))
        matches = [
            self._match(self.instruments[pos], pos, float(ranked[pos]), checks, eligibility, themes, scores, row, prop)
            for pos, checks, eligibility in (kept + rejected)[:top_k]
        ]
        if calls:
            matches = [
                m.model_copy(update={"calls": self._call_matches(calls[pos], final)}) if pos in calls else m
                for m, (pos, _, _) in zip(matches, kept + rejected, strict=False)
            ]
        found = flags(prop, matches, self.weak_match, themes, self._outside(scores.vectors[row]))
        partners = (
            self.partners.suggest(
                prop.text,
                themes,
                scores.vectors[row],
                prop.region,
                self._by_fit(order),
            )
            if "weak_match" not in found and self._calls_for_partners(prop, matches, themes)
            else []
        )
        return MatchResult.model_construct(
            proposal_id=prop.id,
            matches=tuple(matches),
            partner_regions=tuple(partners),
            themes=tuple(themes),
            language=scores.languages[row],
            flags=found + conflicts(given, facts),
            read_from_text=read,
        )

    def _rank(self, row: np.ndarray, prop: Proposal, as_of: dt.date | None, partners_read: bool = False) -> Ranking:
        """One proposal's score row (`Scores.final`) with its fit added, its calls folded into their programmes and
        the order that ranks them: the steps `match` and the partner candidates share."""
        reqs = self.requirement_checks(prop)
        home = home_municipality(prop.text, self.corpus.places)
        final = self.fit(row, prop, reqs)
        ranked, calls = self.grouped(final, prop, as_of, reqs, home, partners_read)
        order = np.argsort(-ranked, kind="stable")
        return Ranking(final, ranked, calls, order, reqs, home, partners_read)

    def grouped(
        self,
        final: np.ndarray,
        prop: Proposal,
        as_of: dt.date | None,
        requirements: dict[int, tuple[Check, ...]],
        home: str | None = None,
        partners_read: bool = False,
    ) -> tuple[np.ndarray, dict[int, list[tuple[int, tuple[Check, ...]]]]]:
        """The score row with calls folded into their programmes, and each programme's best calls that `prop` can
        apply for (by position, best first, at most CALLS_SHOWN, with their checks).

        A programme scores the better of its own fit and that of its best call that is not ineligible (on `as_of`; a
        closed call is), so a specific open call lifts its programme; calls themselves score -1 and are never
        ranked on their own. Without calls in the corpus the row is returned as it is.
        """
        if not self._calls_of:
            return final, {}
        ranked = final.astype(np.float64, copy=True)
        ranked[self._is_call] = -1.0
        found: dict[int, list[tuple[int, tuple[Check, ...]]]] = {}
        for parent, kids in self._calls_of.items():
            picked: list[tuple[int, tuple[Check, ...]]] = []
            for pos in kids[np.argsort(-final[kids], kind="stable")]:
                if as_of is not None and self._deadline(int(pos), as_of).status == "missed":
                    continue  # closed: cheap to rule out before the other checks
                checks = self._checks(int(pos), prop, as_of, requirements, home, partners_read)
                if overall(checks) != "ineligible":
                    picked.append((int(pos), checks))
                    if len(picked) >= CALLS_SHOWN:
                        break
            if picked:
                found[parent] = picked
                ranked[parent] = max(ranked[parent], float(final[picked[0][0]]))
        return ranked, found

    def _call_matches(
        self, picked: Sequence[tuple[int, tuple[Check, ...]]], final: np.ndarray
    ) -> tuple[CallMatch, ...]:
        out = []
        for pos, checks in picked:
            inst = self.instruments[pos]
            deadline = next((c.record() for c in checks if c.criterion == "deadline"), None)
            closes = max((r.closes for r in inst.rounds if r.closes is not None), default=None)
            out.append(
                CallMatch.model_construct(
                    instrument_id=inst.id,
                    name=inst.name,
                    score=round(float(final[pos]), 4),
                    closes=closes,
                    deadline=deadline,
                    source_url=str(inst.source.url),
                )
            )
        return tuple(out)

    def _calls_for_partners(self, prop: Proposal, matches: Sequence[Match], themes: Sequence[str]) -> bool:
        """Partner regions are suggested only where the proposal or one of its top instruments calls for partners:
        the text speaks of partners or a border (in Dutch, English, German or French), cross-border cooperation is
        one of its strongest themes, it names more than one organisation, or one of the three best instruments needs
        a consortium, partners from two countries, or is about cross-border cooperation (`partners.needs_partners`)."""
        if (prop.partners or 0) > 1 or speaks_of_partners(prop.text) is not None or across_words(prop.text):
            return True
        if "cross-border" in themes[:STRONGEST]:
            return True
        return any(needs_partners(self.corpus.instrument(m.instrument_id)) for m in matches[:PARTNER_INSTRUMENTS])

    def _checks(
        self,
        pos: int,
        prop: Proposal,
        as_of: dt.date | None,
        requirements: dict[int, tuple[Check, ...]],
        home: str | None = None,
        partners_read: bool = False,
    ) -> tuple[Check, ...]:
        """`check_all` of the instrument at `pos`, its deadline check read once per day (it depends on nothing else)
        and its requirement checks once per proposal (`requirements`, from `requirement_checks`; a call has those of
        its programme); `home` is the municipality the text places the applicant in, and `partners_read` says the
        number of partners is the text's (at least that many), not the user's."""
        inst = self.instruments[pos]
        reqs = requirements.get(int(self._requirements_of[pos]), ())
        if as_of is None:
            return check_all(inst, prop, None, requirements=reqs, home=home, partners_read=partners_read)
        return check_all(inst, prop, as_of, self._deadline(pos, as_of), reqs, home, partners_read)

    def _deadline(self, pos: int, as_of: dt.date) -> Check:
        """`check_open` of the instrument at `pos` (over its calls for a programme), read once per day."""
        key = (pos, as_of)
        deadline = self._deadlines.get(key)
        if deadline is None:
            if len(self._deadlines) > 100_000:  # many days asked for: start again rather than grow without bound
                self._deadlines.clear()
            inst = self.instruments[pos]
            deadline = self._deadlines[key] = check_open(inst, as_of, self.corpus.calls_of(inst.id))
        return deadline

    def _outside(self, vector: np.ndarray) -> bool | None:
        """True when the scope model says the text asks for something no instrument is for; None without a model."""
        return None if self.scope is None else bool(self.scope.outside(vector[None, :])[0])

    def _match(
        self,
        inst: Instrument,
        pos: int,
        score: float,
        checks: tuple[Check, ...],
        eligibility: Eligibility,
        themes: list[str],
        scores: Scores,
        row: int,
        prop: Proposal,
    ) -> Match:
        """The match in codes: `why`, `next_steps` and check details stay empty until `i18n.localise` words them."""
        cols = self._readable_cols[pos]
        passage_row = scores.passage[row]
        closest = self.embeddings.passages[cols[int(np.argmax(passage_row[cols]))]].text if len(cols) else None
        shared = [t for t in themes if t in inst.themes]
        terms = self.lexical.shared_terms(scores.word_rows[row], pos, top=5)
        funded = None
        if self.examples is not None and scores.examples is not None and scores.example_sims is not None:
            if scores.examples[row, pos] >= SIMILAR_FROM:
                found = self.examples.closest(scores.example_sims[row], pos)
                funded = found.source if found is not None else None
        money = money_asked(prop.text).get(MONEY_KIND.get(inst.instrument_type, inst.instrument_type))
        return Match.model_construct(
            instrument_id=inst.id,
            name=inst.name,
            level=inst.level,
            regions=inst.regions,
            score=round(score, 4),
            eligibility=eligibility,
            checks=tuple(c.record() for c in checks),
            why_codes=tuple(why_codes(inst, shared, closest, terms, checks, prop.stage, funded, money)),
            next_step_codes=tuple(next_step_codes(inst, checks)),
            instrument_type=inst.instrument_type,
            administrator=inst.administrator,
            source_url=str(inst.source.url),
            similar_projects=self.evidence.closest(inst.funds, scores.vectors[row]),
        )


def conflicts(given: Proposal, facts: Mapping[str, ReadFact]) -> tuple[str, ...]:
    """`text_disagrees_<field>` where the text states another value than the user gave (the given one is used)."""
    return tuple(
        f"text_disagrees_{k}"
        for k, f in facts.items()
        if getattr(given, k) is not None and getattr(given, k) != f.value
    )


def flags(
    prop: Proposal, matches: Sequence[Match], weak_match: float, themes: Sequence[str], outside: bool | None = None
) -> tuple[str, ...]:
    """Signals for an adviser triaging a batch: weak fit, nothing to apply for, information to ask for.

    `weak_match` is `records.results.is_weak`: the scope model's verdict (`outside`) where the matcher has one, else
    the best score of a match that is not ineligible against the calibrated threshold.
    """
    out = []
    if is_weak(matches, themes, weak_match, outside):
        out.append("weak_match")
    if all(m.eligibility == "ineligible" for m in matches):
        out.append("no_eligible_match")
    known = (("region", prop.region), ("applicant_type", prop.applicant_type), ("budget", prop.budget_eur))
    out += [f"missing_{name}" for name, value in known if value is None]
    return tuple(out)
