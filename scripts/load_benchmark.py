"""Load benchmark of `POST /v1/match` (not a test): a real `matcher serve` on a free port, hit by 1, 8 and 32 clients.

    .venv/bin/python scripts/load_benchmark.py [--workers N] [--duration S] [--clients 1,8,32]

Uses the bundled corpora and the default model; the index is built once (`matcher build`) in the artefacts folder
of the settings (MATCHER_ARTEFACTS), so the workers only load it. The rate limit is raised for the run. Each level
runs for `--duration` seconds of closed-loop clients (each sends its next request when the last one is answered)
and prints requests, requests/s, p50/p95/p99 latency and errors. It then counts the "matcher loaded" lines the
workers logged: the model must be loaded at most once per worker, or the script exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "import sys; from matcher.cli import main; sys.exit(main())"]
LOADED = re.compile(r"matcher loaded in process (\d+)")
HEADER = f"{'clients':>7} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"

PROPOSALS = [
    {"text": "Wij willen met drie mkb-bedrijven uit het Westland een oogstrobot voor tomatenkassen ontwikkelen",
     "region": "NL-ZH", "applicant_type": "sme", "partners": 3},
    {"text": "Een pilot met een elektrolyser van 5 MW die groene waterstof levert aan de chemie in Delfzijl",
     "region": "NL-GR", "applicant_type": "large_enterprise", "trl": 7},
    {"text": "Scholing van onze monteurs in warmtepompen en omscholing van werknemers uit de krimpende sectoren",
     "region": "NL-NB", "applicant_type": "sme"},
    {"text": "Startup ontwikkelt plantaardige eiwitten uit veldbonen als vervanger van vlees, zoekt groeikapitaal",
     "region": "NL-GE", "applicant_type": "startup", "budget_eur": 750000},
    {"text": "Medische technologie: een draagbare sensor die hartfalen thuis bewaakt, klinische validatie met UMC",
     "region": "NL-UT", "applicant_type": "startup", "trl": 6},
    {"text": "Circulaire bouw: betonresten hergebruiken als grondstof voor nieuw beton in de regio Twente",
     "region": "NL-OV", "partners": 4},
    {"text": "We are building an AI platform that predicts crop disease from drone images for Dutch arable farmers",
     "region": "NL-FL", "applicant_type": "sme", "trl": 5},
    {"text": "Cross-border project with Flemish ports to cut emissions of inland shipping with battery container swaps",
     "region": "NL-ZE", "partners": 6, "applicant_type": "public_body"},
    {"text": "A consortium of universities and SMEs researching quantum sensors for medical imaging, TRL 3 to 5",
     "applicant_type": "knowledge_institution", "trl": 3, "partners": 5},
    {"text": "Energy efficiency retrofit of our food processing plant: heat recovery and an electric boiler",
     "region": "NL-FR", "applicant_type": "large_enterprise", "budget_eur": 2000000},
    {"text": "Digitalisering van het mkb in Limburg: cybersecurity-scans en training voor kleine maakbedrijven",
     "region": "NL-LI", "applicant_type": "nonprofit"},
    {"text": "Sociale innovatie: jongeren zonder startkwalificatie begeleiden naar werk in de techniek",
     "region": "NL-NH", "applicant_type": "public_body", "budget_eur": 300000},
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_ready(base: str, server: subprocess.Popen[bytes], log: Path, workers: int, limit_s: float) -> None:
    """Until /health answers 200 and every worker has logged that it loaded the matcher."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited with status {server.returncode}; see {log}")
        try:
            healthy = httpx.get(f"{base}/health", timeout=5).status_code == 200
        except httpx.TransportError:
            healthy = False
        if healthy and len(LOADED.findall(log.read_text())) >= workers:
            return
        time.sleep(0.5)
    sys.exit(f"the server was not ready within {limit_s:.0f} s; see {log}")


async def run_level(base: str, clients: int, duration: float) -> tuple[int, int, list[float], float]:
    """`clients` closed-loop clients for `duration` s: (answered, errors, latencies in ms, elapsed s)."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        started = time.perf_counter()
        stop = started + duration

        async def client(n: int) -> None:
            nonlocal errors
            i = n
            while time.perf_counter() < stop:
                body = {**PROPOSALS[i % len(PROPOSALS)], "id": f"c{n}-{i}", "top": 10}
                i += clients
                sent = time.perf_counter()
                try:
                    response = await http.post("/v1/match", json=body)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - sent) * 1000)
                else:
                    errors += 1

        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies), errors, latencies, elapsed


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per concurrency level")
    parser.add_argument("--clients", default="1,8,32", help="concurrency levels, comma separated")
    parser.add_argument("--ready-timeout", type=float, default=300.0)
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]

    subprocess.run([*CLI, "build"], cwd=REPO, check=True, stdout=subprocess.DEVNULL)  # a no-op when up to date
    with tempfile.TemporaryDirectory(prefix="load-benchmark-") as tmp:
        log = Path(tmp) / "server.log"
        port = free_port()
        env = {**os.environ, "MATCHER_RATE_PER_MINUTE": "1000000000", "MATCHER_DB": str(Path(tmp) / "bench.sqlite3")}
        command = [*CLI, "serve", "--port", str(port), "--workers", str(args.workers)]
        with log.open("wb") as sink:
            server = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            started = time.monotonic()
            wait_ready(base, server, log, args.workers, args.ready_timeout)
            print(f"server ready in {time.monotonic() - started:.1f} s with {args.workers} worker(s), port {port}")
            asyncio.run(run_level(base, 1, 2.0))  # warm-up, not reported
            print(HEADER)
            for clients in levels:
                done, errors, latencies, elapsed = asyncio.run(run_level(base, clients, args.duration))
                print(
                    f"{clients:>7} {done:>9} {done / elapsed:>8.1f} {percentile(latencies, 50):>8.1f} "
                    f"{percentile(latencies, 95):>8.1f} {percentile(latencies, 99):>8.1f} {errors:>7}"
                )
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        pids = LOADED.findall(log.read_text())
    print(f"model loads: {len(pids)} in {len(set(pids))} process(es), workers: {args.workers}")
    if len(pids) > args.workers:
        print("FAIL: the model was loaded more times than there are workers", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
