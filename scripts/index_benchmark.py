"""Benchmark of the vector index: exact search against HNSW on synthetic vectors; prints figures, asserts nothing.

    .venv/bin/python scripts/index_benchmark.py [--sizes 100k 1M] [--dim 512] [--queries 1000] [--markdown]
        [--index exact --index hnsw:M=32,efc=80,ef=128 ...]

For each size and index setting (through `matcher.retrieval.index.VectorIndex`, the code the engine runs): build
time, index
memory (bytes the index holds, and the peak resident memory added while building), single-query latency p50/p95
(one query per call, faiss's default threads as the service runs it), batched throughput (all queries in one call)
and recall@10 against exact search. Settings that differ only in `ef` share one build.

The vectors are a clustered Gaussian mixture, not uniform random: real sentence embeddings sit in clusters on a
low-dimensional part of the sphere, while uniform random vectors in 512 dimensions have no near neighbours to
find and are a worst case for every approximate index. Each vector is a random cluster centre plus noise with a
power-law spectrum (effective dimension about 28), normalised; queries are fresh draws from the same mixture.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

from matcher.retrieval.index import VectorIndex
from matcher.retrieval.spec import IndexSpec

CHUNK = 65_536
DEFAULT_INDEXES = [
    "exact",
    "hnsw:M=32,efc=80,ef=32",
    "hnsw:M=32,efc=80,ef=64",
    "hnsw:M=32,efc=80,ef=128",
    "hnsw:M=32,efc=80,ef=256",
]
MIB = 1024 * 1024
_PEAKS: list[float] = []  # peak RSS before each reset, for the peak of the whole run


@dataclass(frozen=True)
class Row:
    size: int
    index: str
    build_s: float
    index_mib: float
    peak_mib: float
    p50_ms: float
    p95_ms: float
    batch_qps: float
    recall: float


class Mixture:
    """Gaussian mixture on the unit sphere: `clusters` centres, anisotropic noise of total norm `spread`."""

    def __init__(self, dim: int, clusters: int, seed: int, spread: float = 0.8) -> None:
        rng = np.random.default_rng(seed)
        centres = rng.normal(size=(clusters, dim)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)
        spectrum = 1.0 / np.sqrt(np.arange(1, dim + 1))
        self.scales = (spread * spectrum / np.linalg.norm(spectrum)).astype(np.float32)
        self.weights = rng.dirichlet(np.full(clusters, 2.0))

    def sample(self, n: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
        for start in range(0, n, CHUNK):
            count = min(CHUNK, n - start)
            which = rng.choice(len(self.centres), size=count, p=self.weights)
            noise = rng.standard_normal(size=(count, len(self.scales)), dtype=np.float32) * self.scales
            rows = self.centres[which] + noise
            yield rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        out = np.empty((n, len(self.scales)), dtype=np.float32)  # filled in place: no second full copy
        for start, rows in zip(range(0, n, CHUNK), self.sample(n, rng), strict=True):
            out[start : start + len(rows)] = rows
        return out


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> float:
    """Reset the peak-RSS mark (Linux) and return the current RSS in MiB."""
    gc.collect()
    _PEAKS.append(_status_mib("VmHWM"))
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # then the peak is the process's peak so far: an upper bound
    return _status_mib("VmRSS")


def _latencies(index: VectorIndex, queries: np.ndarray) -> tuple[float, float]:
    index.search(queries[:10], 10)  # warm up
    times = []
    for row in range(len(queries)):
        t0 = time.perf_counter()
        index.search(queries[row : row + 1], 10)
        times.append((time.perf_counter() - t0) * 1000)
    p50, p95 = np.percentile(times, [50, 95])
    return float(p50), float(p95)


def _recall(found: list[list[str]], truth: list[list[str]]) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def _measure(size: int, label: str, index: VectorIndex, build: tuple[float, float], queries: np.ndarray,
             latency_queries: int, truth: list[list[str]] | None) -> tuple[Row, list[list[str]]]:  # fmt: skip
    p50, p95 = _latencies(index, queries[:latency_queries])
    t0 = time.perf_counter()
    found, _ = index.search(queries, 10)
    qps = len(queries) / (time.perf_counter() - t0)
    recall = 1.0 if truth is None else _recall(found, truth)
    row = Row(size, label, build[0], index.nbytes / MIB, build[1], p50, p95, qps, recall)
    return row, found


def _build(vectors: np.ndarray, ids: list[str], spec: IndexSpec) -> tuple[VectorIndex, tuple[float, float]]:
    base = _reset_peak()
    t0 = time.perf_counter()
    index = VectorIndex.build(vectors, ids, spec)
    seconds = time.perf_counter() - t0
    return index, (seconds, _status_mib("VmHWM") - base)


def run_size(size: int, args: argparse.Namespace, specs: list[IndexSpec]) -> list[Row]:
    mixture = Mixture(args.dim, args.clusters, args.seed)
    rng = np.random.default_rng(args.seed + size)
    vectors = mixture.draw(size, rng)
    queries = mixture.draw(args.queries, rng)
    ids = [str(n) for n in range(size)]
    rows: list[Row] = []
    exact, build = _build(vectors, ids, IndexSpec())
    row, truth = _measure(size, "exact", exact, build, queries, args.latency_queries, None)
    del exact
    print(f"  measured {'  '.join(_cells(row))}", flush=True)
    for spec in specs:
        if spec.kind == "exact":
            rows.append(row)
    built: dict[tuple[int, int], tuple[VectorIndex, tuple[float, float]]] = {}
    for spec in (s for s in specs if s.kind == "hnsw"):
        key = (spec.m, spec.ef_construction)
        if key not in built:
            built.clear()  # free the previous graph first
            gc.collect()
            built[key] = _build(vectors, ids, replace(spec, min_vectors=1))
        index, build = built[key]
        index.tune(spec.ef_search)
        label = f"hnsw M={spec.m} efc={spec.ef_construction} ef={spec.ef_search}"
        rows.append(_measure(size, label, index, build, queries, args.latency_queries, truth)[0])
        print(f"  measured {'  '.join(_cells(rows[-1]))}", flush=True)  # progress, for long runs
    return rows


def _size(text: str) -> int:
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


HEADER = ["vectors", "index", "build s", "index MiB", "build peak +MiB", "p50 ms", "p95 ms", "batch q/s", "recall@10"]


def _cells(r: Row) -> list[str]:
    return [
        f"{r.size:,}",
        r.index,
        f"{r.build_s:.1f}",
        f"{r.index_mib:,.0f}",
        f"{r.peak_mib:,.0f}",
        f"{r.p50_ms:.2f}",
        f"{r.p95_ms:.2f}",
        f"{r.batch_qps:,.0f}",
        f"{r.recall:.3f}",
    ]


def print_table(rows: list[Row], markdown: bool) -> None:
    cells = [_cells(r) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(HEADER)]
    print("  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)))
    for line in cells:
        print(
            "  ".join(c.rjust(w) if i != 1 else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
        )
    if markdown:
        print()
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "---|" * len(HEADER))
        for line in cells:
            print("| " + " | ".join(line) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=_size, default=[100_000, 1_000_000], help="e.g. 100k 1M")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=1000, help="queries for recall and batched throughput")
    parser.add_argument("--latency-queries", type=int, default=200, help="single-query calls timed per setting")
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index", action="append", help=f"MATCHER_INDEX values (default: {' '.join(DEFAULT_INDEXES)})")
    parser.add_argument("--markdown", action="store_true", help="also print the table as markdown")
    args = parser.parse_args()
    specs = [IndexSpec.parse(text) for text in args.index or DEFAULT_INDEXES]
    print(
        f"synthetic vectors: Gaussian mixture of {args.clusters} clusters on the unit sphere, dim {args.dim} "
        f"(clustered like real embeddings; uniform random vectors would be a worst case for ANN)"
    )
    print(
        f"{args.queries} queries for recall@10 and batched throughput, {args.latency_queries} single-query calls "
        f"for latency, k=10, faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads, seed {args.seed}"
    )
    rows = []
    for size in args.sizes:
        rows += run_size(size, args, specs)
    print_table(rows, args.markdown)
    print(f"peak RSS of the whole run: {max(_PEAKS + [_status_mib('VmHWM')]):,.0f} MiB")


if __name__ == "__main__":
    main()
