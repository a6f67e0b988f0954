"""Write docs/evaluation.md: every quality and scale figure of the engine, with the commands and the date.

    .venv/bin/python scripts/evaluation_report.py [--data ../shared/data] [--out docs/evaluation.md]
        [--models use-multilingual-v3 all-MiniLM-L6-v2] [--index-sizes 100k 1M | --index-sizes none]

Sections: dev cases (each encoder), fund routing on the real list of structural-fund operations, the cross-lingual
check against the imported Funding & Tenders topics, latency and
memory with the F&T topics imported next to the bundled corpus, and the vector-index benchmark (exact vs HNSW).
Sections that need the real data in `--data` say so and are skipped when it is absent. Figures depend on the
machine's load; the report records the date, the machine's core count and every command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from matcher import Proposal, Settings, app, load_corpus, load_dev_cases
from matcher.analysis.crosslingual import evaluate_pairs, format_pairs_table, load_pairs
from matcher.analysis.fund_routing import read_operations, routing_table
from matcher.io.atomic import write_bytes
from matcher.io.importers import import_ft_topics_to, import_operations_to

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 12, 1)
TOPICS = Path("eu-ft-calls-2026/topics.jsonl")
OPERATIONS = Path("nl-structural-funds-2007-2013/projects_dev.csv")
FT_AS_OF = dt.date(2026, 8, 1)  # the topics were harvested in August 2026; the case pairs are dated so too


INDEX_NOTE = (
    "## Vector index: exact against HNSW on synthetic clustered vectors\n\n"
    "Not rerun by this report (`--index-sizes none`): the last run at 100k and 1M vectors is in "
    "[index-benchmark.md](index-benchmark.md).\n"
)


def section(title: str, command: str, body: str, note: str = "") -> str:
    parts = [f"## {title}", "", f"`{command}`", "", body]
    if note:
        parts += ["", note]
    return "\n".join(parts) + "\n"


def timed(label: str, fn: Callable[[], str]) -> str:
    start = time.perf_counter()
    out = fn()
    print(f"{label}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return out


def dev_cases(settings: Settings) -> str:
    """What `matcher evaluate` prints: the written cases, the real funded projects (form fields, text only), the
    out-of-scope detection (in use and cross-validated) and the partner regions on real collaborations."""
    matcher = app.load_matcher(settings)
    cases = load_dev_cases(settings.dev_cases, matcher.corpus)
    with_partners = sum(1 for c in cases if c.partner_regions)
    langs = f"{sum(c.lang == 'nl' for c in cases)} Dutch / {sum(c.lang == 'en' for c in cases)} English"
    tables = app.evaluate(
        matcher,
        settings.dev_cases,
        AS_OF,
        real=settings.real_cases,
        out_of_scope=settings.out_of_scope,
        partner_cases=settings.partner_cases,
    )
    return f"{tables}\n\nWritten cases: {langs}; partner hit@3 over the {with_partners} cases that name partners."


def routing(settings: Settings, data: Path) -> str:
    matcher = app.load_matcher(settings)
    return routing_table(matcher, read_operations(data / OPERATIONS))


def crosslingual(settings: Settings, pairs_file: Path) -> str:
    matcher = app.load_matcher(settings)
    pairs = load_pairs(pairs_file, matcher.corpus)
    rows = evaluate_pairs(matcher, pairs, AS_OF)
    return format_pairs_table(rows, len(pairs), matcher.encoder.name, len(matcher.instruments))


def scale(settings: Settings) -> str:
    start = time.perf_counter()
    matcher = app.load_matcher(settings, rebuild=True)
    build_s = time.perf_counter() - start
    cases = load_dev_cases(settings.dev_cases, matcher.corpus)
    proposals = [Proposal(id=c.id, text=c.text, region=c.region) for c in cases]
    matcher.match_batch(proposals[:10], as_of=AS_OF)
    latencies = []
    for p in proposals:
        t0 = time.perf_counter()
        matcher.match(p, as_of=AS_OF)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return "\n".join(
        [
            "| figure | value |",
            "|---|---|",
            f"| instruments (bundled + imported) | {len(matcher.instruments)} |",
            f"| passages in the index | {len(matcher.embeddings.passages)} |",
            f"| load + index build, cold | {build_s:.1f} s |",
            f"| single match, warm ({len(latencies)} dev-case texts) | p50 {statistics.median(latencies):.1f} ms, "
            f"p95 {p95:.1f} ms |",
            f"| peak memory of this report process so far | {rss:.0f} MiB |",
        ]
    )


def index_benchmark(sizes: list[str]) -> str:
    command = [sys.executable, str(ROOT / "scripts" / "index_benchmark.py"), "--markdown", "--sizes", *sizes]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    table = [line for line in lines if line.startswith("|")]
    notes = [line for line in lines if line.startswith(("synthetic", "1000 queries", "peak RSS"))]
    return "\n".join([*table, "", *notes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="folder of the real data")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "evaluation.md")
    parser.add_argument("--models", nargs="+", default=["use-multilingual-v3", "all-MiniLM-L6-v2"])
    parser.add_argument("--index-sizes", nargs="+", default=["100k", "1M"], help="'none' skips the index benchmark")
    parser.add_argument("--pairs", type=Path, default=ROOT / "corpora" / "dev_cases_crosslingual.yaml")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="evaluation-"))
    base = Settings.from_env(artefacts=work / "artefacts")
    have_data = (args.data / TOPICS).exists() and (args.data / OPERATIONS).exists()
    parts = [
        "# Evaluation",
        "",
        f"Written by `.venv/bin/python scripts/evaluation_report.py` on {dt.date.today()} "
        f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}); "
        f"dates in the cases are checked as of {AS_OF}. Regenerate it when the figures change.",
        "",
    ]

    for model in args.models:
        parts.append(
            section(
                f"Dev cases, encoder {model}",
                f"matcher evaluate --model {model} --as-of {AS_OF}",
                timed(f"dev cases {model}", lambda m=model: dev_cases(replace(base, model=m))),
                "Hybrid is the engine (dense + lexical + theme fusion); the other rows are its halves alone. "
                "The rows without a suffix rank on the day: an instrument whose last round closed with no new one "
                'announced fails its deadline check and ranks after the others. "Fit only" ranks without the '
                "deadline check: what the labels (the instruments that fit, or that paid) measure.",
            )
        )
    if not have_data:
        parts.append(f"## Real data\n\nSkipped: {args.data} is absent (fund routing, cross-lingual and scale).\n")
    else:
        extra = work / "ft"
        corpus = load_corpus(base.corpora)  # as `matcher import` does: topics get our theme ids
        import_ft_topics_to(
            args.data / TOPICS,
            extra,
            FT_AS_OF,
            themes=corpus.themes,
            programmes=corpus.mappings.ft_programmes,
            parents=corpus.mappings.ft_parents,
        )
        import_operations_to(args.data / OPERATIONS, extra, places=corpus.places)
        for model in args.models:
            parts.append(
                section(
                    f"Fund routing, encoder {model}",
                    f"matcher evaluate --model {model} --routing {args.data / OPERATIONS}",
                    timed(
                        f"routing {model}",
                        lambda m=model: routing(replace(base, model=m), args.data),
                    ),
                    "Zero-shot: a summary counts as routed right when the best instrument of the EFRO programmes "
                    "scores above the ESF+ programme or the other way round, matching its real fund.",
                )
            )
        for model in args.models:
            settings = replace(base, model=model, extra=(extra,))
            parts.append(
                section(
                    f"Cross-lingual: Dutch vs English proposals against English EU calls, encoder {model}",
                    f"matcher import ft-topics {args.data / TOPICS} --as-of {FT_AS_OF} --out FT && "
                    f"matcher evaluate --model {model} --extra FT --crosslingual {args.pairs.relative_to(ROOT)}",
                    timed(f"crosslingual {model}", lambda s=settings: crosslingual(s, args.pairs)),
                    "Each pair says the same thing in Dutch and in English; the relevant instruments are imported "
                    "Funding & Tenders topics (English), ranked among all bundled and imported instruments.",
                )
            )
        settings = replace(base, extra=(extra,))
        parts.append(
            section(
                "Scale: the F&T topics imported next to the bundled corpus",
                "matcher import ft-topics ... --out FT && MATCHER_EXTRA=FT matcher build --force",
                timed("scale", lambda: scale(settings)),
            )
        )
    if args.index_sizes != ["none"]:
        parts.append(
            section(
                "Vector index: exact against HNSW on synthetic clustered vectors",
                f".venv/bin/python scripts/index_benchmark.py --markdown --sizes {' '.join(args.index_sizes)}",
                timed("index benchmark", lambda: index_benchmark(args.index_sizes)),
                "`MATCHER_INDEX=hnsw` (M=32, efConstruction 80, efSearch 128) is the approximate setting; "
                "collections under 10,000 vectors stay exact. Recall@10 is measured against exact search.",
            )
        )
    else:
        parts.append(INDEX_NOTE)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(args.out, "\n".join(parts).encode("utf-8"))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
