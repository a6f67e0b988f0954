"""Benchmark of `MATCHER_INDEX` through `Matcher.match`: exact against HNSW; prints figures, asserts nothing.

    .venv/bin/python scripts/matcher_index_benchmark.py [--instruments 40000] [--queries 100] [--dim 512]
        [--ef 64 128 256] [--markdown]

A synthetic collection of hashing-encoder texts (not random vectors: the lexical scorer and the theme tagger need
text, and the same text drives the dense and the lexical score as with a real model): `--instruments` instruments
of 5 passages each (summary, 3 criteria, keywords; 200,000 passages by default) made of 7-letter made-up words.
Instrument n belongs to one of instruments/20 topics of 20 words and has 4 words of its own; its summary holds 6
topic words and 3 own words, each criterion 3 topic words and 1 own word, its keywords its own words. A proposal
takes 2 own words of a random instrument, 5 words of its topic and 2 of another topic, so its top 10 is the
instrument and its topic neighbours ranked by shared topic words.

For the exact index and HNSW (M=32, efc=80) at each `--ef`: single-proposal `Matcher.match` latency p50/p95 (one
proposal per call, as the service runs it), and, against exact, recall@10 (overlap of the top-10 instrument ids,
averaged over the proposals) and top-1 agreement. The two matchers differ only in their passage index:
`Matcher.__init__` is built once (its time is printed) and the HNSW matcher is a copy with the index swapped.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime as dt
import gc
import time
from pathlib import Path

import faiss
import numpy as np

from matcher import HashingEncoder, Matcher, Proposal
from matcher.io.corpus import Corpus
from matcher.records import Instrument, Source, Theme
from matcher.retrieval import artefacts
from matcher.retrieval.index import VectorIndex
from matcher.retrieval.spec import IndexSpec

AS_OF = dt.date(2026, 12, 1)
SOURCE = Source(url="https://example.org/regeling", as_of=dt.date(2026, 1, 1))  # type: ignore[arg-type]
TOPIC_SIZE = 20
LETTERS = np.array(list("abcdefghijklmnoprstuvwz"))


def words(rng: np.random.Generator, n: int) -> list[str]:
    return ["".join(row) for row in LETTERS[rng.integers(0, len(LETTERS), size=(n, 7))]]


def collection(n: int, queries: int, seed: int) -> tuple[Corpus, list[Proposal]]:
    rng = np.random.default_rng(seed)
    n_topics = max(1, n // TOPIC_SIZE)
    topic_words = np.array(words(rng, n_topics * TOPIC_SIZE)).reshape(n_topics, TOPIC_SIZE)
    own = np.array(words(rng, n * 4)).reshape(n, 4)
    topic_of = rng.integers(0, n_topics, size=n)
    instruments = []
    for i in range(n):
        topic = topic_words[topic_of[i]][rng.permutation(TOPIC_SIZE)]
        instruments.append(
            Instrument(
                id=f"nl-syn-{i}",
                name=f"Regeling {i}",
                level="national",
                administrator="RVO",
                regions=("NL",),
                applicant_types=("sme",),
                instrument_type="grant",
                recurrence="rolling",
                themes=("energy",),
                summary=" ".join([*topic[:6], *own[i, :3]]),
                criteria=tuple(" ".join([*topic[6 + 3 * k : 9 + 3 * k], own[i, 3]]) for k in range(3)),
                keywords=tuple(own[i]),
                source=SOURCE,
            )
        )
    proposals = []
    for q, i in enumerate(rng.integers(0, n, size=queries)):
        other = topic_words[rng.integers(0, n_topics)]
        text = [*own[i, :2], *rng.choice(topic_words[topic_of[i]], 5, replace=False), *rng.choice(other, 2)]
        proposals.append(Proposal(id=str(q), text=" ".join(text)))
    themes = (Theme(id="energy", name="Energie", name_en="Energy", keywords=("energie",)),)
    return Corpus(themes, tuple(instruments), (), (), hash=f"synthetic-{n}-{seed}"), proposals


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(matcher: Matcher, proposals: list[Proposal]) -> tuple[float, float, list[list[str]]]:
    for p in proposals[:5]:
        matcher.match(p, as_of=AS_OF)  # warm up
    times, tops = [], []
    for p in proposals:
        t0 = time.perf_counter()
        result = matcher.match(p, as_of=AS_OF)
        times.append((time.perf_counter() - t0) * 1000)
        tops.append([m.instrument_id for m in result.matches])
    p50, p95 = np.percentile(times, [50, 95])
    return float(p50), float(p95), tops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instruments", type=int, default=40_000, help="5 passages each")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--dim", type=int, default=512, help="hashing encoder dimension")
    parser.add_argument("--ef", type=int, nargs="+", default=[64, 128, 256], help="HNSW efSearch values")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", action="store_true", help="also print the table as markdown")
    args = parser.parse_args()
    encoder = HashingEncoder(args.dim)
    corpus, proposals = collection(args.instruments, args.queries, args.seed)

    t0 = time.perf_counter()
    emb = artefacts.build(corpus, encoder)
    print(f"{len(emb.passages):,} passages of {len(corpus.instruments):,} instruments, dim {args.dim}; "
          f"encoded and indexed exactly in {time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
    t0 = time.perf_counter()
    exact = Matcher(corpus, encoder, emb)
    print(f"Matcher() over them: {time.perf_counter() - t0:.0f} s", flush=True)
    p50, p95, truth = measure(exact, proposals)
    rows = [("exact", p50, p95, 1.0, 1.0)]
    print(f"  exact: p50 {p50:.1f} ms, p95 {p95:.1f} ms", flush=True)

    vectors = encoder.encode([p.text for p in emb.passages])
    t0 = time.perf_counter()
    index = VectorIndex.build(vectors, [p.owner for p in emb.passages], IndexSpec.parse("hnsw:M=32,efc=80"))
    print(f"HNSW M=32 efc=80 built in {time.perf_counter() - t0:.0f} s", flush=True)
    del vectors
    gc.collect()
    hnsw = copy.copy(exact)  # everything but the passage index is the same; see the module docstring
    hnsw.embeddings = dataclasses.replace(emb, index=index)
    for ef in args.ef:
        index.tune(ef)
        p50, p95, found = measure(hnsw, proposals)
        recall = float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))
        top1 = float(np.mean([f[0] == t[0] for f, t in zip(found, truth, strict=True)]))
        rows.append((f"hnsw M=32 efc=80 ef={ef}", p50, p95, recall, top1))
        print(f"  ef={ef}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, recall@10 {recall:.3f}, top-1 {top1:.2f}", flush=True)

    print(f"{args.queries} proposals, one per Matcher.match call, top_k 10, faiss {faiss.__version__}, "
          f"{faiss.omp_get_max_threads()} threads, seed {args.seed}; peak RSS {peak_mib():,.0f} MiB")  # fmt: skip
    header = ["index", "match p50 ms", "match p95 ms", "recall@10 vs exact", "top-1 = exact"]
    lines = [[name, f"{a:.1f}", f"{b:.1f}", f"{r:.3f}", f"{t:.2f}"] for name, a, b, r, t in rows]
    for line in [header, *lines]:
        print("  ".join(cell.ljust(24 if i == 0 else 18) for i, cell in enumerate(line)))
    if args.markdown:
        print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")


if __name__ == "__main__":
    main()
