"""The front door: one function per use case, called by the CLI, the service routes, the web pages, the notebooks and
the scripts. Each assembles the layers below in one place, so every front end gets the same pipeline.

    >>> from matcher import app, Proposal, Settings
    >>> matcher = app.load_matcher(Settings.from_env())
    >>> result = app.match(matcher, Proposal(text="Wij ontwikkelen een oogstrobot"), lang="en")
    >>> report = app.gap_analysis(matcher, app.read_batch(Path("intake.csv")), dt.date(2026, 12, 1))

`load_matcher` is the composition root: corpus, encoder, built artefacts, the H2020 prior and the calibrated
weak-match threshold (`analysis.calibration`, stored as an artefact) that triage flags and the gap analysis share.
Results come back with their sentences in the language asked for (`text.i18n.localise`).
"""

from __future__ import annotations

import datetime as dt
import logging
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from matcher.errors import InputError
from matcher.io.batch import parse_proposals, proposal_from_row, read_proposals, write_lines_atomic
from matcher.io.corpus import Corpus, load_corpus, load_dev_cases
from matcher.records import DEFAULT_TOP, DevCase, Instrument, Level, MatchResult, Proposal
from matcher.records.threshold import Threshold
from matcher.rules.availability import status_on, window
from matcher.rules.catalogue import InstrumentQuery, select
from matcher.settings import Settings
from matcher.text.i18n import DEFAULT_LANGUAGE, localise

if TYPE_CHECKING:  # the engine's modules load models, faiss and scikit-learn: imported where they are used
    from matcher.analysis.audit import AuditReport
    from matcher.analysis.gaps import GapReport
    from matcher.io.importers.import_report import ImportReport
    from matcher.pipeline.matcher import Matcher

log = logging.getLogger(__name__)
Progress = Callable[[int], None]

__all__ = [
    "DEFAULT_TOP",
    "Threshold",
    "CorpusSummary",
    "InstrumentQuery",
    "build",
    "evaluate",
    "gap_analysis",
    "import_ft_topics",
    "import_operations",
    "list_instruments",
    "load_corpus_from",
    "load_matcher",
    "match",
    "parse_batch",
    "proposals_from_rows",
    "read_batch",
    "threshold_of",
    "triage",
    "validate",
    "write_gap_report",
    "write_results",
]


# -- loading ---------------------------------------------------------------------------------------------------------
def load_corpus_from(settings: Settings) -> Corpus:
    """The validated corpus of the settings (bundled corpora plus `extra` folders); no model is loaded."""
    return load_corpus(settings.corpora, extra=settings.extra)


def load_matcher(settings: Settings, rebuild: bool = False) -> Matcher:
    """The matcher of the settings, with built artefacts (loaded, or built and stored) and the calibrated threshold."""
    from matcher.analysis.calibration import load_or_calibrate
    from matcher.analysis.scope import load_or_train
    from matcher.io.h2020 import load_h2020
    from matcher.pipeline.matcher import Matcher
    from matcher.retrieval import artefacts
    from matcher.retrieval.encoders import load_encoder

    corpus = load_corpus_from(settings)
    encoder = load_encoder(settings.model)
    folder = settings.artefacts / _slug(encoder.name)
    emb = artefacts.load_or_build(corpus, encoder, folder, force=rebuild, index_spec=settings.index)
    h2020 = load_h2020(settings.h2020, corpus.mappings.h2020_parts) if settings.h2020 else None
    matcher = Matcher(corpus, encoder, emb, h2020=h2020)
    threshold = load_or_calibrate(matcher, settings.dev_cases, settings.artefacts)
    log.info("weak-match threshold %.4f (%s)", threshold.value, threshold.method)
    calibrated = matcher.with_weak_match(threshold.value, calibration=threshold)
    scope = load_or_train(
        calibrated, settings.dev_cases, settings.real_cases, settings.out_of_scope, settings.artefacts
    )
    return calibrated.with_scope(scope)


def threshold_of(matcher: Matcher) -> Threshold:
    """The weak-match threshold the matcher flags with, and how it was obtained."""
    found = matcher.calibration
    if isinstance(found, Threshold) and found.value == matcher.weak_match:
        return found
    return Threshold.fixed(matcher.weak_match, "the matcher's threshold (not calibrated here)")


# -- matching --------------------------------------------------------------------------------------------------------
def match(matcher: Matcher, proposal: Proposal, top_k: int = DEFAULT_TOP, lang: str = DEFAULT_LANGUAGE) -> MatchResult:
    """Ranked, checked and explained instruments for one proposal, in `lang`."""
    return triage(matcher, [proposal], top_k=top_k, lang=lang)[0]


def triage(
    matcher: Matcher,
    proposals: Sequence[Proposal],
    top_k: int = DEFAULT_TOP,
    as_of: dt.date | None = None,
    lang: str = DEFAULT_LANGUAGE,
    progress: Progress | None = None,
    parallel: bool = False,
) -> list[MatchResult]:
    """Match a batch in input order (`parallel=True` encodes ahead in a forked process: for batch jobs)."""
    results = matcher.match_batch(proposals, top_k=top_k, as_of=as_of, progress=progress, parallel=parallel)
    names = matcher.corpus.theme_names(lang)
    return [localise(r, lang, names) for r in results]


def proposals_from_rows(rows: Sequence[dict[str, Any]]) -> list[Proposal]:
    """Proposals from rows as in a batch file (`POST /v1/triage`), each checked; errors name the row and field."""
    return [proposal_from_row(row, f"proposal {n}", str(n)) for n, row in enumerate(rows, 1)]


def read_batch(path: Path) -> list[Proposal]:
    """Proposals of a CSV or JSONL file (see `io.batch`); errors name the file, row, field and value."""
    return read_proposals(path)


def parse_batch(data: bytes, name: str) -> list[Proposal]:
    """Proposals of an uploaded file's bytes (UTF-8, with or without BOM), read as `read_batch` reads a file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid UTF-8 (byte {exc.start})") from None
    return parse_proposals(text, name, PurePosixPath(name).suffix)


def write_results(path: Path, results: Sequence[MatchResult]) -> None:
    """The results as JSONL, one line per proposal in input order; the file appears whole or not at all."""
    write_lines_atomic(path, (r.model_dump_json() for r in results))


# -- analysis --------------------------------------------------------------------------------------------------------
def gap_analysis(
    matcher: Matcher,
    proposals: Sequence[Proposal],
    as_of: dt.date,
    window_days: int = 90,
    theme: str | None = None,
    region: str | None = None,
    top_k: int = DEFAULT_TOP,
    parallel: bool = False,
    threshold: Threshold | None = None,
) -> GapReport:
    """Demand against open supply, unmet demand, unmatched and closing instruments.

    `theme` and `region` keep only the proposals and instruments they name; `window_days` sets "closing soon";
    weak matches are judged with the matcher's own threshold (the one its triage flags use) unless one is given.
    """
    from matcher.analysis.gaps import GapOptions, gap_report

    options = GapOptions(window_days=window_days, theme=theme, region=region, top_k=top_k)
    return gap_report(matcher, proposals, as_of, threshold or threshold_of(matcher), options, parallel=parallel)


def write_gap_report(
    matcher: Matcher,
    proposals: Sequence[Proposal],
    as_of: dt.date,
    target: Path,
    lang: str = DEFAULT_LANGUAGE,
    **options: Any,
) -> tuple[str, list[Path]]:
    """The gap analysis as a self-contained HTML report at `target` plus CSV files beside it, all written or none;
    returns a text summary and the paths. The target is checked before any matching is done."""
    from matcher.analysis.gap_report import check_target, summary, write_report

    check_target(target)
    report = gap_analysis(matcher, proposals, as_of, parallel=True, **options)
    return summary(report), write_report(report, target, lang, matcher.corpus.theme_names(lang))


def evaluate(
    matcher: Matcher,
    cases: Path,
    as_of: dt.date,
    routing: Path | None = None,
    crosslingual: Path | None = None,
    real: Path | None = None,
    out_of_scope: Path | None = None,
) -> str:
    """The evaluation tables as text: the written dev cases (engine and baselines on `as_of`, where a closed round
    ranks an instrument after the others, and the engine on fit alone, without the deadline check); with `real`, the
    cases taken from real funded projects, with their form fields and as text only; with `out_of_scope`, how the
    weak-match decision separates real out-of-scope requests from in-scope proposals; optionally fund routing and the
    cross-lingual pairs."""
    from matcher.analysis.metrics import detection, detection_cross_validated, format_table, proposal_of, text_only
    from matcher.analysis.metrics import evaluate_both as evaluate_cases
    from matcher.io.corpus import load_out_of_scope

    labelled: list[DevCase] = load_dev_cases(cases, matcher.corpus)
    parts = [format_table(evaluate_cases(matcher, labelled, as_of=as_of), len(labelled), matcher.encoder.name)]
    in_scope = [proposal_of(c) for c in labelled]
    if real is not None:
        found = load_dev_cases(real, matcher.corpus)
        with_form = format_table(evaluate_cases(matcher, found, as_of=as_of), len(found), matcher.encoder.name)
        bare = [text_only(c) for c in found]
        alone = format_table(evaluate_cases(matcher, bare, as_of=as_of), len(bare), matcher.encoder.name)
        parts += ["", f"Real funded projects ({real.name}), with the form fields:", with_form]
        parts += ["", "The same, text only:", alone]
        in_scope += [proposal_of(c) for c in found]
    if out_of_scope is not None:
        requests = [Proposal(id=c.id, text=c.text) for c in load_out_of_scope(out_of_scope)]
        found_detection = detection(matcher, requests, in_scope, as_of)
        title = f"Nothing fits ({out_of_scope.name} against every in-scope case)"
        parts += ["", f"{title}, the decision in use (its scope model was trained on these texts):"]
        parts += [found_detection.table()]
        if matcher.scope is not None:
            held_out = detection_cross_validated(matcher, requests, in_scope, as_of)
            parts += ["", f"{title}, 5-fold cross-validated (each text judged by a scope model that did not see it):"]
            parts += [held_out.table()]
    if routing is not None:
        from matcher.analysis.fund_routing import read_operations, routing_table

        parts += ["", "Fund routing (EFRO vs ESF), zero-shot:", routing_table(matcher, read_operations(routing))]
    if crosslingual is not None:
        from matcher.analysis.crosslingual import evaluate_pairs, format_pairs_table, load_pairs

        pairs = load_pairs(crosslingual, matcher.corpus)
        rows = evaluate_pairs(matcher, pairs, as_of)
        table = format_pairs_table(rows, len(pairs), matcher.encoder.name, len(matcher.instruments))
        parts += ["", "Cross-lingual (the same proposals in Dutch and in English):", table]
    return "\n".join(parts)


# -- importing ------------------------------------------------------------------------------------------------------
def import_ft_topics(
    settings: Settings, path: Path, out: Path, as_of: dt.date, strict: bool = False
) -> tuple[Path, ImportReport]:
    """EU Funding & Tenders topics (a JSONL export) into instruments in `out/ft-topics.yaml`, themed with the corpus's
    taxonomy; bad records are reported (or stop the import with `strict`)."""
    from matcher.io.importers import import_ft_topics_to

    corpus = load_corpus(settings.corpora)  # our themes and programme mappings
    return import_ft_topics_to(path, out, as_of, strict, corpus.themes, programmes=corpus.mappings.ft_programmes)


def import_operations(
    settings: Settings, path: Path, out: Path, strict: bool = False, encoding: str = "utf-8"
) -> tuple[Path, ImportReport]:
    """A structural-funds list of operations (CSV) into funded projects in `out/projects.jsonl` (provinces read with
    the corpus's gazetteer)."""
    from matcher.io.importers import import_operations_to

    places = load_corpus(settings.corpora).places
    return import_operations_to(path, out, strict, encoding, places=places)


# -- the corpus ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorpusSummary:
    instruments: int
    levels: dict[str, int]
    themes: int
    regions: int
    collaborations: int
    dev_cases: int
    projects: int
    hash: str

    def line(self) -> str:
        levels = ", ".join(f"{k} {v}" for k, v in self.levels.items() if v)
        projects = f", {self.projects} funded projects" if self.projects else ""
        return (
            f"ok: {self.instruments} instruments ({levels}), {self.themes} themes, {self.regions} regions, "
            f"{self.collaborations} collaborations, {self.dev_cases} dev cases{projects}; corpus hash {self.hash}"
        )


def validate(settings: Settings) -> CorpusSummary:
    """Check every corpus file and the dev cases; raises `CorpusError` listing every problem."""
    corpus = load_corpus_from(settings)
    cases = load_dev_cases(settings.dev_cases, corpus) if settings.dev_cases.exists() else []
    levels = {lvl: sum(i.level == lvl for i in corpus.instruments) for lvl in typing.get_args(Level)}
    return CorpusSummary(
        instruments=len(corpus.instruments),
        levels=levels,
        themes=len(corpus.themes),
        regions=len(corpus.regions),
        collaborations=len(corpus.collaborations),
        dev_cases=len(cases),
        projects=len(corpus.projects),
        hash=corpus.hash,
    )


def build(settings: Settings, force: bool = False) -> dict[str, Any]:
    """Build (or load, when current) the artefacts and the threshold; returns the index manifest."""
    matcher = load_matcher(settings, rebuild=force)
    return {**matcher.embeddings.manifest, "weak_match": matcher.weak_match}


def audit(settings: Settings, as_of: dt.date | None = None) -> AuditReport:
    """What each instrument record needs attention for on `as_of` (`matcher.analysis.audit`)."""
    from matcher.analysis.audit import audit as run_audit

    return run_audit(load_corpus_from(settings), as_of or dt.date.today())


def instrument_status(inst: Instrument, as_of: dt.date) -> str | None:
    """The contract's `status` of `inst` on `as_of` (derived from its rounds), None when the rounds do not tell."""
    return status_on(inst, as_of)[0]


def instrument_json(inst: Instrument, as_of: dt.date | None = None) -> dict[str, Any]:
    """An instrument as JSON with the contract's `status`, `opens`, `closes` derived from its rounds on `as_of`.

    `status` is `open`, `rolling`, `expected` or `closed`, and left out when the rounds do not tell (availability
    unknown); `availability` adds the engine's reading (`open`, `uncertain`, `closed`) and its reason code.
    """
    day = as_of or dt.date.today()
    data = inst.model_dump(mode="json", exclude_none=True)
    found = window(inst, day)
    status, opens, closes = status_on(inst, day)
    derived = {"status": status, "opens": opens and opens.isoformat(), "closes": closes and closes.isoformat()}
    data.update({k: v for k, v in derived.items() if v is not None})
    data["availability"] = {"as_of": day.isoformat(), "state": found.state, "code": found.code, **found.params}
    return data


def list_instruments(corpus: Corpus, query: InstrumentQuery | None = None) -> list[Instrument]:
    """The instruments passing every filter of `query` (the one filter of `rules.catalogue`), in corpus order."""
    return select(corpus, query or InstrumentQuery())


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[-80:]
