"""Feedback over HTTP and in SQLite: storage, API keys, the body size limit, migrations and restarts.

Reading and writing feedback both need a key; the two test keys are bare digests (admins of organisation "default").

Every store lives in a temporary file; the matcher is the tiny one of conftest (its instruments include
nl-waterstof and eu-zorg, not nl-onbekend). The clock is fixed, so stored rows are known exactly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from matcher import InputError, Matcher, Settings
from service.app import create_app
from service.config import DEFAULT_MAX_BODY_BYTES, ServiceSettings, default_db, parse_digests
from service.deps import get_matcher
from service.limits import BodySizeLimit
from service.security import NEEDS_KEY, WRITES_DISABLED, ApiKey, key_matches
from service.storage import MIGRATIONS, Feedback, FeedbackStore, StorageError

from .conftest import service_client

KEY = "k3y-for-tests"
DIGEST = hashlib.sha256(KEY.encode()).hexdigest()
OTHER_DIGEST = hashlib.sha256(b"someone else").hexdigest()
NOW = dt.datetime(2026, 11, 30, 9, 15, 0, tzinfo=dt.UTC)
STAMP = "2026-11-30T09:15:00+00:00"
AUTH = {"X-API-Key": KEY}
GOOD = {"proposal_id": "p1", "instrument_id": "nl-waterstof", "relevant": True, "note": "past goed"}


def fixed_clock() -> dt.datetime:
    return NOW


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore.open(tmp_path / "db" / "feedback.sqlite3", clock=fixed_clock) as opened:
        yield opened


def build(
    tiny_matcher: Matcher, store: FeedbackStore, digests: tuple[str, ...] = (OTHER_DIGEST, DIGEST), **limits: int
) -> TestClient:
    """A client over the tiny matcher and `store` (its clock fixed), with writes open to the two test keys."""
    return service_client(tiny_matcher, store, api_key_digests=digests, **limits)


@pytest.fixture
def client(tiny_matcher: Matcher, store: FeedbackStore) -> TestClient:
    return build(tiny_matcher, store)


def row(id: int, proposal_id: str, instrument_id: str, relevant: bool, note: str | None) -> dict[str, Any]:
    return {
        "id": id,
        "proposal_id": proposal_id,
        "instrument_id": instrument_id,
        "relevant": relevant,
        "note": note,
        "created_at": STAMP,
        "organisation": "default",
    }


# -- POST and GET /v1/feedback -----------------------------------------------------------------------------------------
def test_feedback_is_stored_and_listed_in_order_and_filtered(client: TestClient) -> None:
    first = client.post("/v1/feedback", json=GOOD, headers=AUTH)
    assert (first.status_code, first.json()) == (201, row(1, "p1", "nl-waterstof", True, "past goed"))
    second = client.post(
        "/v1/feedback", json={"proposal_id": "p2", "instrument_id": "eu-zorg", "relevant": False}, headers=AUTH
    )
    assert (second.status_code, second.json()) == (201, row(2, "p2", "eu-zorg", False, None))
    client.post("/v1/feedback", json={**GOOD, "instrument_id": "eu-zorg", "note": None}, headers=AUTH)

    everything = [
        row(1, "p1", "nl-waterstof", True, "past goed"),
        row(2, "p2", "eu-zorg", False, None),
        row(3, "p1", "eu-zorg", True, None),
    ]
    assert client.get("/v1/feedback", headers=AUTH).json() == everything
    assert client.get("/v1/feedback?proposal_id=p1", headers=AUTH).json() == [everything[0], everything[2]]
    assert client.get("/v1/feedback?proposal_id=p9", headers=AUTH).json() == []
    assert client.get("/v1/feedback?limit=1&offset=1", headers=AUTH).json() == [everything[1]]
    assert client.get("/v1/feedback?proposal_id=p1&offset=1", headers=AUTH).json() == [everything[2]]
    assert client.get("/v1/feedback").status_code == 401  # reading needs a key too
    assert client.get("/health").json()["feedback_rows"] == 3


def test_a_stored_row_is_committed_before_the_response(
    client: TestClient, store: FeedbackStore, tmp_path: Path
) -> None:
    client.post("/v1/feedback", json=GOOD, headers=AUTH)
    # A second connection sees only committed data.
    with sqlite3.connect(tmp_path / "db" / "feedback.sqlite3") as other:
        rows = other.execute("SELECT id, proposal_id, instrument_id, relevant, note, created_at FROM feedback")
        assert rows.fetchall() == [(1, "p1", "nl-waterstof", 1, "past goed", STAMP)]
    other.close()


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("limit=0", "field 'limit': value '0': Input should be greater than or equal to 1"),
        ("limit=501", "field 'limit': value '501': Input should be less than or equal to 500"),
        ("offset=-1", "field 'offset': value '-1': Input should be greater than or equal to 0"),
        ("relevant=true", "field 'relevant': value 'true': Extra inputs are not permitted"),
    ],
)
def test_feedback_list_rejects_bad_queries(client: TestClient, query: str, error: str) -> None:
    response = client.get(f"/v1/feedback?{query}", headers=AUTH)
    assert (response.status_code, response.json()["error"]) == (422, error)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"score": 3}, "field 'score': value 3: Extra inputs are not permitted"),
        ({"note": "x" * 2001}, "field 'note': value " + repr("x" * 2001)[:77] + "...: "
         "String should have at most 2000 characters"),
        ({"relevant": "yes"}, "field 'relevant': value 'yes': Input should be a valid boolean"),
        ({"relevant": 1}, "field 'relevant': value 1: Input should be a valid boolean"),
        ({"proposal_id": ""}, "field 'proposal_id': value '': String should have at least 1 character"),
    ],
)  # fmt: skip
def test_feedback_rejects_bad_bodies_and_stores_nothing(
    client: TestClient, store: FeedbackStore, change: dict[str, Any], error: str
) -> None:
    response = client.post("/v1/feedback", json={**GOOD, **change}, headers=AUTH)
    assert (response.status_code, response.json()["error"]) == (422, error)
    assert store.count() == 0


def test_feedback_accepts_a_note_of_2000_characters(client: TestClient) -> None:
    response = client.post("/v1/feedback", json={**GOOD, "note": "x" * 2000}, headers=AUTH)
    assert (response.status_code, len(response.json()["note"])) == (201, 2000)


def test_feedback_on_an_unknown_instrument_is_404(client: TestClient, store: FeedbackStore) -> None:
    response = client.post("/v1/feedback", json={**GOOD, "instrument_id": "nl-onbekend"}, headers=AUTH)
    assert (response.status_code, response.json()) == (
        404,
        {"error": "unknown instrument id 'nl-onbekend'; `matcher instruments` lists them"},
    )
    assert store.count() == 0


# -- API keys --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, NEEDS_KEY),
        ({"X-API-Key": ""}, NEEDS_KEY),
        ({"X-API-Key": "wrong"}, "invalid API key"),
        ({"X-API-Key": DIGEST}, "invalid API key"),  # the digest itself is not a key
        ({"Authorization": f"Bearer {KEY}"}, NEEDS_KEY),
    ],
)
def test_writing_without_a_valid_key_is_401(
    client: TestClient, store: FeedbackStore, headers: dict[str, str], error: str
) -> None:
    response = client.post("/v1/feedback", json=GOOD, headers=headers)
    assert (response.status_code, response.json()) == (401, {"error": error})
    assert response.headers["www-authenticate"] == "APIKey"
    assert store.count() == 0


def test_the_key_is_checked_before_the_body(client: TestClient) -> None:
    response = client.post("/v1/feedback", json={"score": 3})
    assert response.status_code == 401


def test_writes_are_refused_with_503_when_no_keys_are_configured(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(tiny_matcher, store, digests=())
    response = client.post("/v1/feedback", json=GOOD, headers=AUTH)
    assert (response.status_code, response.json()) == (503, {"error": WRITES_DISABLED})
    assert WRITES_DISABLED.startswith("writes are disabled until MATCHER_API_KEYS is set")
    assert client.get("/v1/feedback", headers=AUTH).status_code == 503  # and reading
    assert store.count() == 0


def test_key_matches_any_configured_digest_only() -> None:
    assert key_matches(KEY, (OTHER_DIGEST, DIGEST))
    assert key_matches("someone else", (OTHER_DIGEST, DIGEST))
    assert not key_matches(KEY, (OTHER_DIGEST,))
    assert not key_matches(KEY, ())


def test_digests_are_read_from_the_environment_and_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATCHER_DB", str(tmp_path / "f.sqlite3"))
    monkeypatch.setenv("MATCHER_API_KEYS", f" {DIGEST.upper()} ,{OTHER_DIGEST},")
    monkeypatch.setenv("MATCHER_MAX_BODY_BYTES", "1000")
    admins = (ApiKey(DIGEST, "admin", "default"), ApiKey(OTHER_DIGEST, "admin", "default"))
    assert ServiceSettings.from_env() == ServiceSettings(tmp_path / "f.sqlite3", (), 1000, api_keys=admins)
    for name in ("MATCHER_DB", "MATCHER_API_KEYS", "MATCHER_MAX_BODY_BYTES"):
        monkeypatch.delenv(name)
    assert ServiceSettings.from_env() == ServiceSettings(default_db(), (), DEFAULT_MAX_BODY_BYTES)
    assert default_db().name == "feedback.sqlite3" and DEFAULT_MAX_BODY_BYTES == 2 * 1024 * 1024
    with pytest.raises(InputError, match=r"^MATCHER_API_KEYS: value 'k3y-for-\.\.\.': not a SHA-256 hex digest"):
        parse_digests(KEY)
    monkeypatch.setenv("MATCHER_MAX_BODY_BYTES", "2MB")
    with pytest.raises(InputError, match=r"^MATCHER_MAX_BODY_BYTES: value '2MB': should be a whole number of bytes"):
        ServiceSettings.from_env()


# -- body size limit -------------------------------------------------------------------------------------------------
def test_a_body_over_the_limit_is_413_and_one_at_the_limit_passes(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(tiny_matcher, store, max_body_bytes=200)
    big = client.post("/v1/feedback", json={**GOOD, "note": "x" * 300}, headers=AUTH)
    assert (big.status_code, big.json()) == (413, {"error": "request body over 200 bytes"})
    assert store.count() == 0
    head = b'{"proposal_id": "p1", "instrument_id": "eu-zorg", "relevant": false, "note": "'
    exact = head + b"y" * (200 - len(head) - 2) + b'"}'
    ok = client.post("/v1/feedback", content=exact, headers={**AUTH, "content-type": "application/json"})
    assert (ok.status_code, len(exact)) == (201, 200)
    over = client.post("/v1/feedback", content=exact + b" ", headers={**AUTH, "content-type": "application/json"})
    assert (over.status_code, store.count()) == (413, 1)


def test_a_streamed_body_growing_past_the_limit_is_413(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(tiny_matcher, store, max_body_bytes=200)
    chunks = iter([b'{"proposal_id": "p1", ', b'"note": "' + b"z" * 250 + b'"}'])
    response = client.post("/v1/feedback", content=chunks, headers={**AUTH, "content-type": "application/json"})
    assert (response.status_code, response.json()) == (413, {"error": "request body over 200 bytes"})
    assert store.count() == 0


def run_asgi(app: Any, messages: list[Message], headers: list[tuple[bytes, bytes]]) -> tuple[list[Message], int]:
    """Run `app` on one request given as receive messages; return what it sent and how many messages it read."""
    pending, sent = list(messages), []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}
    asyncio.run(app(scope, receive, send))
    return sent, len(messages) - len(pending)


def test_the_limit_stops_reading_a_chunked_body_at_the_first_chunk_past_it() -> None:
    seen: list[bytes] = []

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            seen.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limited = BodySizeLimit(echo, max_bytes=10)
    chunk = {"type": "http.request", "body": b"abcd", "more_body": True}
    sent, read = run_asgi(limited, [chunk, chunk, chunk, chunk], [])
    assert (sent[0]["status"], read, seen) == (413, 3, [])  # 12 bytes after the third chunk: the app never ran
    assert sent[1]["body"] == b'{"error":"request body over 10 bytes"}'

    last = {"type": "http.request", "body": b"ab", "more_body": False}
    sent, read = run_asgi(limited, [chunk, chunk, last], [])
    assert (sent[0]["status"], read, seen) == (204, 3, [b"abcd", b"abcd", b"ab"])

    sent, read = run_asgi(limited, [chunk], [(b"content-length", b"11")])
    assert (sent[0]["status"], read) == (413, 0)  # refused on the header alone


# -- storage ---------------------------------------------------------------------------------------------------------
def test_the_database_is_in_wal_mode_with_full_sync(store: FeedbackStore, tmp_path: Path) -> None:
    assert (store.pragma("journal_mode"), store.pragma("synchronous")) == ("wal", 2)  # 2 = FULL
    with sqlite3.connect(tmp_path / "db" / "feedback.sqlite3") as other:  # WAL is a property of the file
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()
    with pytest.raises(ValueError, match="not a pragma name"):
        store.pragma("journal_mode; DROP TABLE feedback")


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore.open(path).close()
    with FeedbackStore.open(path) as again:
        again.add("p1", "eu-zorg", relevant=True)
    with sqlite3.connect(path) as conn:
        assert [v for (v,) in conn.execute("SELECT version FROM schema_version")] == [1, 2, 3, 4, 5]
        assert len(MIGRATIONS) == 5
        columns = [(c[1], c[2], c[3]) for c in conn.execute("PRAGMA table_info(feedback)")]
    conn.close()
    assert columns == [
        ("id", "INTEGER", 0),
        ("proposal_id", "TEXT", 1),
        ("instrument_id", "TEXT", 1),
        ("relevant", "INTEGER", 1),
        ("note", "TEXT", 0),
        ("created_at", "TEXT", 1),
        ("organisation", "TEXT", 1),
    ]


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (6, '2027-01-01T00:00:00+00:00')")
    conn.close()
    with pytest.raises(StorageError, match="at schema version 6, newer than this program knows \\(5\\)"):
        FeedbackStore.open(path)


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = FeedbackStore.open(tmp_path / "feedback.sqlite3")
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StorageError, match="^the feedback store is closed$"):
        store.count()


def test_concurrent_writes_from_threads_all_land(store: FeedbackStore) -> None:
    def write(n: int) -> None:
        for i in range(25):
            store.add(f"p{n}", "eu-zorg", relevant=i % 2 == 0)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = store.list(limit=500)
    assert [r.id for r in rows] == list(range(1, 201))
    assert len(store.list(limit=500, proposal_id="p3")) == 25
    assert store.list(limit=1)[0] == Feedback(1, rows[0].proposal_id, "eu-zorg", True, None, STAMP)


def test_rows_survive_a_restart_of_the_app(corpus_dir: Path, tmp_path: Path) -> None:
    settings = Settings(corpora=corpus_dir, artefacts=tmp_path / "artefacts", model="hashing")
    service = ServiceSettings(db=tmp_path / "data" / "feedback.sqlite3", api_key_digests=(DIGEST,))
    first: FastAPI = create_app(settings, service)
    with TestClient(first) as client:
        stored = [client.post("/v1/feedback", json={**GOOD, "proposal_id": p}, headers=AUTH).json() for p in "ab"]
        assert client.get("/health").json()["feedback_rows"] == 2
    assert first.state.store is None  # closed at shutdown

    with TestClient(create_app(settings, service)) as client:
        assert client.get("/v1/feedback", headers=AUTH).json() == stored
        assert [r["proposal_id"] for r in stored] == ["a", "b"]
        assert client.get("/health").json()["feedback_rows"] == 2
    with FeedbackStore.open(service.db) as reopened:
        assert [r.to_dict() for r in reopened.list()] == stored


def test_feedback_answers_503_until_the_store_is_open(tiny_matcher: Matcher) -> None:
    app = create_app(service=ServiceSettings(db=Path("unused")))
    app.dependency_overrides[get_matcher] = lambda: tiny_matcher
    response = TestClient(app).get("/v1/feedback")
    assert (response.status_code, response.json()) == (
        503,
        {"error": "the feedback store is not open; the service is starting or failed to start"},
    )
