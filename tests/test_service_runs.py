"""Triage runs stored in SQLite: every run is committed before the answer, listed, read back, and survives restarts.

The matcher is the tiny one of conftest; the store's clock is fixed, so stored rows are known exactly. The last test
runs a real uvicorn server, kills it with SIGKILL right after acknowledged writes, and reads the database file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from matcher import Proposal
from service.storage import MIGRATIONS, FeedbackStore, RunWithoutProposalsError, TriageRun, UnknownRunError

from .conftest import REPO, version_2_database

HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser"
MEDTECH = "Medische technologie voor de zorg"
NOW = dt.datetime(2026, 11, 30, 9, 15, 0, tzinfo=dt.UTC)
STAMP = "2026-11-30T09:15:00+00:00"
KEY = "k3y-for-tests"
AUTH = {"X-API-Key": KEY}
FEEDBACK = {"proposal_id": "p1", "instrument_id": "nl-waterstof", "relevant": True}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore.open(tmp_path / "feedback.sqlite3", clock=lambda: NOW) as opened:
        yield opened


def upload(client: TestClient, name: str, content: str, query: str = "") -> httpx.Response:
    return client.post(f"/v1/triage/upload{query}", files={"file": (name, content.encode(), "text/csv")})


# -- storing and reading runs ----------------------------------------------------------------------------------------
def test_each_triage_run_is_stored_and_its_id_sent_in_a_header(client: TestClient, tmp_path: Path) -> None:
    first = client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}, {"text": MEDTECH}], "top": 2})
    assert (first.status_code, first.headers["x-triage-run"]) == (200, "1")
    second = upload(client, "ideas.csv", f"id,text\nm1,{MEDTECH}\n", "?top=1")
    assert (second.status_code, second.headers["x-triage-run"]) == (200, "2")
    third = upload(client, "ideas.csv", f"id,text\nh1,{HYDROGEN}\n", "?top=1&format=csv")
    assert (third.status_code, third.headers["x-triage-run"]) == (200, "3")

    # Committed before the answer: a second connection sees every run.
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as other:
        rows = other.execute("SELECT id, source, row_count, top, created_at FROM triage_run ORDER BY id").fetchall()
    other.close()
    assert rows == [(1, "json", 2, 2, STAMP), (2, "ideas.csv", 1, 1, STAMP), (3, "ideas.csv", 1, 1, STAMP)]

    listed = client.get("/v1/triage/runs").json()
    assert listed == [
        {"id": 3, "created_at": STAMP, "source": "ideas.csv", "row_count": 1, "top": 1},
        {"id": 2, "created_at": STAMP, "source": "ideas.csv", "row_count": 1, "top": 1},
        {"id": 1, "created_at": STAMP, "source": "json", "row_count": 2, "top": 2},
    ]
    assert [r["id"] for r in client.get("/v1/triage/runs?limit=1&offset=1").json()] == [2]
    one = client.get("/v1/triage/runs/1").json()
    assert one == {**listed[2], "results": first.json()}
    assert client.get("/v1/triage/runs/2").json()["results"] == second.json()


def test_each_run_keeps_its_proposals_as_validated(client: TestClient, store: FeedbackStore) -> None:
    rows = [{"text": HYDROGEN, "region": "NL-GR", "trl": 6}, {"id": "m", "text": MEDTECH, "as_of": "2026-11-30"}]
    assert client.post("/v1/triage", json={"proposals": rows, "top": 2}).status_code == 200
    assert upload(client, "ideas.csv", f"id,text,budget_eur\nm1,{MEDTECH},250000\n").status_code == 200
    assert store.run_proposals(1) == [
        Proposal(id="1", text=HYDROGEN, region="NL-GR", trl=6),
        Proposal(id="m", text=MEDTECH, as_of=dt.date(2026, 11, 30)),
    ]
    assert store.run_proposals(2) == [Proposal(id="m1", text=MEDTECH, budget_eur=250_000)]
    assert "proposals" not in client.get("/v1/triage/runs/1").json()  # the run's answer stays the contract's


def test_a_refused_triage_stores_no_run(client: TestClient, store: FeedbackStore) -> None:
    assert client.post("/v1/triage", json={"proposals": [{"text": "a", "trl": 0}]}).status_code == 422
    assert upload(client, "ideas.csv", "id,text\na,x,extra\n").status_code == 422
    assert store.count_runs() == 0


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/v1/triage/runs/7", 404, "unknown triage run id 7; GET /v1/triage/runs lists them"),
        ("/v1/triage/runs/0", 422, "field 'run_id': value '0': Input should be greater than or equal to 1"),
        ("/v1/triage/runs/x", 422, "field 'run_id': value 'x': Input should be a valid integer, "
         "unable to parse string as an integer"),
        ("/v1/triage/runs/99999999999999999999", 422, "field 'run_id': value '99999999999999999999': "
         "Input should be less than or equal to 9223372036854775807"),
        ("/v1/triage/runs?limit=0", 422, "field 'limit': value '0': Input should be greater than or equal to 1"),
        ("/v1/triage/runs?offset=-1", 422, "field 'offset': value '-1': Input should be greater than or equal to 0"),
        ("/v1/triage/runs?source=json", 422, "field 'source': value 'json': Extra inputs are not permitted"),
        ("/v1/feedback?offset=99999999999999999999", 422, "field 'offset': value '99999999999999999999': "
         "Input should be less than or equal to 9223372036854775807"),  # past SQLite's integers: 422, not 500
    ],
)  # fmt: skip
def test_runs_reject_unknown_ids_and_bad_queries(client: TestClient, path: str, status: int, error: str) -> None:
    response = client.get(path)
    assert (response.status_code, response.json()["error"]) == (status, error)


def test_run_results_are_readable_by_other_modules(store: FeedbackStore) -> None:
    results: list[dict[str, Any]] = [{"proposal_id": "a", "matches": []}, {"proposal_id": "b", "matches": []}]
    proposals = [Proposal(id="a", text=HYDROGEN), Proposal(id="b", text=MEDTECH, partners=2)]
    run = store.add_run("ideas.csv", 5, results, proposals)
    assert run == TriageRun(1, STAMP, "ideas.csv", 2, 5)
    assert store.run_results(1) == results
    assert store.run_proposals(1) == proposals
    assert store.run(1).to_dict()["results"] == results
    assert "results" not in store.list_runs()[0].to_dict()
    with pytest.raises(UnknownRunError, match=r"^unknown triage run id 2; "):
        store.run_results(2)
    with pytest.raises(UnknownRunError, match=r"^unknown triage run id 2; "):
        store.run_proposals(2)


def test_a_run_keeps_one_proposal_per_result(store: FeedbackStore) -> None:
    with pytest.raises(ValueError, match=r"^1 proposals for 2 results; "):
        store.add_run("json", 1, [{"proposal_id": "a"}, {"proposal_id": "b"}], [Proposal(id="a", text=HYDROGEN)])
    assert store.count_runs() == 0


# -- migrations and restarts -----------------------------------------------------------------------------------------
def test_a_version_1_database_is_migrated_keeping_its_feedback(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as conn:  # the file as the first release left it
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        conn.executescript(MIGRATIONS[0])
        conn.execute("INSERT INTO schema_version VALUES (1, '2026-10-01T00:00:00+00:00')")
        conn.execute("INSERT INTO feedback VALUES (1, 'p1', 'eu-zorg', 1, 'oud', '2026-10-02T00:00:00+00:00')")
    conn.close()

    with FeedbackStore.open(path, clock=lambda: NOW) as store:
        assert [r.note for r in store.list()] == ["oud"]
        assert store.add_run("json", 3, [{"proposal_id": "p1"}], [Proposal(id="p1", text=HYDROGEN)]).id == 1
    with sqlite3.connect(path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        columns = [(c[1], c[2], c[3]) for c in conn.execute("PRAGMA table_info(triage_run)")]
    conn.close()
    assert versions == [1, 2, 3]
    assert columns == [
        ("id", "INTEGER", 0),
        ("created_at", "TEXT", 1),
        ("source", "TEXT", 1),
        ("row_count", "INTEGER", 1),
        ("top", "INTEGER", 1),
        ("results", "TEXT", 1),
        ("proposals", "TEXT", 0),
    ]


def test_a_version_2_database_is_migrated_keeping_its_runs_without_proposals(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    version_2_database(path)

    with FeedbackStore.open(path, clock=lambda: NOW) as store:
        assert [r.note for r in store.list()] == ["oud"]
        assert store.run(1) == TriageRun(1, "2026-10-03T00:00:00+00:00", "oud.csv", 1, 5, [
            {"proposal_id": "o1", "matches": []}
        ])  # fmt: skip
        with pytest.raises(RunWithoutProposalsError, match=r"^triage run 1 was stored before runs kept their "):
            store.run_proposals(1)
        new = store.add_run("json", 1, [{"proposal_id": "n1"}], [Proposal(id="n1", text=MEDTECH)])
        assert (new.id, store.run_proposals(2)) == (2, [Proposal(id="n1", text=MEDTECH)])
    with sqlite3.connect(path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        stored = conn.execute("SELECT id, proposals IS NULL FROM triage_run ORDER BY id").fetchall()
    conn.close()
    assert versions == [1, 2, 3]
    assert stored == [(1, 1), (2, 0)]


def test_feedback_and_runs_survive_closing_and_reopening_the_store(tmp_path: Path) -> None:
    path = tmp_path / "data" / "feedback.sqlite3"
    with FeedbackStore.open(path, clock=lambda: NOW) as store:
        row = store.add("p1", "eu-zorg", relevant=False, note="te duur")
        run = store.add_run("json", 1, [{"proposal_id": "p1", "matches": []}], [Proposal(id="p1", text=MEDTECH)])
    with FeedbackStore.open(path) as reopened:
        assert reopened.list() == [row]
        assert reopened.run(run.id).results == [{"proposal_id": "p1", "matches": []}]
        assert reopened.run_proposals(run.id) == [Proposal(id="p1", text=MEDTECH)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_acknowledged_writes_survive_sigkill_of_a_real_server(corpus_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    env = {
        **os.environ,
        "MATCHER_CORPORA": str(corpus_dir),
        "MATCHER_ARTEFACTS": str(tmp_path / "artefacts"),
        "MATCHER_MODEL": "hashing",
        "MATCHER_DB": str(db),
        "MATCHER_API_KEYS": hashlib.sha256(KEY.encode()).hexdigest(),
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            time.sleep(0.2)
        feedback = httpx.post(f"{base}/v1/feedback", json=FEEDBACK, headers=AUTH, timeout=10)
        assert feedback.status_code == 201
        triage = httpx.post(f"{base}/v1/triage", json={"proposals": [{"text": HYDROGEN}], "top": 1}, timeout=10)
        assert (triage.status_code, triage.headers["x-triage-run"]) == (200, "1")
    finally:
        server.send_signal(signal.SIGKILL)  # no shutdown, no lifespan exit: only what was committed remains
        server.wait(timeout=10)
    assert server.returncode == -signal.SIGKILL
    with FeedbackStore.open(db) as store:
        assert [r.to_dict() for r in store.list()] == [feedback.json()]
        assert store.run_results(1) == triage.json()
        assert store.run_proposals(1) == [Proposal(id="1", text=HYDROGEN)]
        assert json.loads(json.dumps(store.run_results(1)))[0]["matches"][0]["instrument_id"] == "nl-waterstof"
