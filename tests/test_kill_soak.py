"""The reliability loop in CI, bounded: `scripts/kill_soak.py` with a few `kill -9` trials of a real server.

Acknowledged writes must all be stored and none twice (retries carry their Idempotency-Key); the longer soak is the
same script with more trials (figures in the README)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIGURES = re.compile(
    r"(?P<trials>\d+) kill -9 trials in \d+ s: (?P<acked>\d+) writes acknowledged, (?P<lost>\d+) acknowledged writes "
    r"lost, (?P<twice>\d+) rows stored twice"
)


def test_acknowledged_writes_survive_a_kill_loop_and_retries_are_not_stored_twice() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "kill_soak.py"), "--trials", "3", "--max-delay", "1.0"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = FIGURES.search(proc.stdout)
    assert found is not None, proc.stdout
    assert int(found["trials"]) == 3 and int(found["acked"]) > 0
    assert (int(found["lost"]), int(found["twice"])) == (0, 0), proc.stdout
