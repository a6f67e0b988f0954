"""Soak test: acknowledged writes survive `kill -9` of a real server; retried writes are not stored twice.

Each trial starts `python -m service` (hashing model, a tiny corpus written here, one adviser key, its own SQLite
file reused across trials), sends feedback writes from a client thread, each with an `Idempotency-Key`, kills the
server with SIGKILL after a random delay, then restarts it and retries every write that got no answer with the same
key (what a careful client does). At the end it reads the database and prints the figures: trials, writes
acknowledged, acknowledged writes lost, rows stored twice, writes left unacknowledged.

    .venv/bin/python scripts/kill_soak.py --trials 20
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import yaml

REPO = Path(__file__).resolve().parent.parent
KEY = "soak-key"
DIGEST = hashlib.sha256(KEY.encode()).hexdigest()
SOURCE = {"url": "https://example.org/regeling", "as_of": "2026-01-01"}
INSTRUMENT = {
    "id": "nl-waterstof",
    "name": "Waterstofpilots",
    "level": "national",
    "administrator": "RVO",
    "regions": ["NL"],
    "applicant_types": ["sme"],
    "instrument_type": "grant",
    "themes": ["energy"],
    "summary": "Subsidie voor pilots met waterstof en elektrolysers die CO2-uitstoot verminderen.",
    "criteria": ["Minimaal twee partners werken samen aan een waterstofpilot."],
    "recurrence": "rolling",
    "source": SOURCE,
}


def corpus(root: Path) -> Path:
    (root / "instruments").mkdir(parents=True)
    themes = [{"id": "energy", "name": "Energie", "name_en": "Energy", "keywords": ["waterstof"]}]
    (root / "themes.yaml").write_text(yaml.safe_dump(themes))
    region = {"code": "NL-GR", "name": "Groningen", "landsdeel": "Noord", "themes": ["energy"], "summary": "Noord."}
    (root / "regions.yaml").write_text(yaml.safe_dump({"regions": [region | {"source": SOURCE}], "collaborations": []}))
    (root / "instruments" / "tiny.yaml").write_text(yaml.safe_dump([INSTRUMENT], sort_keys=False))
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start within 60 s")


def post(base: str, key: str) -> bool:
    """One feedback write; True when the server acknowledged it (201, or 200 for a replayed key)."""
    body = {"proposal_id": key, "instrument_id": "nl-waterstof", "relevant": True}
    headers = {"X-API-Key": KEY, "Idempotency-Key": key}
    try:
        answer = httpx.post(f"{base}/v1/feedback", json=body, headers=headers, timeout=5)
    except httpx.TransportError:
        return False
    return answer.status_code in (200, 201)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--max-delay", type=float, default=1.5, help="longest wait before the kill, in seconds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kill-soak-"))
    db = work / "feedback.sqlite3"
    env = {
        **os.environ,
        "MATCHER_CORPORA": str(corpus(work / "corpora")),
        "MATCHER_ARTEFACTS": str(work / "artefacts"),
        "MATCHER_MODEL": "hashing",
        "MATCHER_DB": str(db),
        "MATCHER_API_KEYS": f"{DIGEST}:adviser:soak",
        "MATCHER_RATE_PER_MINUTE": "1000000",
    }
    acknowledged: set[str] = set()
    pending: list[str] = []
    rng = random.Random(1)
    started = time.monotonic()
    for _ in range(args.trials):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start(env, port)
        for key in list(pending):  # retries of writes that got no answer, with their own keys
            if post(base, key):
                acknowledged.add(key)
                pending.remove(key)
        stop = threading.Event()

        def client(base: str = base, stop: threading.Event = stop) -> None:
            while not stop.is_set():
                key = uuid.uuid4().hex
                (acknowledged.add(key) if post(base, key) else pending.append(key))

        worker = threading.Thread(target=client)
        worker.start()
        time.sleep(rng.uniform(0.1, args.max_delay))
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        stop.set()
        worker.join()
    port = free_port()
    server = start(env, port)
    for key in list(pending):
        if post(f"http://127.0.0.1:{port}", key):
            acknowledged.add(key)
            pending.remove(key)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=10)
    with sqlite3.connect(db) as conn:
        stored = [row[0] for row in conn.execute("SELECT proposal_id FROM feedback")]
    lost = acknowledged - set(stored)
    twice = len(stored) - len(set(stored))
    print(
        f"{args.trials} kill -9 trials in {time.monotonic() - started:.0f} s: {len(acknowledged)} writes acknowledged, "
        f"{len(lost)} acknowledged writes lost, {twice} rows stored twice, {len(pending)} writes never acknowledged "
        f"(after retrying with the same Idempotency-Key), {len(stored)} rows stored"
    )


if __name__ == "__main__":
    main()
