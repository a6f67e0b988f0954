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
import os
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.analysis.watch import DEFAULT_DAYS, WatchItem, WatchReport, unreported, watch_items
from matcher.io.batch import MAX_ROWS, Batch, load_batch, load_batch_file, proposal_from_row, write_results_file
from matcher.io.corpus import Corpus, load_corpus, load_dev_cases, load_partner_cases
from matcher.io.sheets import csv_text, safe_cell
from matcher.io.watch import LOCAL, Profile, UnknownProfileError, WatchStore, check_name
from matcher.io.workbook import MATCH_COLUMNS, UPLOAD_UNPACKED_BYTES, match_rows
from matcher.records import DEFAULT_TOP, DevCase, Instrument, Level, MatchResult, Proposal
from matcher.records.threshold import Threshold
from matcher.rules.availability import status_on, window
from matcher.rules.catalogue import InstrumentQuery, select
from matcher.settings import Settings, default_db
from matcher.text.i18n import DEFAULT_LANGUAGE, localise

if TYPE_CHECKING:  # the engine's modules load models, faiss and scikit-learn: imported where they are used
    import httpx

    from matcher.analysis.audit import AuditReport
    from matcher.analysis.gaps import GapReport
    from matcher.io.importers.import_report import ImportReport
    from matcher.io.refresh import RefreshResult
    from matcher.pipeline.matcher import Matcher

log = logging.getLogger(__name__)
Progress = Callable[[int], None]

__all__ = [
    "DEFAULT_TOP",
    "Threshold",
    "CorpusSummary",
    "InstrumentQuery",
    "build",
    "MATCH_COLUMNS",
    "csv_text",
    "match_rows",
    "safe_cell",
    "evaluate",
    "gap_analysis",
    "import_ft_topics",
    "import_operations",
    "refresh_cvdr",
    "refresh_ft_topics",
    "list_instruments",
    "load_corpus_from",
    "load_matcher",
    "match",
    "parse_batch",
    "proposals_from_rows",
    "read_batch",
    "read_batch_file",
    "threshold_of",
    "triage",
    "validate",
    "write_gap_report",
    "write_results",
    "LOCAL",
    "Profile",
    "UnknownProfileError",
    "WatchItem",
    "WatchReport",
    "WatchStore",
    "check_name",
    "open_watch_store",
    "watch_db",
    "watch_reports",
    "watch_run",
]


# -- loading ---------------------------------------------------------------------------------------------------------
def load_corpus_from(settings: Settings) -> Corpus:
    """The validated corpus of the settings (bundled corpora plus `extra` folders); no model is loaded."""
    return load_corpus(settings.corpora, extra=settings.extra)


def load_matcher(settings: Settings, rebuild: bool = False) -> Matcher:
    """The matcher of the settings, with built artefacts (loaded, or built and stored) and the calibrated threshold."""
    from matcher.analysis.calibration import load_or_calibrate
    from matcher.analysis.examples import load_or_encode
    from matcher.analysis.partner_model import load_or_train as load_partner_model
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
    plain = Matcher(corpus, encoder, emb, h2020=h2020)
    examples = load_or_encode(plain, settings.real_cases, settings.partner_cases, settings.artefacts)
    matcher = plain.with_examples(examples)
    threshold = load_or_calibrate(matcher, settings.dev_cases, settings.artefacts)
    log.info("weak-match threshold %.4f (%s)", threshold.value, threshold.method)
    calibrated = matcher.with_weak_match(threshold.value, calibration=threshold)
    scope = load_or_train(
        calibrated, settings.dev_cases, settings.real_cases, settings.out_of_scope, settings.artefacts
    )
    scoped = calibrated.with_scope(scope)
    model = load_partner_model(scoped, settings.partner_cases, settings.artefacts)
    return scoped.with_partner_model(model)


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


def read_batch(
    path: Path, delimiter: str | None = None, encoding: str | None = None, sheet: str | None = None
) -> list[Proposal]:
    """Proposals of a CSV, JSONL or .xlsx file (see `io.batch`); errors name the file, row, field and value."""
    return read_batch_file(path, delimiter, encoding, sheet).proposals


def read_batch_file(
    path: Path, delimiter: str | None = None, encoding: str | None = None, sheet: str | None = None
) -> Batch:
    """As `read_batch`, with how the file was read (`Batch.detected`: "delimiter ';', encoding cp1252")."""
    return load_batch_file(path, delimiter=delimiter, encoding=encoding, sheet=sheet)


def parse_batch(data: bytes, name: str, max_rows: int = MAX_ROWS) -> list[Proposal]:
    """Proposals of an uploaded file's bytes (CSV, JSONL or .xlsx by `name`), read as `read_batch` reads a file; a
    workbook may unpack to at most `io.workbook.UPLOAD_UNPACKED_BYTES`, and reading stops past `max_rows` rows."""
    return load_batch(data, name, max_unpacked=UPLOAD_UNPACKED_BYTES, max_rows=max_rows).proposals


def write_results(path: Path, results: Sequence[MatchResult]) -> None:
    """The results as JSONL, one line per proposal in input order, or as a table (one row per proposal and match)
    when `path` ends in .xlsx, .csv or .tsv; the file appears whole or not at all."""
    write_results_file(path, results)


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
    corpus = matcher.corpus
    return summary(report), write_report(report, target, lang, corpus.theme_names(lang), corpus.region_names(lang))


def evaluate(
    matcher: Matcher,
    cases: Path,
    as_of: dt.date,
    routing: Path | None = None,
    crosslingual: Path | None = None,
    real: Path | None = None,
    out_of_scope: Path | None = None,
    partner_cases: Path | None = None,
) -> str:
    """The evaluation tables as text: the written dev cases (engine and baselines on `as_of`, where a closed round
    ranks an instrument after the others, and the engine on fit alone, without the deadline check); with `real`, the
    cases taken from real funded projects, with their form fields and as text only; with `out_of_scope`, how the
    weak-match decision separates real out-of-scope requests from in-scope proposals; with `partner_cases`, the partner
    regions on real collaborations against the neighbour baseline; optionally fund routing and the cross-lingual
    pairs."""
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
    if partner_cases is not None:
        from matcher.analysis.partner_model import evaluate as evaluate_partners
        from matcher.analysis.partner_model import format_report

        found_cases = load_partner_cases(partner_cases, matcher.corpus)
        report = evaluate_partners(matcher, found_cases, as_of)
        parts += ["", "Partner regions (real collaborative projects, each without the evidence of its own project):"]
        parts += [format_report(report, len(found_cases), partner_cases.name)]
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
    mappings = corpus.mappings
    return import_ft_topics_to(
        path, out, as_of, strict, corpus.themes, programmes=mappings.ft_programmes, parents=mappings.ft_parents
    )


def import_operations(
    settings: Settings, path: Path, out: Path, strict: bool = False, encoding: str = "utf-8"
) -> tuple[Path, ImportReport]:
    """A structural-funds list of operations (CSV) into funded projects in `out/projects.jsonl` (provinces read with
    the corpus's gazetteer)."""
    from matcher.io.importers import import_operations_to

    places = load_corpus(settings.corpora).places
    return import_operations_to(path, out, strict, encoding, places=places)


def refresh_ft_topics(
    settings: Settings, out: Path, as_of: dt.date, max_pages: int = 50, transport: httpx.BaseTransport | None = None
) -> RefreshResult:
    """Open and forthcoming EU Funding & Tenders topics from the portal's search API into `out/ft-topics.yaml`
    (imported as `import_ft_topics` does), with what changed since the folder's previous content."""
    from matcher.io.refresh import FtSearch
    from matcher.io.refresh import refresh_ft_topics as refresh

    mappings = (corpus := load_corpus(settings.corpora)).mappings
    search = FtSearch(transport, max_pages=max_pages)
    return refresh(out, as_of, search, corpus.themes, programmes=mappings.ft_programmes, parents=mappings.ft_parents)


def refresh_cvdr(
    settings: Settings,
    out: Path,
    as_of: dt.date,
    creators: Sequence[str] = (),
    max_pages: int = 50,
    transport: httpx.BaseTransport | None = None,
) -> RefreshResult:
    """Provincial and municipal subsidy schemes in force from CVDR (of `creators` only, when given) into
    `out/cvdr.yaml`, themed and placed with the corpus's taxonomy and gazetteer, with what changed."""
    from matcher.io.refresh import CvdrSearch
    from matcher.io.refresh import refresh_cvdr as refresh

    corpus = load_corpus(settings.corpora)
    search = CvdrSearch(transport, creators, max_pages=max_pages)
    return refresh(out, as_of, search, corpus.themes, places=corpus.places)


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
    partner_cases: int = 0
    joint_projects: int = 0

    def line(self) -> str:
        levels = ", ".join(f"{k} {v}" for k, v in self.levels.items() if v)
        projects = f", {self.projects} funded projects" if self.projects else ""
        if self.partner_cases or self.joint_projects:
            projects += f", {self.partner_cases} partner cases, {self.joint_projects} joint projects as evidence"
        return (
            f"ok: {self.instruments} instruments ({levels}), {self.themes} themes, {self.regions} regions, "
            f"{self.collaborations} collaborations, {self.dev_cases} dev cases{projects}; corpus hash {self.hash}"
        )


def validate(settings: Settings) -> CorpusSummary:
    """Check every corpus file, the dev cases and the partner cases; raises `CorpusError` listing every problem."""
    corpus = load_corpus_from(settings)
    cases = load_dev_cases(settings.dev_cases, corpus) if settings.dev_cases.exists() else []
    if settings.real_cases.exists():
        load_dev_cases(settings.real_cases, corpus)
    partner_cases = load_partner_cases(settings.partner_cases, corpus) if settings.partner_cases.exists() else []
    levels = {lvl: sum(i.level == lvl for i in corpus.instruments) for lvl in typing.get_args(Level)}
    return CorpusSummary(
        instruments=len(corpus.instruments),
        levels=levels,
        themes=len(corpus.themes),
        regions=len(corpus.regions),
        collaborations=len(corpus.collaborations),
        dev_cases=len(cases),
        projects=len(corpus.projects),
        partner_cases=len(partner_cases),
        joint_projects=len(corpus.joint_projects),
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


def instrument_status(inst: Instrument, as_of: dt.date, calls: Sequence[Instrument] = ()) -> str | None:
    """The contract's `status` of `inst` (a programme with `calls`, if any) on `as_of`, derived from its rounds and
    calls; None when they do not tell."""
    return status_on(inst, as_of, calls)[0]


def instrument_json(inst: Instrument, as_of: dt.date | None = None, calls: Sequence[Instrument] = ()) -> dict[str, Any]:
    """An instrument as JSON with the contract's `status`, `opens`, `closes` derived from its rounds on `as_of`.

    `status` is `open`, `rolling`, `expected` or `closed`, and left out when the rounds do not tell (availability
    unknown); `availability` adds the engine's reading (`open`, `uncertain`, `closed`) and its reason code. A
    programme with `calls` (`corpus.calls_of`) is read over them too, and lists their ids under `calls`.
    """
    day = as_of or dt.date.today()
    data = inst.model_dump(mode="json", exclude_none=True)
    found = window(inst, day, calls)
    status, opens, closes = status_on(inst, day, calls)
    derived = {"status": status, "opens": opens and opens.isoformat(), "closes": closes and closes.isoformat()}
    data.update({k: v for k, v in derived.items() if v is not None})
    data["availability"] = {"as_of": day.isoformat(), "state": found.state, "code": found.code, **found.params}
    if calls:
        data["calls"] = [c.id for c in calls]
    return data


def list_instruments(corpus: Corpus, query: InstrumentQuery | None = None) -> list[Instrument]:
    """The instruments passing every filter of `query` (the one filter of `rules.catalogue`), in corpus order."""
    return select(corpus, query or InstrumentQuery())


# -- saved profiles and alerts ---------------------------------------------------------------------------------------
def watch_db() -> Path:
    """The database file of saved profiles: $MATCHER_DB, else the service's default (`feedback.sqlite3` in the cache
    folder), so `matcher watch` and the service share one file."""
    return Path(os.environ.get("MATCHER_DB") or default_db())


def open_watch_store(path: Path | None = None) -> WatchStore:
    """The profile store in `path` (default `watch_db()`), its tables created when absent."""
    return WatchStore.open(path or watch_db())


def watch_reports(
    matcher: Matcher,
    profiles: Sequence[Profile],
    as_of: dt.date,
    since: dt.date | None = None,
    days: int = DEFAULT_DAYS,
    lang: str = DEFAULT_LANGUAGE,
) -> list[WatchReport]:
    """What is news for each profile on `as_of` (`analysis.watch`): rounds opened since `since` (else since the
    profile's last run, else `days` before `as_of`) and deadlines within `days`; nothing is stored or left out."""
    top = max((p.top for p in profiles), default=DEFAULT_TOP)
    results = triage(matcher, [p.proposal.model_copy(update={"as_of": as_of}) for p in profiles], top, lang=lang)
    reports = []
    for profile, result in zip(profiles, results, strict=True):
        start = since or profile.last_run or as_of - dt.timedelta(days=days)
        kept = result.model_copy(update={"matches": result.matches[: profile.top]})
        items = watch_items(kept, matcher.corpus, as_of, start, days, matcher.weak_match)
        reports.append(WatchReport(profile.name, as_of, start, days, tuple(items)))
    return reports


def watch_run(
    matcher: Matcher,
    store: WatchStore,
    owner: str = LOCAL,
    as_of: dt.date | None = None,
    since: dt.date | None = None,
    days: int = DEFAULT_DAYS,
    lang: str = DEFAULT_LANGUAGE,
) -> list[WatchReport]:
    """Run every profile of `owner`: report what its last run did not (everything news since `since` when given),
    and store per profile the run's date and the keys that qualified."""
    day = as_of or dt.date.today()
    profiles = store.list(owner)
    reports = watch_reports(matcher, profiles, day, since, days, lang) if profiles else []
    found = []
    for profile, report in zip(profiles, reports, strict=True):
        try:
            store.record_run(owner, profile.name, day, {k for item in report.items for k in item.keys()})
        except UnknownProfileError:  # removed while the matcher ran: nothing to report or store
            continue
        new = report.items if since is not None else tuple(unreported(report.items, profile.reported))
        found.append(WatchReport(report.profile, day, report.since, days, tuple(new)))
    return found


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[-80:]
