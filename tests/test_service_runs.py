"""Triage runs stored in SQLite: every run is committed before the answer, listed, read back, deleted, expired, kept
within its organisation's quota, and survives restarts and migrations.

The matcher is the tiny one of conftest; the store's clock is fixed (or moved by hand), so stored rows are known
exactly. Runs are stored by a legacy admin key (a bare digest: organisation "default"). The last test runs a real
uvicorn server, kills it with SIGKILL right after acknowledged writes, and reads the database file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
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

from matcher import Matcher, Proposal
from service.storage import (
    MIGRATIONS,
    FeedbackStore,
    QuotaExceededError,
    RunWithoutProposalsError,
    TriageRun,
    UnknownRunError,
)

from .conftest import REPO, service_client, version_2_database

HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser"
MEDTECH = "Medische technologie voor de zorg"
NOW = dt.datetime(2026, 11, 30, 9, 15, 0, tzinfo=dt.UTC)
STAMP = "2026-11-30T09:15:00+00:00"
EXPIRES = "2027-02-28T09:15:00+00:00"  # 90 days later
KEY = "k3y-for-tests"
DIGEST = hashlib.sha256(KEY.encode()).hexdigest()
AUTH = {"X-API-Key": KEY}
FEEDBACK = {"proposal_id": "p1", "instrument_id": "nl-waterstof", "relevant": True}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore.open(tmp_path / "feedback.sqlite3", clock=lambda: NOW) as opened:
        yield opened


@pytest.fixture
def client(tiny_matcher: Matcher, store: FeedbackStore) -> TestClient:
    return service_client(tiny_matcher, store, api_key_digests=(DIGEST,))


def upload(client: TestClient, name: str, content: str, query: str = "") -> httpx.Response:
    return client.post(f"/v1/triage/upload{query}", files={"file": (name, content.encode(), "text/csv")}, headers=AUTH)


def summary(run_id: str, source: str, row_count: int, top: int) -> dict[str, Any]:
    return {
        "id": run_id,
        "created_at": STAMP,
        "source": source,
        "row_count": row_count,
        "top": top,
        "organisation": "default",
        "expires_at": EXPIRES,
    }


# -- storing and reading runs ----------------------------------------------------------------------------------------
def test_each_triage_run_is_stored_and_its_id_sent_in_a_header(client: TestClient, tmp_path: Path) -> None:
    first = client.post(
        "/v1/triage", json={"proposals": [{"text": HYDROGEN}, {"text": MEDTECH}], "top": 2}, headers=AUTH
    )
    second = upload(client, "ideas.csv", f"id,text\nm1,{MEDTECH}\n", "?top=1")
    third = upload(client, "ideas.csv", f"id,text\nh1,{HYDROGEN}\n", "?top=1&format=csv")
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    ids = [r.headers["x-triage-run"] for r in (first, second, third)]

    # Committed before the answer: a second connection sees every run.
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as other:
        rows = other.execute(
            "SELECT id, organisation, source, row_count, top, created_at FROM triage_run ORDER BY seq"
        ).fetchall()
    other.close()
    assert rows == [
        (ids[0], "default", "json", 2, 2, STAMP),
        (ids[1], "default", "ideas.csv", 1, 1, STAMP),
        (ids[2], "default", "ideas.csv", 1, 1, STAMP),
    ]

    listed = client.get("/v1/triage/runs", headers=AUTH).json()
    assert listed == [
        summary(ids[2], "ideas.csv", 1, 1),
        summary(ids[1], "ideas.csv", 1, 1),
        summary(ids[0], "json", 2, 2),
    ]
    assert [r["id"] for r in client.get("/v1/triage/runs?limit=1&offset=1", headers=AUTH).json()] == [ids[1]]
    one = client.get(f"/v1/triage/runs/{ids[0]}", headers=AUTH).json()
    assert one == {**listed[2], "results": first.json()}
    assert client.get(f"/v1/triage/runs/{ids[1]}", headers=AUTH).json()["results"] == second.json()


def test_run_ids_are_random_and_not_guessable(client: TestClient, store: FeedbackStore) -> None:
    ids = [
        client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}]}, headers=AUTH).headers["x-triage-run"]
        for _ in range(2)
    ]
    assert ids[0] != ids[1]
    assert all(len(i) >= 20 and i.replace("-", "").replace("_", "").isalnum() for i in ids)
    assert [r.id for r in store.list_runs()] == ids[::-1]
    assert client.get("/v1/triage/runs/1", headers=AUTH).status_code == 404  # no counting up from 1


def test_each_run_keeps_its_proposals_as_validated(client: TestClient, store: FeedbackStore) -> None:
    rows = [{"text": HYDROGEN, "region": "NL-GR", "trl": 6}, {"id": "m", "text": MEDTECH, "as_of": "2026-11-30"}]
    first = client.post("/v1/triage", json={"proposals": rows, "top": 2}, headers=AUTH).headers["x-triage-run"]
    second = upload(client, "ideas.csv", f"id,text,budget_eur\nm1,{MEDTECH},250000\n").headers["x-triage-run"]
    assert store.run_proposals(first) == [
        Proposal(id="1", text=HYDROGEN, region="NL-GR", trl=6),
        Proposal(id="m", text=MEDTECH, as_of=dt.date(2026, 11, 30)),
    ]
    assert store.run_proposals(second) == [Proposal(id="m1", text=MEDTECH, budget_eur=250_000)]
    assert "proposals" not in client.get(f"/v1/triage/runs/{first}", headers=AUTH).json()  # the contract's answer


def test_a_run_stores_each_proposal_once_and_results_name_it_by_id(client: TestClient, tmp_path: Path) -> None:
    text = "Unieke tekst: een waterstof pilot met een elektrolyser in de Eemshaven, vertrouwelijk"
    client.post("/v1/triage", json={"proposals": [{"id": "u1", "text": text}], "top": 5}, headers=AUTH)
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as other:
        results, proposals, size = other.execute("SELECT results, proposals, size_bytes FROM triage_run").fetchone()
    other.close()
    assert (text in results, proposals.count(text)) == (False, 1)  # five results, the text stored once
    assert [r["proposal_id"] for r in json.loads(results)] == ["u1"]
    assert size == len(results.encode()) + len(proposals.encode())


def test_a_refused_triage_stores_no_run(client: TestClient, store: FeedbackStore) -> None:
    assert client.post("/v1/triage", json={"proposals": [{"text": "a", "trl": 0}]}, headers=AUTH).status_code == 422
    assert upload(client, "ideas.csv", "id,text\na,x,extra\n").status_code == 422
    assert store.count_runs() == 0


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/v1/triage/runs/7", 404, "unknown triage run id '7'; GET /v1/triage/runs lists them"),
        ("/v1/triage/runs/a.b", 422, "field 'run_id': value 'a.b': String should match pattern "
         "'^[A-Za-z0-9_-]{1,64}$'"),
        ("/v1/triage/runs/" + "x" * 65, 422, "field 'run_id': value '" + "x" * 65 + "': String should match "
         "pattern '^[A-Za-z0-9_-]{1,64}$'"),
        ("/v1/triage/runs?limit=0", 422, "field 'limit': value '0': Input should be greater than or equal to 1"),
        ("/v1/triage/runs?offset=-1", 422, "field 'offset': value '-1': Input should be greater than or equal to 0"),
        ("/v1/triage/runs?source=json", 422, "field 'source': value 'json': Extra inputs are not permitted"),
        ("/v1/feedback?offset=99999999999999999999", 422, "field 'offset': value '99999999999999999999': "
         "Input should be less than or equal to 9223372036854775807"),  # past SQLite's integers: 422, not 500
    ],
)  # fmt: skip
def test_runs_reject_unknown_ids_and_bad_queries(client: TestClient, path: str, status: int, error: str) -> None:
    response = client.get(path, headers=AUTH)
    assert (response.status_code, response.json()["error"]) == (status, error)


def test_run_results_are_readable_by_other_modules(store: FeedbackStore) -> None:
    results: list[dict[str, Any]] = [{"proposal_id": "a", "matches": []}, {"proposal_id": "b", "matches": []}]
    proposals = [Proposal(id="a", text=HYDROGEN), Proposal(id="b", text=MEDTECH, partners=2)]
    run = store.add_run("ideas.csv", 5, results, proposals)
    assert run == TriageRun(run.id, STAMP, "ideas.csv", 2, 5, "default", EXPIRES)
    assert store.run_results(run.id) == results
    assert store.run_proposals(run.id) == proposals
    assert store.run(run.id).to_dict()["results"] == results
    assert "results" not in store.list_runs()[0].to_dict()
    with pytest.raises(UnknownRunError, match=r"^unknown triage run id 'nope'; "):
        store.run_results("nope")
    with pytest.raises(UnknownRunError, match=r"^unknown triage run id 'nope'; "):
        store.run_proposals("nope")


def test_a_run_keeps_one_proposal_per_result(store: FeedbackStore) -> None:
    with pytest.raises(ValueError, match=r"^1 proposals for 2 results; "):
        store.add_run("json", 1, [{"proposal_id": "a"}, {"proposal_id": "b"}], [Proposal(id="a", text=HYDROGEN)])
    assert store.count_runs() == 0


# -- deleting, expiry and the quota ----------------------------------------------------------------------------------
def test_delete_removes_the_run_its_proposals_and_results(
    client: TestClient, store: FeedbackStore, tmp_path: Path
) -> None:
    kept = client.post("/v1/triage", json={"proposals": [{"text": MEDTECH}]}, headers=AUTH).headers["x-triage-run"]
    gone = client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}]}, headers=AUTH).headers["x-triage-run"]
    response = client.delete(f"/v1/triage/runs/{gone}", headers=AUTH)
    assert (response.status_code, response.content) == (204, b"")
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as other:
        rows = other.execute("SELECT id FROM triage_run").fetchall()
        text_left = other.execute(
            "SELECT count(*) FROM triage_run WHERE proposals LIKE ?", (f"%{HYDROGEN}%",)
        ).fetchone()
    other.close()
    assert (rows, text_left) == ([(kept,)], (0,))
    assert client.get(f"/v1/triage/runs/{gone}", headers=AUTH).status_code == 404
    again = client.delete(f"/v1/triage/runs/{gone}", headers=AUTH)
    assert (again.status_code, again.json()) == (
        404,
        {"error": f"unknown triage run id {gone!r}; GET /v1/triage/runs lists them"},
    )
    assert client.get("/v1/gaps", params={"run": gone}, headers=AUTH).status_code == 404
    assert [r["id"] for r in client.get("/v1/triage/runs", headers=AUTH).json()] == [kept]


def test_runs_expire_after_the_retention_period_and_are_purged(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "feedback.sqlite3"
    proposal = [Proposal(id="p1", text=HYDROGEN)]
    with FeedbackStore.open(path, clock=clock, retention_days=30) as store:
        old = store.add_run("json", 1, [{"proposal_id": "p1"}], proposal)
        assert old.expires_at == "2026-12-30T09:15:00+00:00"
        clock.now = NOW + dt.timedelta(days=30, seconds=-1)  # a second before it expires: still served
        assert store.run(old.id).id == old.id and store.count_runs() == 1
        newer = store.add_run("json", 1, [{"proposal_id": "p1"}], proposal)
        clock.now = NOW + dt.timedelta(days=30)  # expired: never served, though not yet deleted
        assert [r.id for r in store.list_runs()] == [newer.id]
        for read in (store.run, store.run_results, store.run_proposals, store.check_run):
            with pytest.raises(UnknownRunError):
                read(old.id)
        assert store.used_bytes("default") == _size(path, newer.id)  # expired runs do not count
        store.add("p1", "eu-zorg", relevant=True)  # a write deletes the expired runs
        assert _ids(path) == [newer.id]
        clock.now += dt.timedelta(days=30)
    with FeedbackStore.open(path, clock=clock, retention_days=30) as reopened:  # and so does opening the store
        assert (_ids(path), reopened.count_runs()) == ([], 0)


def test_the_service_reads_its_retention_and_quota_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from matcher import InputError
    from service.config import ServiceSettings

    monkeypatch.delenv("MATCHER_RETENTION_DAYS", raising=False)
    monkeypatch.delenv("MATCHER_QUOTA_MB", raising=False)
    settings = ServiceSettings.from_env()
    assert (settings.retention_days, settings.quota_bytes) == (90, 100_000_000)
    monkeypatch.setenv("MATCHER_RETENTION_DAYS", "7")
    monkeypatch.setenv("MATCHER_QUOTA_MB", "5")
    assert (ServiceSettings.from_env().retention_days, ServiceSettings.from_env().quota_bytes) == (7, 5_000_000)
    monkeypatch.setenv("MATCHER_RETENTION_DAYS", "0")
    with pytest.raises(InputError, match=r"^MATCHER_RETENTION_DAYS: value '0': should be a whole number of days, "):
        ServiceSettings.from_env()
    monkeypatch.setenv("MATCHER_RETENTION_DAYS", "7")
    monkeypatch.setenv("MATCHER_QUOTA_MB", "lots")
    with pytest.raises(InputError, match=r"^MATCHER_QUOTA_MB: value 'lots': should be a whole number of megabytes"):
        ServiceSettings.from_env()


def test_a_run_past_the_organisations_quota_is_refused_with_507(tiny_matcher: Matcher, tmp_path: Path) -> None:
    with FeedbackStore.open(tmp_path / "feedback.sqlite3", clock=lambda: NOW, quota_bytes=8_000) as store:
        client = service_client(tiny_matcher, store, api_key_digests=(DIGEST,))
        body = {"proposals": [{"text": HYDROGEN}], "top": 1}
        first = client.post("/v1/triage", json=body, headers=AUTH)
        assert first.status_code == 200
        used = store.used_bytes("default")
        assert 0 < used <= 8_000
        answers = [client.post("/v1/triage", json=body, headers=AUTH) for _ in range(8_000 // used + 1)]
        refused = answers[-1]
        assert refused.status_code == 507
        assert re.fullmatch(
            r"storing this run \(\d+ bytes\) would take organisation 'default' past its quota of 8000 bytes "
            r"\(MATCHER_QUOTA_MB; \d+ bytes stored\); delete runs \(DELETE /v1/triage/runs/\{id\}\), wait until they "
            r"expire, or triage without storing",
            refused.json()["error"],
        )
        assert store.used_bytes("default") <= 8_000
        stored = store.count_runs()
        assert stored == 1 + sum(a.status_code == 200 for a in answers)
        assert client.post("/v1/triage", json=body).status_code == 200  # triage without storing still works
        client.delete(f"/v1/triage/runs/{first.headers['x-triage-run']}", headers=AUTH)  # room again
        assert client.post("/v1/triage", json=body, headers=AUTH).status_code == 200
        assert store.count_runs() == stored


def test_the_quota_is_per_organisation(tmp_path: Path) -> None:
    results: list[dict[str, Any]] = [{"proposal_id": "p1", "matches": []}]
    proposal = [Proposal(id="p1", text=HYDROGEN)]
    with FeedbackStore.open(tmp_path / "feedback.sqlite3", clock=lambda: NOW, quota_bytes=300) as store:
        store.add_run("json", 1, results, proposal, organisation="a")
        size = store.used_bytes("a")
        assert 150 < size <= 300  # room for one run only
        with pytest.raises(QuotaExceededError, match=rf"past its quota of 300 bytes \(MATCHER_QUOTA_MB; {size} bytes"):
            store.add_run("json", 1, results, proposal, organisation="a")
        store.add_run("json", 1, results, proposal, organisation="b")
        assert (store.used_bytes("a"), store.used_bytes("b"), store.count_runs()) == (size, size, 2)


def _ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        ids = [i for (i,) in conn.execute("SELECT id FROM triage_run ORDER BY seq")]
    conn.close()
    return ids


def _size(path: Path, run_id: str) -> int:
    with sqlite3.connect(path) as conn:
        (size,) = conn.execute("SELECT size_bytes FROM triage_run WHERE id = ?", (run_id,)).fetchone()
    conn.close()
    return int(size)


# -- migrations and restarts -----------------------------------------------------------------------------------------
RUN_COLUMNS = [
    ("seq", "INTEGER", 0),
    ("id", "TEXT", 1),
    ("organisation", "TEXT", 1),
    ("created_at", "TEXT", 1),
    ("source", "TEXT", 1),
    ("row_count", "INTEGER", 1),
    ("top", "INTEGER", 1),
    ("results", "TEXT", 1),
    ("proposals", "TEXT", 0),
    ("size_bytes", "INTEGER", 1),
]


def schema_of(path: Path) -> tuple[list[int], list[tuple[str, str, int]]]:
    with sqlite3.connect(path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        columns = [(c[1], c[2], c[3]) for c in conn.execute("PRAGMA table_info(triage_run)")]
    conn.close()
    return versions, columns


def test_a_version_1_database_is_migrated_keeping_its_feedback(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as conn:  # the file as the first release left it
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        conn.executescript(MIGRATIONS[0])
        conn.execute("INSERT INTO schema_version VALUES (1, '2026-10-01T00:00:00+00:00')")
        conn.execute("INSERT INTO feedback VALUES (1, 'p1', 'eu-zorg', 1, 'oud', '2026-10-02T00:00:00+00:00')")
    conn.close()

    with FeedbackStore.open(path, clock=lambda: NOW) as store:
        assert [(r.note, r.organisation) for r in store.list()] == [("oud", "default")]
        run = store.add_run("json", 3, [{"proposal_id": "p1"}], [Proposal(id="p1", text=HYDROGEN)])
        assert len(run.id) >= 20
    assert schema_of(path) == ([1, 2, 3, 4, 5], RUN_COLUMNS)


def test_a_version_2_database_is_migrated_keeping_its_runs_without_proposals(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    version_2_database(path)

    with FeedbackStore.open(path, clock=lambda: NOW) as store:
        assert [r.note for r in store.list()] == ["oud"]
        old = "2026-10-03T00:00:00+00:00"
        assert store.run("1") == TriageRun(
            "1", old, "oud.csv", 1, 5, "default", "2027-01-01T00:00:00+00:00", [{"proposal_id": "o1", "matches": []}]
        )
        with pytest.raises(RunWithoutProposalsError, match=r"^triage run 1 was stored before runs kept their "):
            store.run_proposals("1")
        new = store.add_run("json", 1, [{"proposal_id": "n1"}], [Proposal(id="n1", text=MEDTECH)])
        assert store.run_proposals(new.id) == [Proposal(id="n1", text=MEDTECH)]
        assert [r.id for r in store.list_runs()] == [new.id, "1"]
    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT seq, id, proposals IS NULL FROM triage_run ORDER BY seq").fetchall()
    conn.close()
    assert schema_of(path)[0] == [1, 2, 3, 4, 5]
    assert stored == [(1, "1", 1), (2, new.id, 0)]


def version_3_database(path: Path) -> list[Proposal]:
    """The file as the third release left it: integer run ids counting up, each run with its proposals."""
    proposals = [Proposal(id="o1", text=HYDROGEN, region="NL-GR"), Proposal(id="o2", text=MEDTECH)]
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        for version, script in enumerate(MIGRATIONS[:3], 1):
            conn.executescript(script)
            conn.execute("INSERT INTO schema_version VALUES (?, '2026-10-01T00:00:00+00:00')", (version,))
        conn.execute("INSERT INTO feedback VALUES (1, 'o1', 'eu-zorg', 0, 'te duur', '2026-11-01T00:00:00+00:00')")
        for run_id, proposal in enumerate(proposals, 1):
            conn.execute(
                "INSERT INTO triage_run VALUES (?, ?, 'oud.csv', 1, 3, ?, ?)",
                (
                    run_id,
                    f"2026-11-0{run_id}T00:00:00+00:00",
                    json.dumps([{"proposal_id": proposal.id, "matches": []}]),
                    json.dumps([proposal.model_dump(mode="json")]),
                ),
            )
    conn.close()
    return proposals


def test_a_version_3_database_is_migrated_keeping_its_runs_readable(tiny_matcher: Matcher, tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    proposals = version_3_database(path)

    with FeedbackStore.open(path, clock=lambda: NOW) as store:
        assert schema_of(path) == ([1, 2, 3, 4, 5], RUN_COLUMNS)
        assert [(r.id, r.organisation, r.created_at) for r in store.list_runs()] == [
            ("2", "default", "2026-11-02T00:00:00+00:00"),
            ("1", "default", "2026-11-01T00:00:00+00:00"),
        ]
        assert [store.run_proposals(i) for i in ("1", "2")] == [[proposals[0]], [proposals[1]]]
        assert store.used_bytes("default") == _size(path, "1") + _size(path, "2") > 0
        client = service_client(tiny_matcher, store, api_key_digests=(DIGEST,))  # an admin of "default"
        old = client.get("/v1/triage/runs/1", headers=AUTH)
        assert (old.status_code, old.json()["results"]) == (200, [{"proposal_id": "o1", "matches": []}])
        assert client.get("/v1/triage/runs/1").status_code == 401  # the old numbers are no way in without a key
        assert client.get("/v1/feedback", headers=AUTH).json()[0]["organisation"] == "default"
        new = client.post("/v1/triage", json={"proposals": [{"text": MEDTECH}]}, headers=AUTH)
        assert [r["id"] for r in client.get("/v1/triage/runs", headers=AUTH).json()] == [
            new.headers["x-triage-run"],
            "2",
            "1",
        ]


def test_feedback_and_runs_survive_closing_and_reopening_the_store(tmp_path: Path) -> None:
    path = tmp_path / "data" / "feedback.sqlite3"
    with FeedbackStore.open(path, clock=lambda: NOW) as store:
        row = store.add("p1", "eu-zorg", relevant=False, note="te duur", organisation="rom-oost")
        run = store.add_run("json", 1, [{"proposal_id": "p1", "matches": []}], [Proposal(id="p1", text=MEDTECH)])
    with FeedbackStore.open(path, clock=lambda: NOW) as reopened:
        assert reopened.list() == reopened.list(organisation="rom-oost") == [row]
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
        "MATCHER_API_KEYS": f"{DIGEST}:adviser:rom-oost",
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
        body = {"proposals": [{"text": HYDROGEN}], "top": 1}
        triage = httpx.post(f"{base}/v1/triage", json=body, headers=AUTH, timeout=10)
        assert triage.status_code == 200
        run_id = triage.headers["x-triage-run"]
    finally:
        server.send_signal(signal.SIGKILL)  # no shutdown, no lifespan exit: only what was committed remains
        server.wait(timeout=10)
    assert server.returncode == -signal.SIGKILL
    with FeedbackStore.open(db) as store:
        assert [r.to_dict() for r in store.list()] == [feedback.json()]
        assert feedback.json()["organisation"] == "rom-oost"
        assert store.run(run_id).organisation == "rom-oost"
        assert store.run_results(run_id, organisation="rom-oost") == triage.json()
        assert store.run_proposals(run_id) == [Proposal(id="1", text=HYDROGEN)]
        assert json.loads(json.dumps(store.run_results(run_id)))[0]["matches"][0]["instrument_id"] == "nl-waterstof"


def test_the_service_deletes_expired_runs_at_start_up_and_applies_its_quota(corpus_dir: Path, tmp_path: Path) -> None:
    from matcher import Settings
    from service.app import create_app
    from service.config import ServiceSettings

    db = tmp_path / "feedback.sqlite3"
    version_3_database(db)  # two runs of 2026-11: past a retention of one day on any day after 2026-11-03
    settings = Settings(corpora=corpus_dir, artefacts=tmp_path / "artefacts", model="hashing")
    service = ServiceSettings(db=db, api_key_digests=(DIGEST,), retention_days=1, quota_bytes=1)
    with TestClient(create_app(settings, service)) as client:
        assert _ids(db) == []
        assert client.get("/v1/triage/runs/1", headers=AUTH).status_code == 404
        refused = client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}]}, headers=AUTH)
        assert refused.status_code == 507 and "past its quota of 1 bytes" in refused.json()["error"]
        assert client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}]}).status_code == 200
    assert _ids(db) == []
