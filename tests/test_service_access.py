"""Who may read and store what: API keys with a role and an organisation (issue 11).

Three keys: advisers of organisations "rom-oost" (A) and "rom-noord" (B), and an admin of "beheer". Without a key
no stored proposal, result or feedback can be read or written, while matching and triage stay open and store
nothing; a key of one organisation gets 404 for another organisation's runs (as for an unknown id, so ids do not
leak), and the admin sees and deletes everything. The matcher is the tiny one of conftest; the clock is fixed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from matcher import InputError, Matcher
from service.config import ServiceSettings, parse_keys
from service.gaps import get_threshold
from service.security import NEEDS_KEY, WRITES_DISABLED, ApiKey
from service.storage import FeedbackStore

from .conftest import GAP_THRESHOLD, service_client

HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser, vertrouwelijk plan van Acme"
NOW = dt.datetime(2026, 11, 30, 9, 15, 0, tzinfo=dt.UTC)
A, B, ADMIN = "sleutel-van-a", "sleutel-van-b", "sleutel-van-beheer"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


KEYS = (
    ApiKey(digest(A), "adviser", "rom-oost"),
    ApiKey(digest(B), "adviser", "rom-noord"),
    ApiKey(digest(ADMIN), "admin", "beheer"),
)
FEEDBACK = {"proposal_id": "acme", "instrument_id": "nl-waterstof", "relevant": True, "note": "geheim"}
TRIAGE = {"proposals": [{"id": "acme", "text": HYDROGEN}], "top": 2}


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore.open(tmp_path / "feedback.sqlite3", clock=lambda: NOW) as opened:
        yield opened


def build(matcher: Matcher, store: FeedbackStore, keys: tuple[ApiKey, ...] = KEYS) -> TestClient:
    client = service_client(matcher, store, api_keys=keys)
    client.app.dependency_overrides[get_threshold] = lambda: GAP_THRESHOLD  # type: ignore[attr-defined]
    return client


@pytest.fixture
def client(tiny_matcher: Matcher, store: FeedbackStore) -> TestClient:
    return build(tiny_matcher, store)


def stored_run(client: TestClient, key: str = A) -> str:
    response = client.post("/v1/triage", json=TRIAGE, headers=auth(key))
    assert response.status_code == 200
    return response.headers["x-triage-run"]


def csv_file() -> dict[str, Any]:
    return {"file": ("acme.csv", f'id,text\nacme,"{HYDROGEN}"\n'.encode(), "text/csv")}


# -- without a key ---------------------------------------------------------------------------------------------------
RUN = "{run}"
PROTECTED = [
    ("get", "/v1/triage/runs", {}),
    ("get", f"/v1/triage/runs/{RUN}", {}),
    ("delete", f"/v1/triage/runs/{RUN}", {}),
    ("get", f"/v1/gaps?run={RUN}&as_of=2026-11-30", {}),
    ("get", "/v1/feedback", {}),
    ("get", "/v1/feedback?proposal_id=acme", {}),
    ("post", "/v1/feedback", {"json": FEEDBACK}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": ""}, {"X-API-Key": "wrong"}, {"X-API-Key": digest(A)}])
def test_without_a_valid_key_no_stored_record_can_be_read_or_written(
    client: TestClient,
    store: FeedbackStore,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    headers: dict[str, str],
) -> None:
    run_id = stored_run(client)
    client.post("/v1/feedback", json=FEEDBACK, headers=auth(A))
    response = getattr(client, method)(path.replace(RUN, run_id), headers=headers, **kwargs)
    error = NEEDS_KEY if not headers.get("X-API-Key") else "invalid API key"
    assert (response.status_code, response.json()) == (401, {"error": error})
    assert response.headers["www-authenticate"] == "APIKey"
    assert "vertrouwelijk" not in response.text and "geheim" not in response.text
    assert (store.count_runs(), store.count()) == (1, 1)  # nothing deleted, nothing added
    assert store.run(run_id).results  # still there


TRIAGES = [
    ("post", "/v1/triage", {"json": TRIAGE}),
    ("post", "/v1/triage/upload", {"files": csv_file()}),
    ("post", "/v1/triage/upload?format=csv", {"files": csv_file()}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), TRIAGES, ids=[p for _, p, _ in TRIAGES])
def test_anonymous_triage_is_answered_and_stores_nothing(
    client: TestClient, store: FeedbackStore, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == 200
    assert "acme" in response.text  # the results, for the caller
    assert "x-triage-run" not in response.headers
    assert store.count_runs() == 0
    wrong = getattr(client, method)(path, headers={"X-API-Key": "wrong"}, **kwargs)
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid API key"})  # a key sent must be valid
    assert store.count_runs() == 0
    keyed = getattr(client, method)(path, headers=auth(B), **kwargs)
    assert keyed.status_code == 200
    assert store.run(keyed.headers["x-triage-run"]).organisation == "rom-noord"


def test_anonymous_matching_and_the_demo_gap_report_stay_open(client: TestClient) -> None:
    assert client.post("/v1/match", json={"text": HYDROGEN, "top": 1}).status_code == 200
    assert client.get("/v1/instruments").status_code == 200


def test_the_adviser_page_stores_only_with_a_key(client: TestClient, store: FeedbackStore) -> None:
    def post(**fields: str) -> httpx.Response:
        return client.post("/adviser?lang=en", files=csv_file(), data={"top": "2", **fields})

    page = post()
    assert page.status_code == 200 and "x-triage-run" not in page.headers
    assert "Not stored: give your API key with the file to store the run" in page.text
    assert 'id="f-api_key" name="api_key"' in page.text and 'type="password"' in page.text
    assert store.count_runs() == 0

    refused = post(api_key="wrong")
    assert refused.status_code == 401
    assert "API key (to store the run): this API key is not valid." in refused.text
    assert "<table" not in refused.text and store.count_runs() == 0  # checked before any work

    stored = post(api_key=f" {A} ")
    run_id = stored.headers["x-triage-run"]
    assert f"Stored as triage run {run_id}." in stored.text and A not in stored.text
    assert (store.run(run_id).organisation, store.count_runs()) == ("rom-oost", 1)


def test_the_adviser_page_says_when_storing_is_switched_off(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(tiny_matcher, store, keys=())
    page = client.post("/adviser?lang=en", files=csv_file(), data={"top": "2", "api_key": A})
    assert page.status_code == 503
    assert "storing is switched off on this server (no API keys are configured)" in page.text
    assert client.post("/adviser?lang=en", files=csv_file(), data={"top": "2"}).status_code == 200
    assert store.count_runs() == 0


def test_with_no_keys_configured_storing_and_reading_answer_503(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(tiny_matcher, store, keys=())
    for response in (
        client.post("/v1/triage", json=TRIAGE, headers=auth(A)),
        client.get("/v1/triage/runs", headers=auth(A)),
        client.get("/v1/feedback"),
        client.post("/v1/feedback", json=FEEDBACK, headers=auth(A)),
    ):
        assert (response.status_code, response.json()) == (503, {"error": WRITES_DISABLED})
    anonymous = client.post("/v1/triage", json=TRIAGE)
    assert anonymous.status_code == 200 and store.count_runs() == 0


# -- organisations ---------------------------------------------------------------------------------------------------
def test_a_key_sees_only_its_organisations_runs_and_another_gets_404(client: TestClient, store: FeedbackStore) -> None:
    mine, theirs = stored_run(client, A), stored_run(client, B)
    listed = client.get("/v1/triage/runs", headers=auth(A)).json()
    assert [(r["id"], r["organisation"]) for r in listed] == [(mine, "rom-oost")]
    assert client.get(f"/v1/triage/runs/{mine}", headers=auth(A)).json()["results"][0]["proposal_id"] == "acme"

    unknown = {"error": f"unknown triage run id {theirs!r}; GET /v1/triage/runs lists them"}
    for response in (
        client.get(f"/v1/triage/runs/{theirs}", headers=auth(A)),
        client.delete(f"/v1/triage/runs/{theirs}", headers=auth(A)),
        client.get("/v1/gaps", params={"run": theirs, "as_of": "2026-11-30"}, headers=auth(A)),
    ):
        assert (response.status_code, response.json()) == (404, unknown)  # as for an id that does not exist
    never = client.get("/v1/triage/runs/doesNotExist12345678", headers=auth(A))
    assert never.json()["error"] == unknown["error"].replace(theirs, "doesNotExist12345678")
    assert store.count_runs() == 2

    gaps = client.get("/v1/gaps", params={"run": mine, "as_of": "2026-11-30"}, headers=auth(A))
    assert (gaps.status_code, gaps.json()["proposals"]) == (200, 1)
    assert client.delete(f"/v1/triage/runs/{mine}", headers=auth(A)).status_code == 204
    assert client.get("/v1/gaps", params={"run": mine, "as_of": "2026-11-30"}, headers=auth(A)).status_code == 404
    assert [r.id for r in store.list_runs()] == [theirs]


def test_the_admin_sees_and_deletes_every_organisations_runs(client: TestClient, store: FeedbackStore) -> None:
    a, b = stored_run(client, A), stored_run(client, B)
    listed = client.get("/v1/triage/runs", headers=auth(ADMIN)).json()
    assert [(r["id"], r["organisation"]) for r in listed] == [(b, "rom-noord"), (a, "rom-oost")]
    assert client.get(f"/v1/triage/runs/{a}", headers=auth(ADMIN)).status_code == 200
    gaps = client.get("/v1/gaps", params={"run": b, "as_of": "2026-11-30"}, headers=auth(ADMIN))
    assert gaps.status_code == 200
    assert client.delete(f"/v1/triage/runs/{a}", headers=auth(ADMIN)).status_code == 204
    assert client.get(f"/v1/triage/runs/{a}", headers=auth(A)).status_code == 404
    own = stored_run(client, ADMIN)
    assert store.run(own).organisation == "beheer"
    assert [r.id for r in store.list_runs()] == [own, b]


def test_feedback_is_kept_per_organisation(client: TestClient) -> None:
    for key, note in ((A, "van a"), (B, "van b")):
        response = client.post("/v1/feedback", json={**FEEDBACK, "note": note}, headers=auth(key))
        assert response.status_code == 201
    assert [(r["note"], r["organisation"]) for r in client.get("/v1/feedback", headers=auth(A)).json()] == [
        ("van a", "rom-oost")
    ]
    assert [r["note"] for r in client.get("/v1/feedback?proposal_id=acme", headers=auth(B)).json()] == ["van b"]
    assert [r["note"] for r in client.get("/v1/feedback", headers=auth(ADMIN)).json()] == ["van a", "van b"]


# -- configuration ---------------------------------------------------------------------------------------------------
def test_keys_are_configured_as_digests_with_a_role_and_an_organisation(monkeypatch: pytest.MonkeyPatch) -> None:
    legacy, adviser = digest(ADMIN), digest(A)
    monkeypatch.setenv("MATCHER_API_KEYS", f" {legacy.upper()} , {adviser}:Adviser:rom-oost ,")
    settings = ServiceSettings.from_env()
    assert settings.api_keys == (ApiKey(legacy, "admin", "default"), ApiKey(adviser, "adviser", "rom-oost"))
    assert settings.keys() == settings.api_keys
    both = ServiceSettings(api_key_digests=(legacy,), api_keys=(ApiKey(adviser, "adviser", "x"),))
    assert both.keys() == (ApiKey(legacy), ApiKey(adviser, "adviser", "x"))  # bare digests: admins of "default"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (A, f"entry 1 ({A[:8] + '...'!r}): not a SHA-256 hex digest (64 hex characters); configure the digest of "
         "each key, not the key itself"),
        (f"{'a' * 64},{'b' * 64}:boss:rom-oost", "entry 2 ('bbbbbbbb...:boss:rom-oost'): role 'boss' is not one of "
         "adviser, admin"),
        (f"{'a' * 64}:adviser", "entry 1 ('aaaaaaaa...:adviser'): write DIGEST or DIGEST:ROLE:ORGANISATION"),
        (f"{'a' * 64}:adviser:rom:oost", "entry 1 ('aaaaaaaa...:adviser:rom:oost'): write DIGEST or "
         "DIGEST:ROLE:ORGANISATION"),
        (f"{'a' * 64}:adviser:rom oost", "entry 1 ('aaaaaaaa...:adviser:rom oost'): organisation 'rom oost' should "
         "be 1-64 characters a-z, A-Z, 0-9, '.', '_' or '-'"),
        (f"{'a' * 64}:admin:", "entry 1 ('aaaaaaaa...:admin:'): organisation '' should be 1-64 characters"),
        (f"{'a' * 64},{'A' * 64}:adviser:x", "entry 2 ('AAAAAAAA...:adviser:x'): the same key is configured twice"),
    ],
)  # fmt: skip
def test_a_bad_key_entry_stops_the_start_naming_the_entry(value: str, error: str) -> None:
    with pytest.raises(InputError) as info:
        parse_keys(value)
    assert str(info.value).startswith(f"MATCHER_API_KEYS: {error}")
