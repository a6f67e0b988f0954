"""Command line: a thin layer where each command calls one library function.

    matcher match TEXT [--region CODE] [--applicant-type TYPE] [--budget EUR] [--trl N] [--partners N] [--stage S]
                       [--as-of YYYY-MM-DD] [--top K] [--json | --format table|json|jsonl|csv]
    matcher triage INPUT --output OUTPUT [--top K] [--delimiter D] [--encoding E] [--sheet NAME]
    matcher validate | audit | build | instruments [ID] | evaluate

Exit status 0 on success, 2 on bad input or corpus errors (one line naming what is wrong, no traceback), 130 when
interrupted, 141 when the reader of standard output goes away.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from matcher import __version__, app
from matcher.errors import InputError, MatcherError
from matcher.records import (
    APPLICANT_TYPES,
    DEFAULT_TOP,
    MAX_PARTNERS,
    REGION_CODES,
    Instrument,
    Level,
    Match,
    MatchResult,
    Proposal,
    Stage,
)
from matcher.records.amounts import AmountError, parse_amount
from matcher.records.messages import describe
from matcher.settings import Settings, split_paths
from matcher.text.i18n import DEFAULT_LANGUAGE, LANGUAGES, amount, fact_value, gettext, label

EXIT_BAD_INPUT = 2  # bad input or corpus: one line on standard error naming the file, row, field and value
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_BROKEN_PIPE = 141  # the reader of standard output went away (128 + SIGPIPE, as a shell reports it)


def default_language(environ: Mapping[str, str] = os.environ) -> str:
    """'en' when the locale (LC_ALL, LC_MESSAGES, LANG, in that order) is English, else 'nl'."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return "en" if value.lower().startswith("en") else "nl"
    return DEFAULT_LANGUAGE


PROGRESS_MIN_ROWS = 20
FORMATS = ("table", "json", "jsonl", "csv")
STAGES = typing.get_args(Stage)


# -- argument types: reject bad values at the edge with the value in the message ----------------------------------
def _region(value: str) -> str:
    code = value.strip().upper()
    if code not in REGION_CODES:
        raise argparse.ArgumentTypeError(f"unknown region {value!r}; use one of {', '.join(REGION_CODES)}")
    return code


def _budget(value: str) -> float:
    try:
        return parse_amount(value)
    except AmountError as exc:
        raise argparse.ArgumentTypeError(f"budget {value!r}: {exc}") from None


def _int_range(name: str, lo: int, hi: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} {value!r} is not a whole number") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"{name} {value!r} must be between {lo} and {hi}")
        return n

    return parse


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date {value!r} is not YYYY-MM-DD") from None


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpora", type=Path, help="corpora folder (default: bundled corpora/, or $MATCHER_CORPORA)")
    common.add_argument("--model", help="encoder name or path (default: use-multilingual-v3, or $MATCHER_MODEL)")
    common.add_argument("--artefacts", type=Path, help="folder for built indexes (default: ~/.cache/regio-matcher)")
    common.add_argument(
        "--h2020", type=Path, metavar="DIR", help="CORDIS H2020 folder: prior for cross-border partner regions"
    )
    common.add_argument(
        "--extra",
        action="append",
        metavar="DIR",
        help="imported corpus folder(s) to load with the corpora (repeatable or comma-separated; $MATCHER_EXTRA)",
    )
    common.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=default_language(),
        help="language of explanations and labels (default: from the locale)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log progress to standard error")

    parser = argparse.ArgumentParser(prog="matcher", description="Match project proposals to funding instruments.")
    parser.add_argument("--version", action="version", version=f"matcher {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    m = sub.add_parser("match", parents=[common], help="match one proposal (TEXT, or - for standard input)")
    m.add_argument("text", metavar="TEXT", nargs="?", default="-", help="the proposal; - or nothing: standard input")
    m.add_argument("--region", type=_region, help="province or region code, e.g. NL-GE")
    m.add_argument("--applicant-type", choices=APPLICANT_TYPES)
    m.add_argument("--budget", type=_budget, help="total project budget in euros: 250000, 250.000, 1,5 miljoen, 35k")
    m.add_argument("--trl", type=_int_range("TRL", 1, 9), help="technology readiness level 1-9")
    m.add_argument("--partners", type=_int_range("partners", 1, MAX_PARTNERS), help="organisations in the consortium")
    m.add_argument("--stage", choices=STAGES, help="project stage (read from the text when not given)")
    m.add_argument("--as-of", type=_date, help="date to judge deadlines at (default: today)")
    m.add_argument("--top", type=_int_range("top", 1, 500), default=DEFAULT_TOP)
    m.add_argument("--json", action="store_true", help="print the match JSON (same as --format json)")
    m.add_argument(
        "--format", choices=FORMATS, help="table (default), json, jsonl (one line) or csv (one row per match)"
    )

    t = sub.add_parser("triage", parents=[common], help="match every proposal of a CSV, JSONL or .xlsx file")
    t.add_argument("input", type=Path, metavar="INPUT")
    _batch_options(t)
    t.add_argument(
        "--output",
        type=Path,
        required=True,
        help="JSONL file to write, or .xlsx, .csv or .tsv for a table (complete or not at all)",
    )
    t.add_argument("--top", type=_int_range("top", 1, 500), default=DEFAULT_TOP)
    t.add_argument("--as-of", type=_date, help="date for rows without as_of (default: today)")

    sub.add_parser("validate", parents=[common], help="check the corpora and report every problem")
    au = sub.add_parser("audit", parents=[common], help="per instrument record, what needs attention on a day")
    au.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="day to audit for (default: today)")
    au.add_argument("--json", action="store_true", help="print the findings as JSON")
    b = sub.add_parser("build", parents=[common], help="build (or rebuild) the index for the corpora and model")
    b.add_argument("--force", action="store_true", help="rebuild even when the stored index is current")

    i = sub.add_parser("instruments", parents=[common], help="list instruments, or show one by id")
    i.add_argument("id", nargs="?")
    i.add_argument("--level", choices=typing.get_args(Level))
    i.add_argument("--region", type=_region)
    i.add_argument("--theme", help="only instruments with this theme id")
    i.add_argument("--applicant-type", choices=APPLICANT_TYPES, help="only instruments this applicant may apply for")
    i.add_argument("--open-on", type=_date, metavar="YYYY-MM-DD", help="only instruments not closed on this day")
    i.add_argument(
        "--as-of", type=_date, metavar="YYYY-MM-DD", help="day that status, opens and closes are derived for (today)"
    )
    i.add_argument("--json", action="store_true", help="print JSON (same as --format json)")
    i.add_argument("--format", choices=FORMATS, help="table (default), json, jsonl (one instrument per line) or csv")

    s = sub.add_parser("serve", parents=[common], help="run the HTTP API (see /docs for the endpoints)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=_int_range("port", 1, 65535), default=8000)
    s.add_argument("--workers", type=_int_range("workers", 1, 64), default=1)

    e = sub.add_parser("evaluate", parents=[common], help="score the engine and baselines on labelled cases")
    e.add_argument("--cases", type=Path, help="dev cases YAML (default: corpora/dev_cases.yaml)")
    e.add_argument("--as-of", type=_date, default=dt.date(2026, 11, 30), help="date for cases without as_of")
    e.add_argument("--routing", type=Path, help="also route a list of operations (CSV with fund EFRO/ESF)")
    e.add_argument("--crosslingual", type=Path, help="also score Dutch/English case pairs (needs --extra FT topics)")
    e.add_argument("--real", type=Path, help="cases from real funded projects (default: corpora/dev_cases_real.yaml)")
    e.add_argument(
        "--out-of-scope", type=Path, help="real out-of-scope requests (default: corpora/out_of_scope_real.yaml)"
    )
    e.add_argument("--partner-cases", type=Path, help="real partner cases (default: corpora/partner_cases_real.yaml)")
    g = sub.add_parser("gaps", parents=[common], help="gap analysis of a batch of proposals (HTML report + CSVs)")
    g.add_argument(
        "input", type=Path, metavar="INPUT", help="CSV, JSONL or .xlsx of proposals, as for `matcher triage`"
    )
    _batch_options(g)
    g.add_argument("--as-of", type=_date, required=True, help="date to judge open calls and deadlines at")
    g.add_argument("--report", type=Path, required=True, help="HTML file to write; the CSVs go beside it")
    g.add_argument("--window-days", type=_int_range("window-days", 0, 3650), default=90, help="closing-soon window")
    g.add_argument("--theme", help="only proposals and instruments with this theme id")
    g.add_argument("--region", type=_region, help="only proposals in this region and instruments covering it")
    g.add_argument("--top", type=_int_range("top", 1, 500), default=DEFAULT_TOP)

    imp = sub.add_parser("import", help="import a real export (F&T topics, list of operations) into a corpus folder")
    kinds = imp.add_subparsers(dest="kind", required=True)
    ft = kinds.add_parser("ft-topics", parents=[common], help="EU Funding & Tenders topics (JSONL) -> instruments")
    ft.add_argument("path", type=Path, metavar="PATH")
    ft.add_argument("--as-of", type=_date, default=dt.date.today(), help="date for status and source (default: today)")
    ops = kinds.add_parser("operations", parents=[common], help="list of operations (CSV) -> funded projects")
    ops.add_argument("path", type=Path, metavar="PATH")
    ops.add_argument("--encoding", default="utf-8", help="encoding of the CSV file (default: utf-8)")
    for kind in (ft, ops):
        kind.add_argument("--out", type=Path, required=True, help="folder to write; load it with --extra DIR")
        kind.add_argument("--strict", action="store_true", help="stop at the first bad record (nothing is written)")

    ref = sub.add_parser("refresh", help="fetch current F&T topics or CVDR subsidy schemes into a corpus folder")
    sources = ref.add_subparsers(dest="source", required=True)
    rft = sources.add_parser("ft-topics", parents=[common], help="open and forthcoming F&T topics (portal search API)")
    rcv = sources.add_parser("cvdr", parents=[common], help="provincial and municipal subsidy schemes (CVDR, SRU)")
    rcv.add_argument("--creator", action="append", default=[], metavar="NAME", help="only this province/municipality")
    for source in (rft, rcv):
        source.add_argument("--out", type=Path, required=True, help="folder to update; load it with --extra DIR")
        source.add_argument("--as-of", type=_date, default=dt.date.today(), help="date for status and source (today)")
        source.add_argument("--max-pages", type=_int_range("max-pages", 1, 1000), default=50, help="refuse above this")

    w = sub.add_parser("watch", help="saved profiles: alerts for new rounds and deadlines of their best matches")
    acts = w.add_subparsers(dest="action", required=True)
    wa = acts.add_parser("add", parents=[common], help="save (or replace) a profile")
    wa.add_argument("name", type=_profile_name, metavar="NAME", help="1-64 characters a-z, 0-9, - and _")
    wa.add_argument("--text", required=True, help="the project, as for `matcher match` (- for standard input)")
    wa.add_argument("--region", type=_region, help="province or region code, e.g. NL-GE")
    wa.add_argument("--applicant-type", choices=APPLICANT_TYPES)
    wa.add_argument("--budget", type=_budget, help="total project budget in euros")
    wa.add_argument("--top", type=_int_range("top", 1, 100), default=DEFAULT_TOP, help="top matches to watch")
    acts.add_parser("list", parents=[common], help="list the saved profiles")
    wr = acts.add_parser("remove", parents=[common], help="delete a saved profile")
    wr.add_argument("name", type=_profile_name, metavar="NAME")
    wn = acts.add_parser("run", parents=[common], help="per profile, what is new since its last run")
    wn.add_argument("--since", type=_date, help="report what is new since this day (instead of the last run)")
    wn.add_argument("--as-of", type=_date, help="day of the run (default: today)")
    wn.add_argument("--days", type=_int_range("days", 0, 3650), default=14, help="deadlines within N days (14)")
    wn.add_argument("--json", action="store_true", help="print the reports as JSON")
    for act in (wa, acts.choices["list"], wr, wn):
        act.add_argument("--db", type=Path, help="SQLite file (default: $MATCHER_DB, else the service's database)")
    return parser


def _profile_name(value: str) -> str:
    try:
        return app.check_name(value)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# -- commands ---------------------------------------------------------------------------------------------------
def _settings(args: argparse.Namespace) -> Settings:
    extra = split_paths(args.extra) if args.extra else None
    return Settings.from_env(
        corpora=args.corpora, model=args.model, artefacts=args.artefacts, h2020=args.h2020, extra=extra
    )


def _read_text(value: str) -> str:
    return sys.stdin.read() if value == "-" else value


def cmd_match(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    fields = {"region": args.region, "applicant_type": args.applicant_type, "budget_eur": args.budget}
    fields |= {"trl": args.trl, "partners": args.partners, "stage": args.stage, "as_of": args.as_of}
    try:
        proposal = Proposal(text=_read_text(args.text), **fields)
    except ValidationError as exc:
        raise InputError(describe(exc.errors()[0])) from None
    result = app.match(app.load_matcher(_settings(args)), proposal, top_k=args.top, lang=args.lang)
    form = _format(args)
    if form == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    elif form == "jsonl":
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    elif form == "csv":
        _write_csv(MATCH_COLUMNS, [_match_row(n, m) for n, m in enumerate(result.matches, 1)])
    else:
        print(render(result, args.lang))
    return 0


def _format(args: argparse.Namespace) -> str:
    """The output format asked for: --format, else --json, else the table."""
    if args.format is not None:
        if args.json and args.format != "json":
            raise InputError(f"--json and --format {args.format} ask for two formats; give one")
        return str(args.format)
    return "json" if args.json else "table"


MATCH_COLUMNS = ("rank", "instrument_id", "name", "level", "score", "eligibility", "not_met", "deadline", "source_url")


def _match_row(rank: int, m: Match) -> list[object]:
    not_met = "; ".join(
        f"{c.criterion}: {c.detail}" for c in m.checks if c.status != "met" and c.criterion != "deadline"
    )
    deadline = next((c.detail for c in m.checks if c.criterion == "deadline"), "")
    return [rank, m.instrument_id, m.name, m.level, f"{m.score:.4f}", m.eligibility, not_met, deadline, m.source_url]


def _write_csv(head: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    sys.stdout.write(app.csv_text(head, rows))  # cells a spreadsheet would run as formulas get a leading '"


def render(result: MatchResult, lang: str) -> str:
    """A readable table of one result for the terminal, labelled in `lang`; `result` is worded in `lang` already."""
    themes, score, fits = gettext(lang, "cli.themes"), gettext(lang, "cli.score"), gettext(lang, "cli.fits")
    instrument, name = gettext(lang, "cli.instrument"), gettext(lang, "cli.name")
    criteria = gettext(lang, "cli.criteria")
    badge = {
        "eligible": gettext(lang, "cli.eligibility.eligible"),
        "unknown": gettext(lang, "cli.eligibility.unknown"),
        "ineligible": gettext(lang, "cli.eligibility.ineligible"),
    }
    similar, partners = gettext(lang, "cli.similar_project"), gettext(lang, "cli.partners")
    marks = {"met": "+", "missed": "x", "unknown": "?"}
    lines = []
    if "weak_match" in result.flags:
        lines += [gettext(lang, "result.weak_match"), ""]
    if result.read_from_text:
        read = "; ".join(
            f"{label(lang, 'field', k)}: {fact_value(lang, k, f.value)} ({f.evidence})"
            for k, f in result.read_from_text.items()
        )
        lines += [f"{gettext(lang, 'cli.read_from_text')}: {read}"]
    lines += [f"{themes}: {', '.join(result.themes) or '-'}", ""]
    lines.append(f"{'#':>2}  {score:>5}  {fits:<4}  {instrument:<34}  {name}")
    for n, m in enumerate(result.matches, 1):
        lines.append(f"{n:>2}  {m.score:5.2f}  {badge[m.eligibility]:<4}  {m.instrument_id:<34}  {m.name[:60]}")
        for w in m.why:
            lines.append(f"{'':14}- {w}")
        checks = "; ".join(f"{marks[c.status]} {c.criterion}" for c in m.checks)
        if checks:
            lines.append(f"{'':14}  {criteria}: {checks}")
        # The round's dates, and any requirement missed: what decides whether the applicant can apply now.
        for c in m.checks:
            if c.criterion == "deadline" or (c.criterion == "requirement" and c.status != "met"):
                lines.append(f"{'':14}  {marks[c.status]} {c.detail}")
        if m.calls:
            heading = gettext(lang, "cli.calls")
            lines.append(f"{'':14}  {heading}:")
        for call in m.calls:
            when = f" - {call.deadline.detail}" if call.deadline is not None else ""
            lines.append(f"{'':16}{call.score:5.2f}  {call.instrument_id}: {call.name[:70]}{when}")
        for sp in m.similar_projects:
            funded = f", {amount(lang, sp.eu_subsidy_eur)} EU" if sp.eu_subsidy_eur is not None else ""
            where = ", ".join(str(x) for x in (sp.fund, sp.year, sp.province) if x)
            about = f"{sp.title[:60]} ({sp.beneficiary[:40]}; {where}{funded})"
            lines.append(f"{'':14}  {similar}: {about} {sp.similarity:.2f}")
    if result.partner_regions:
        lines += ["", f"{partners}:"]
        lines += [f"  {p.region:<7} {p.name:<20} {p.score:.2f}  {'; '.join(p.why[:3])}" for p in result.partner_regions]
    elif result.matches:
        none = gettext(lang, "partners.none_weak") if "weak_match" in result.flags else gettext(lang, "partners.none")
        lines += ["", none]
    return "\n".join(lines)


def cmd_import(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.kind == "ft-topics":
        target, report = app.import_ft_topics(settings, args.path, args.out, args.as_of, args.strict)
    else:
        target, report = app.import_operations(settings, args.path, args.out, args.strict, args.encoding)
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    print(f"{report.summary()}; wrote {target}")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.source == "ft-topics":
        result = app.refresh_ft_topics(settings, args.out, args.as_of, args.max_pages)
    else:
        result = app.refresh_cvdr(settings, args.out, args.as_of, args.creator, args.max_pages)
    for problem in result.problems:
        print(f"skipped {problem}", file=sys.stderr)
    print("\n".join([result.summary(), result.changes.summary(), *result.changes.lines()]))
    return 0


DELIMITER_WORDS = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t"}


def _batch_options(parser: argparse.ArgumentParser) -> None:
    """How to read a batch file where detection is not wanted: the CSV delimiter and encoding, a workbook's sheet."""
    parser.add_argument("--delimiter", type=_delimiter, help="CSV delimiter: , ; or tab (default: detected)")
    parser.add_argument("--encoding", type=_encoding, help="CSV encoding, e.g. cp1252 (default: utf-8, else cp1252)")
    parser.add_argument("--sheet", metavar="NAME", help="the sheet of an .xlsx to read (default: the first)")


def _delimiter(value: str) -> str:
    found = DELIMITER_WORDS.get(value.lower(), value)
    if len(found) != 1 or found in '"\r\n':
        raise argparse.ArgumentTypeError(f"delimiter {value!r}: one character, e.g. ',' ';' or 'tab'")
    return found


def _encoding(value: str) -> str:
    import codecs

    try:
        codecs.lookup(value)
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {value!r}; e.g. utf-8, cp1252 or latin-1") from None
    return value


def _read_batch(args: argparse.Namespace) -> list[Proposal]:
    """The proposals of `args.input`, saying on standard error how the file was read (delimiter, encoding, sheet)."""
    batch = app.read_batch_file(args.input, args.delimiter, args.encoding, args.sheet)
    print(f"{args.input}: {batch.detected}", file=sys.stderr)
    return batch.proposals


def cmd_triage(args: argparse.Namespace) -> int:
    proposals = _read_batch(args)
    if args.output.exists() and args.output.is_dir():
        raise InputError(f"{args.output}: output is a folder, expected a file name")
    matcher = app.load_matcher(_settings(args))
    bar = None
    if len(proposals) >= PROGRESS_MIN_ROWS:
        from tqdm import tqdm

        bar = tqdm(total=len(proposals), desc="triage", unit="proposal", file=sys.stderr)
    progress = bar.update if bar else None
    results = app.triage(matcher, proposals, args.top, args.as_of, args.lang, progress=progress, parallel=True)
    if bar:
        bar.close()
    app.write_results(args.output, results)
    print(f"wrote {len(results)} results to {args.output}", file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    print(app.validate(_settings(args)).line())
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Print per record what needs attention and a summary line; exit 1 only on contradictions."""
    report = app.audit(_settings(args), args.as_of)
    if args.json:
        rows = [
            {"instrument_id": r.instrument_id, "level": r.level, "findings": [vars(f) for f in r.findings]}
            for r in report.records
        ]
        print(json.dumps({"as_of": report.as_of.isoformat(), "records": rows}, ensure_ascii=False, indent=2))
    else:
        width = max((len(r.instrument_id) for r in report.records), default=10)
        for r in report.records:
            if r.findings:
                found = "; ".join(f"{f.kind}: {f.detail}" for f in r.findings)
                print(f"{r.instrument_id:<{width}} {r.level:<10} {found}")
    print(report.summary(), file=sys.stderr if args.json else sys.stdout)
    return 1 if report.contradictions else 0


def cmd_build(args: argparse.Namespace) -> int:
    man = app.build(_settings(args), force=args.force)
    print(
        f"index: {man['count']} passages of {man['instruments']} instruments, model {man['model']}, "
        f"dim {man['dimension']}, corpus {man['corpus_hash']}, built {man['built_at']}; "
        f"weak-match threshold {man['weak_match']:.4f}"
    )
    return 0


def _instrument_line(inst: Instrument, width: int, day: dt.date, calls: Sequence[Instrument]) -> str:
    """One instrument: id, level, type, area, its status on `day` (derived from its rounds and `calls`; `?` when
    unknown), name."""
    regions = ",".join(inst.regions)[:28]
    status = app.instrument_status(inst, day, calls) or "?"
    return f"{inst.id:<{width}} {inst.level:<10} {inst.instrument_type:<9} {regions:<28} {status:<8} {inst.name[:60]}"


def cmd_instruments(args: argparse.Namespace) -> int:
    corpus = app.load_corpus_from(_settings(args))
    form = _format(args)
    if args.id:
        data = app.instrument_json(corpus.instrument(args.id), args.as_of, corpus.calls_of(args.id))
        if form in ("json", "jsonl"):
            print(json.dumps(data, ensure_ascii=False, indent=2 if form == "json" else None))
            return 0
        for key, value in data.items():
            print(
                "\n".join([f"{key}:", *(f"  - {item}" for item in value)])
                if isinstance(value, list)
                else f"{key}: {value}"
            )
        return 0
    query = app.InstrumentQuery(args.level, args.region, args.theme, args.applicant_type, args.open_on)
    chosen = app.list_instruments(corpus, query)
    day = args.as_of or dt.date.today()
    if form == "json":
        found = [app.instrument_json(i, args.as_of, corpus.calls_of(i.id)) for i in chosen]
        print(json.dumps(found, ensure_ascii=False, indent=2))
    elif form == "jsonl":
        for i in chosen:
            print(json.dumps(app.instrument_json(i, args.as_of, corpus.calls_of(i.id)), ensure_ascii=False))
    elif form == "csv":
        head = ("id", "name", "level", "instrument_type", "regions", "status", "source_url")
        rows = [
            [i.id, i.name, i.level, i.instrument_type, ",".join(i.regions)]
            + [app.instrument_status(i, day, corpus.calls_of(i.id)) or "", str(i.source.url)]
            for i in chosen
        ]
        _write_csv(head, rows)
    else:
        width = max((len(i.id) for i in chosen), default=10)
        print("\n".join(_instrument_line(i, width, day, corpus.calls_of(i.id)) for i in chosen))
        print(f"{len(chosen)} instruments", file=sys.stderr)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    matcher = app.load_matcher(settings)
    real = args.real or (settings.real_cases if settings.real_cases.exists() else None)
    oos = args.out_of_scope or (settings.out_of_scope if settings.out_of_scope.exists() else None)
    partners = args.partner_cases or (settings.partner_cases if settings.partner_cases.exists() else None)
    cases = args.cases or settings.dev_cases
    tables = app.evaluate(
        matcher, cases, args.as_of, args.routing, args.crosslingual, real=real, out_of_scope=oos, partner_cases=partners
    )
    print(tables)
    return 0


def cmd_gaps(args: argparse.Namespace) -> int:
    proposals = _read_batch(args)
    matcher = app.load_matcher(_settings(args))
    options = {"window_days": args.window_days, "theme": args.theme, "region": args.region, "top_k": args.top}
    summary, paths = app.write_gap_report(matcher, proposals, args.as_of, args.report, args.lang, **options)
    print(summary)
    print(f"wrote {paths[0]} and {len(paths) - 1} CSV files beside it", file=sys.stderr)
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Saved profiles of this machine (owner `local`): add, list, remove, and run (what is new for each)."""
    from pydantic import ValidationError

    with app.open_watch_store(args.db) as store:
        if args.action == "add":
            fields = {"region": args.region, "applicant_type": args.applicant_type, "budget_eur": args.budget}
            try:
                proposal = Proposal(id=args.name, text=_read_text(args.text), **fields)
            except ValidationError as exc:
                raise InputError(describe(exc.errors()[0])) from None
            saved = store.save(app.LOCAL, args.name, proposal, args.top).name
            print(gettext(args.lang, "cli.watch.saved", name=saved))
        elif args.action == "list":
            for p in store.list(app.LOCAL):
                print(f"{p.name:<24} top {p.top:<3} last run {str(p.last_run or '-'):<10}  {p.proposal.text[:60]}")
        elif args.action == "remove":
            store.remove(app.LOCAL, args.name)
            print(gettext(args.lang, "cli.watch.removed", name=args.name))
        else:
            matcher = app.load_matcher(_settings(args))
            reports = app.watch_run(matcher, store, app.LOCAL, args.as_of, args.since, args.days, args.lang)
            if args.json:
                print(json.dumps({"profiles": [r.to_dict(args.lang) for r in reports]}, ensure_ascii=False, indent=2))
                return 0
            for r in reports:
                head = gettext(args.lang, "cli.watch.new", count=len(r.items), since=r.since, day=r.as_of)
                print(f"{r.profile}: {head}")
                for i in r.items:
                    dates = f"{i.opens or '...'} - {i.closes or '...'}"
                    print(f"  {i.score:5.2f}  {i.instrument_id:<34} {dates:<23}  {i.name[:50]}: {i.why(args.lang)}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from service.app import serve  # the service is an optional layer over the library

    serve(_settings(args), host=args.host, port=args.port, workers=args.workers)
    return 0


COMMANDS = {
    "match": cmd_match,
    "triage": cmd_triage,
    "validate": cmd_validate,
    "audit": cmd_audit,
    "build": cmd_build,
    "instruments": cmd_instruments,
    "evaluate": cmd_evaluate,
    "serve": cmd_serve,
    "gaps": cmd_gaps,
    "import": cmd_import,
    "refresh": cmd_refresh,
    "watch": cmd_watch,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except MatcherError as exc:
        print(f"matcher: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader went away (`matcher match ... | head -1`): stop quietly, as Unix tools do on SIGPIPE. Python's
        # advice: point stdout at devnull so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # a file that cannot be read or written (permissions, a full disk, /proc): the path named
        print(f"matcher: error: {os_problem(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("matcher: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def os_problem(exc: OSError) -> str:
    """One line for a file-system error: the path(s) and the system's reason, e.g.
    "/proc/out.jsonl: cannot write or read here: No such file or directory"."""
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{paths}: cannot write or read here: {reason}" if paths else f"file system: {reason}"


if __name__ == "__main__":
    sys.exit(main())
