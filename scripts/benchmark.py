"""Benchmark of the matching engine on this machine; prints figures, asserts nothing.

    .venv/bin/python scripts/benchmark.py [--model NAME] [--repeat N] [--texts CSV --column COL]

Reports: index build time (cold, no stored artefacts), warm single-match latency p50/p95, triage throughput
(match + JSON serialisation) next to the raw encoder throughput on the same texts, and peak memory (max RSS).
Texts default to the bundled dev cases, repeated; `--texts` reads real proposals from a CSV column instead.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import resource
import statistics
import time
from pathlib import Path

from matcher import Matcher, Proposal, Settings, app, load_corpus, load_dev_cases, load_encoder
from matcher.analysis.examples import load_or_encode
from matcher.retrieval.artefacts import build


def load_texts(args: argparse.Namespace, settings: Settings) -> list[str]:
    if args.texts:
        with Path(args.texts).open(encoding="utf-8") as fh:
            texts = [row[args.column] for row in csv.DictReader(fh) if row.get(args.column, "").strip()]
        return texts[: args.limit]
    corpus = load_corpus(settings.corpora)
    return [c.text for c in load_dev_cases(settings.dev_cases, corpus)] * args.repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeat", type=int, default=4, help="times the dev-case texts are repeated")
    parser.add_argument("--texts", help="CSV file with proposals")
    parser.add_argument("--column", default="text")
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3, help="timed triage runs (median reported)")
    args = parser.parse_args()
    settings = Settings.from_env(model=args.model)
    texts = load_texts(args, settings)
    as_of = dt.date(2026, 11, 30)

    corpus = load_corpus(settings.corpora)
    encoder = load_encoder(settings.model)
    encoder.encode(["warm-up"])  # load weights outside the timed build
    start = time.perf_counter()
    embeddings = build(corpus, encoder)
    build_s = time.perf_counter() - start
    matcher = Matcher(corpus, encoder, embeddings)
    found = load_or_encode(matcher, settings.real_cases, settings.partner_cases, settings.artefacts)
    matcher = matcher.with_examples(found)  # as `app.load_matcher` ranks

    proposals = [Proposal(id=str(i), text=t) for i, t in enumerate(texts)]
    matcher.match_batch(proposals[:20], as_of=as_of)  # warm caches and threads
    latencies = []
    for p in proposals[:200]:
        t0 = time.perf_counter()
        app.triage(matcher, [p], as_of=as_of)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]

    raw_runs, triage_runs = [], []
    for _ in range(args.runs):  # interleaved, so both see the same machine state; medians reported
        t0 = time.perf_counter()
        encoder.encode(texts)
        raw_runs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        results = app.triage(matcher, proposals, as_of=as_of, parallel=True)
        lines = [r.model_dump_json() for r in results]  # what `matcher triage` writes
        triage_runs.append(time.perf_counter() - t0)
    raw_s, triage_s = statistics.median(raw_runs), statistics.median(triage_runs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    n = len(texts)
    print(f"model                      {encoder.name}")
    print(f"corpus                     {len(corpus.instruments)} instruments, {len(embeddings.passages)} passages")
    print(f"index build (cold)         {build_s:.2f} s")
    print(
        f"single match, warm         p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {p95:.1f} ms ({len(latencies)} runs)"
    )
    print(f"raw encoder throughput     {n / raw_s:.1f} texts/s ({n} texts, median of {args.runs})")
    print(f"triage throughput          {n / triage_s:.1f} proposals/s ({len(lines)} results, top 10, JSON)")
    print(f"triage / encoder           {raw_s / triage_s:.0%}")
    print(f"peak memory (max RSS)      {peak_mb:.0f} MiB; largest encoder worker {child_mb:.0f} MiB (shared pages)")


if __name__ == "__main__":
    main()
