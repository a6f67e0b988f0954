"""The faults of the reliability review that the service had (issue 11, part 4), each reproduced first:

- M6: `X-Forwarded-For` moved a local client to a fresh bucket per request; now only configured proxies are heard;
- L6: security headers only on the HTML pages and any `Host` accepted; now on every answer, and a host list;
- the 18 writes stored but never acknowledged: a retry wrote them twice; now `Idempotency-Key` answers it again.
"""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from matcher import InputError, Matcher
from service.config import ServiceSettings, parse_hosts, parse_proxies
from service.ratelimit import client_address
from service.security import ApiKey
from service.storage import MIGRATIONS, FeedbackStore, migrate

from .conftest import service_client, wait_for_job

HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser"
KEY, OTHER = "k3y-for-tests", "another-organisation"
KEYS = (
    ApiKey(hashlib.sha256(KEY.encode()).hexdigest(), "adviser", "rom-oost"),
    ApiKey(hashlib.sha256(OTHER.encode()).hexdigest(), "adviser", "rom-west"),
)
AUTH = {"X-API-Key": KEY}
FEEDBACK = {"proposal_id": "p1", "instrument_id": "nl-waterstof", "relevant": True, "note": "past goed"}


def build(matcher: Matcher, store: FeedbackStore, **service: object) -> TestClient:
    return service_client(matcher, store, api_keys=KEYS, **service)


# -- X-Forwarded-For (M6) --------------------------------------------------------------------------------------------
def spoofed_statuses(client: TestClient, n: int) -> list[int]:
    return [
        client.post(
            "/v1/match", json={"text": HYDROGEN, "top": 1}, headers={"X-Forwarded-For": f"10.0.0.{i}"}
        ).status_code
        for i in range(n)
    ]


def test_x_forwarded_for_from_an_untrusted_peer_does_not_escape_the_rate_limit(
    tiny_matcher: Matcher, store: FeedbackStore
) -> None:
    statuses = spoofed_statuses(build(tiny_matcher, store, rate_per_minute=3), 5)
    assert statuses == [200, 200, 200, 429, 429]  # one bucket: the socket peer's, whatever the header says


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    # TestClient's peer is "testclient", not an address, so the proxy rule is shown on the function itself.
    proxy = (ipaddress.ip_network("10.1.0.0/16"),)
    assert client_address("10.1.2.3", "198.51.100.7", proxy) == "198.51.100.7"
    assert client_address("10.1.2.3", "6.6.6.6, 198.51.100.7, 10.1.9.9", proxy) == "198.51.100.7"  # right-most
    assert client_address("10.1.2.3", "not-an-address", proxy) == "10.1.2.3"
    assert client_address("192.0.2.1", "198.51.100.7", proxy) == "192.0.2.1"  # not a proxy: header ignored
    assert client_address("10.1.2.3", None, proxy) == "10.1.2.3"


def test_trusted_proxies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATCHER_TRUSTED_PROXIES", raising=False)
    assert ServiceSettings.from_env().trusted_proxies == ()  # default: none, the socket peer is the client
    monkeypatch.setenv("MATCHER_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8 ,::1")
    assert [str(n) for n in ServiceSettings.from_env().trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(InputError, match=r"^MATCHER_TRUSTED_PROXIES: value 'proxy\.local': not an IP address"):
        parse_proxies("proxy.local")


# -- security headers and allowed hosts (L6) -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/v1/regions", {}, 200),
        ("post", "/v1/match", {"json": {"text": HYDROGEN, "top": 1}}, 200),
        ("post", "/v1/triage", {"json": {"proposals": [{"text": HYDROGEN}]}, "headers": AUTH}, 200),
        ("get", "/v1/feedback", {"headers": AUTH}, 200),
        ("get", "/v1/feedback", {}, 401),
        ("post", "/v1/match", {"json": {"text": " "}}, 422),
        ("get", "/v1/nowhere", {}, 404),
        ("get", "/openapi.json", {}, 200),
        ("get", "/", {}, 200),
    ],
)
def test_every_answer_carries_the_security_headers(
    tiny_matcher: Matcher, store: FeedbackStore, method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    response = getattr(build(tiny_matcher, store), method)(path, **kwargs)
    assert response.status_code == status
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers.get_list("content-security-policy") == [headers["content-security-policy"]]  # the page's own only


def test_the_pages_keep_their_own_strict_policy_and_static_files_stay_cacheable(
    tiny_matcher: Matcher, store: FeedbackStore
) -> None:
    client = build(tiny_matcher, store)
    assert "script-src" in client.get("/").headers["content-security-policy"]
    static = next(p for p in (Path(__file__).parent.parent / "service" / "static").iterdir() if p.is_file())
    answer = client.get(f"/static/{static.name}")
    assert answer.status_code == 200 and answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers.get("cache-control") != "no-store"


def test_a_body_over_the_limit_carries_the_headers_too(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    response = build(tiny_matcher, store, max_body_bytes=100).post("/v1/match", json={"text": "x" * 500})
    assert response.status_code == 413 and response.headers["x-content-type-options"] == "nosniff"


def test_any_host_is_answered_unless_allowed_hosts_are_configured(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    assert build(tiny_matcher, store).get("/v1/regions", headers={"Host": "attacker.example"}).status_code == 200
    client = build(tiny_matcher, store, allowed_hosts=("matcher.example.nl", "*.rom.nl"))
    assert client.get("/v1/regions", headers={"Host": "matcher.example.nl"}).status_code == 200
    assert client.get("/v1/regions", headers={"Host": "oost.rom.nl:8000"}).status_code == 200
    refused = client.get("/v1/regions", headers={"Host": "attacker.example"})  # DNS rebinding ends here
    assert (refused.status_code, refused.text) == (400, "Invalid host header")
    assert refused.headers["x-content-type-options"] == "nosniff"


def test_allowed_hosts_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATCHER_ALLOWED_HOSTS", raising=False)
    assert ServiceSettings.from_env().allowed_hosts == ()
    monkeypatch.setenv("MATCHER_ALLOWED_HOSTS", "Matcher.Example.nl, *.rom.nl, localhost")
    assert ServiceSettings.from_env().allowed_hosts == ("matcher.example.nl", "*.rom.nl", "localhost")
    with pytest.raises(InputError, match=r"^MATCHER_ALLOWED_HOSTS: value 'https://a\.nl': not a host name"):
        parse_hosts("https://a.nl")


# -- Idempotency-Key -------------------------------------------------------------------------------------------------
def test_a_feedback_retry_with_the_same_key_writes_once_and_answers_the_first_row(
    tiny_matcher: Matcher, store: FeedbackStore
) -> None:
    client = build(tiny_matcher, store)
    headers = {**AUTH, "Idempotency-Key": "retry-1"}
    first = client.post("/v1/feedback", json=FEEDBACK, headers=headers)
    again = client.post("/v1/feedback", json=FEEDBACK, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert store.count() == 1
    other = client.post("/v1/feedback", json={**FEEDBACK, "relevant": False}, headers=headers)
    assert other.status_code == 422
    assert "Idempotency-Key 'retry-1' was used before with another request" in other.json()["error"]
    assert store.count() == 1
    client.post("/v1/feedback", json=FEEDBACK, headers={**AUTH, "Idempotency-Key": "retry-2"})
    client.post("/v1/feedback", json=FEEDBACK, headers=AUTH)  # no key: every post is a new row
    assert store.count() == 3


def test_keys_are_per_organisation(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(tiny_matcher, store)
    client.post("/v1/feedback", json=FEEDBACK, headers={**AUTH, "Idempotency-Key": "k"})
    theirs = client.post("/v1/feedback", json=FEEDBACK, headers={"X-API-Key": OTHER, "Idempotency-Key": "k"})
    assert theirs.status_code == 201 and theirs.json()["organisation"] == "rom-west"
    assert store.count() == 2


def test_a_stored_triage_retry_answers_the_first_run_and_stores_nothing(
    tiny_matcher: Matcher, store: FeedbackStore
) -> None:
    client = build(tiny_matcher, store)
    headers = {**AUTH, "Idempotency-Key": "triage-1"}
    body = {"proposals": [{"id": "a", "text": HYDROGEN}], "top": 2}
    first = client.post("/v1/triage", json=body, headers=headers)
    again = client.post("/v1/triage", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["x-triage-run"] == first.headers["x-triage-run"]
    assert again.json() == first.json()
    assert store.count_runs() == 1
    changed = client.post("/v1/triage", json={**body, "top": 3}, headers=headers)
    assert changed.status_code == 422 and store.count_runs() == 1


def test_an_upload_retry_answers_the_first_run_also_as_csv(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(tiny_matcher, store)
    headers = {**AUTH, "Idempotency-Key": "upload-1"}
    files = {"file": ("ideas.csv", f"id,text\na,{HYDROGEN}\n".encode(), "text/csv")}
    first = client.post("/v1/triage/upload?format=csv", files=files, headers=headers)
    again = client.post("/v1/triage/upload?format=csv", files=files, headers=headers)
    as_json = client.post("/v1/triage/upload", files=files, headers=headers)
    assert first.status_code == again.status_code == as_json.status_code == 200
    assert again.text == first.text and again.headers["x-triage-run"] == first.headers["x-triage-run"]
    assert as_json.json()[0]["proposal_id"] == "a" and store.count_runs() == 1
    other = {"file": ("ideas.csv", f"id,text\nb,{HYDROGEN}\n".encode(), "text/csv")}
    assert client.post("/v1/triage/upload", files=other, headers=headers).status_code == 422


def test_an_anonymous_triage_ignores_the_key_and_stores_nothing(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(tiny_matcher, store)
    body = {"proposals": [{"text": HYDROGEN}]}
    for _ in range(2):
        answer = client.post("/v1/triage", json=body, headers={"Idempotency-Key": "anon"})
        assert answer.status_code == 200 and "x-triage-run" not in answer.headers
    assert store.count_runs() == 0


@pytest.mark.parametrize("key", [b"", b"with space", b"x" * 256, "sleutel-é".encode()])
def test_a_bad_key_is_refused(tiny_matcher: Matcher, store: FeedbackStore, key: bytes) -> None:
    headers: dict[str, str | bytes] = {**AUTH, "Idempotency-Key": key}
    answer = build(tiny_matcher, store).post("/v1/feedback", json=FEEDBACK, headers=headers)
    assert answer.status_code == 422
    assert "header 'Idempotency-Key': should be 1-255 visible ASCII characters" in answer.json()["error"]
    assert store.count() == 0


def test_keys_expire_with_the_retention(tmp_path: Path) -> None:
    import datetime as dt

    now = [dt.datetime(2026, 11, 30, tzinfo=dt.UTC)]
    from service.storage import AlreadyStored, Idempotency

    with FeedbackStore.open(tmp_path / "f.sqlite3", clock=lambda: now[0], retention_days=1) as kept:
        idem = Idempotency("k", "digest")
        kept.add("p1", "nl-waterstof", True, organisation="o", idempotency=idem)
        with pytest.raises(AlreadyStored):
            kept.add("p1", "nl-waterstof", True, organisation="o", idempotency=idem)
        now[0] += dt.timedelta(days=2)
        kept.add("p1", "nl-waterstof", True, organisation="o", idempotency=idem)  # expired: a new write
        assert kept.count() == 2


def test_the_key_table_is_a_new_migration_on_an_old_database(tmp_path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    assert migrate(conn, MIGRATIONS[:4]) == 4
    conn.execute("INSERT INTO feedback (proposal_id, instrument_id, relevant, created_at) VALUES ('p', 'i', 1, 'x')")
    conn.close()
    with FeedbackStore.open(tmp_path / "old.sqlite3") as store:
        assert store.count() == 1
        tables = {r[0] for r in store._connection().execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "idempotency_key" in tables


def test_serve_turns_off_uvicorns_own_forwarded_header_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default, which made a spoofed address the client (M6).
    import uvicorn

    from service.app import serve

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs))
    serve(None, workers=1)
    assert seen["proxy_headers"] is False and seen["server_header"] is False


def test_a_triage_job_under_a_key_is_stored_once_and_its_retry_answers_the_run(
    tiny_matcher: Matcher, store: FeedbackStore
) -> None:
    client = build(tiny_matcher, store)
    headers = {**AUTH, "Idempotency-Key": "job-1"}
    body = {"proposals": [{"id": "a", "text": HYDROGEN}]}
    jobs = [
        client.post("/v1/triage?async=true", json=body, headers=headers) for _ in range(2)
    ]  # both before either ends
    assert [j.status_code for j in jobs] in ([202, 202], [202, 200])
    done = [wait_for_job(client, j.headers["location"], headers=AUTH) for j in jobs if j.status_code == 202]
    assert len({d["run_id"] for d in done}) == 1 and store.count_runs() == 1
    again = client.post("/v1/triage", json=body, headers=headers)
    assert (again.status_code, again.headers["x-triage-run"]) == (200, done[0]["run_id"])
    assert store.count_runs() == 1
