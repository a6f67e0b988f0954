"""`matcher serve --workers 2` as a real process: a supervisor killed with SIGKILL takes its workers down with it.

The review (finding L4) killed the supervisor with `kill -9`; both workers kept serving the port as orphans. Each
worker now asks the kernel for SIGTERM when its supervisor dies (`service.app.die_with_supervisor`, Linux only).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from service.app import SUPERVISOR_VARIABLE, die_with_supervisor

MATCHER = shutil.which("matcher", path=str(Path(sys.executable).parent)) or "matcher"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux's")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    """The worker processes of `pid` (multiprocessing's spawned children; not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == pid and b"spawn_main" in cmdline and stat[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.2)
    return False


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@linux_only
def test_a_supervisor_killed_with_sigkill_takes_its_workers_down(corpus_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MATCHER_DB": str(tmp_path / "db.sqlite3")}
    env.pop(SUPERVISOR_VARIABLE, None)
    args = ["serve", "--corpora", str(corpus_dir), "--model", "hashing", "--artefacts", str(tmp_path / "art")]
    log = (tmp_path / "serve.log").open("wb")
    supervisor = subprocess.Popen(
        [MATCHER, *args, "--port", str(port), "--workers", "2"], stdout=log, stderr=log, env=env
    )
    workers: list[int] = []
    try:
        assert wait_for(lambda: len(children(supervisor.pid)) == 2 and healthy(port), 60), (
            tmp_path / "serve.log"
        ).read_text()
        workers = children(supervisor.pid)
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait(10)
        assert wait_for(lambda: not any(alive(w) for w in workers), 15), "workers outlived their supervisor"
        assert not healthy(port)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait(10)
        for worker in workers:  # only the processes this test started
            if alive(worker):
                os.kill(worker, signal.SIGKILL)
        log.close()


def test_outside_a_supervised_worker_nothing_is_armed() -> None:
    assert die_with_supervisor({}) is False
    assert die_with_supervisor({SUPERVISOR_VARIABLE: str(os.getpid())}) is False  # the supervisor itself
    assert die_with_supervisor({SUPERVISOR_VARIABLE: "not-a-pid"}) is False
