"""Single-match latency alone and beside background triage jobs (not a test; issue 11, "bounded work").

    .venv/bin/python scripts/load_triage.py [--duration S] [--triage-clients 2] [--rows 100] [--workers 1]

Starts a real `matcher serve` on a free port with the hashing model on the bundled corpora (its index built in a
temporary folder, so nothing of yours is touched), raises the rate limit, and measures `POST /v1/match` (`top` 10)
from one closed-loop client: first alone, then while `--triage-clients` clients each send a `--rows`-row
`POST /v1/triage` in a loop (answered 202; they poll `GET /v1/jobs/{id}` until the job is done, then send the next).
Prints p50/p95/p99 and the number of matches of both phases, the jobs done and their p50 time, and the ratio of the
p50s; the target is a ratio of at most 3. Exits 1 when the ratio is over `--max-ratio` (default 3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from load_benchmark import CLI, PROPOSALS, free_port, percentile, wait_ready

REPO = Path(__file__).resolve().parent.parent


async def matches(http: httpx.AsyncClient, stop: float) -> tuple[list[float], int]:
    """One closed-loop match client until `stop`: (latencies in ms, errors)."""
    latencies: list[float] = []
    errors, i = 0, 0
    while time.perf_counter() < stop:
        body = {**PROPOSALS[i % len(PROPOSALS)], "id": f"m{i}", "top": 10}
        i += 1
        sent = time.perf_counter()
        try:
            ok = (await http.post("/v1/match", json=body)).status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            latencies.append((time.perf_counter() - sent) * 1000)
        else:
            errors += 1
    return latencies, errors


async def triage_jobs(http: httpx.AsyncClient, n: int, rows: int, stop: float) -> tuple[list[float], int]:
    """One client sending `rows`-row triage jobs until `stop`, each polled until done: (job times in ms, errors)."""
    times: list[float] = []
    errors, round_ = 0, 0
    while time.perf_counter() < stop:
        proposals = [{**PROPOSALS[(n + round_ + r) % len(PROPOSALS)], "id": f"t{n}-{round_}-{r}"} for r in range(rows)]
        round_ += 1
        sent = time.perf_counter()
        try:
            answer = await http.post("/v1/triage", json={"proposals": proposals, "top": 10})
            if answer.status_code != 202:
                errors += 1
                await asyncio.sleep(0.5)
                continue
            location = answer.headers["location"]
            while True:
                await asyncio.sleep(0.25)
                status = (await http.get(location)).json()["status"]
                if status in ("done", "failed"):
                    break
            if status == "done":
                times.append((time.perf_counter() - sent) * 1000)
            else:
                errors += 1
        except httpx.HTTPError:
            errors += 1
    return times, errors


async def phase(base: str, duration: float, triage_clients: int, rows: int) -> tuple[list[float], int, list[float]]:
    """(match latencies, match errors, triage job times) of one phase of `duration` s."""
    async with (
        httpx.AsyncClient(base_url=base, timeout=120) as match_http,
        httpx.AsyncClient(base_url=base, timeout=120) as triage_http,
    ):
        stop = time.perf_counter() + duration
        tasks = [triage_jobs(triage_http, n, rows, stop) for n in range(triage_clients)]
        (latencies, errors), *jobs = await asyncio.gather(matches(match_http, stop), *tasks)
    return latencies, errors + sum(e for _, e in jobs), [t for times, _ in jobs for t in times]


def row(name: str, latencies: list[float], errors: int, jobs: list[float]) -> str:
    job_p50 = f"{percentile(jobs, 50):>10.0f}" if jobs else f"{'-':>10}"
    return (
        f"{name:<22} {len(latencies):>8} {percentile(latencies, 50):>8.1f} {percentile(latencies, 95):>8.1f} "
        f"{percentile(latencies, 99):>8.1f} {errors:>7} {len(jobs):>6} {job_p50}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--triage-clients", type=int, default=2)
    parser.add_argument("--rows", type=int, default=100, help="proposals per triage job")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-ratio", type=float, default=3.0)
    parser.add_argument("--ready-timeout", type=float, default=300.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="load-triage-") as tmp:
        log = Path(tmp) / "server.log"
        port = free_port()
        env = {
            **os.environ,
            "MATCHER_MODEL": "hashing",
            "MATCHER_ARTEFACTS": str(Path(tmp) / "artefacts"),
            "MATCHER_RATE_PER_MINUTE": "1000000000",
            "MATCHER_DB": str(Path(tmp) / "load.sqlite3"),
        }
        command = [*CLI, "serve", "--port", str(port), "--workers", str(args.workers)]
        with log.open("wb") as sink:
            server = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            started = time.monotonic()
            wait_ready(base, server, log, args.workers, args.ready_timeout)
            print(f"server ready in {time.monotonic() - started:.1f} s, {args.workers} worker(s), hashing model")
            asyncio.run(phase(base, 3.0, 0, args.rows))  # warm-up, not reported
            alone = asyncio.run(phase(base, args.duration, 0, args.rows))
            beside = asyncio.run(phase(base, args.duration, args.triage_clients, args.rows))
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    print(f"{'single match':<22} {'matches':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'jobs':>6} "
          f"{'job p50 ms':>10}")  # fmt: skip
    print(row("alone", *alone))
    print(row(f"{args.triage_clients} x {args.rows}-row jobs", *beside))
    ratio = percentile(beside[0], 50) / percentile(alone[0], 50)
    print(f"p50 with the triage clients / alone: {ratio:.2f} (target at most {args.max_ratio:g})")
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
