"""Request time limit, CORS, and the bad inputs the service must refuse with a clear status and message.

The slow matcher sleeps before it answers, so a time limit shorter than its sleep must answer 503 at once.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matcher import InputError, Matcher
from service.config import DEFAULT_REQUEST_TIMEOUT_S, ServiceSettings, parse_origins, parse_timeout
from service.storage import FeedbackStore
from service.timeouts import timeout_message

from .conftest import service_client

HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser"
KEY = "k3y-for-tests"
ORIGIN = "https://adviseur.example.nl"


class SlowMatcher:
    """The tiny matcher, but each match or batch first sleeps `delay` seconds."""

    def __init__(self, matcher: Matcher, delay: float) -> None:
        self.matcher, self.delay, self.corpus = matcher, delay, matcher.corpus

    def match(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(self.delay)
        return self.matcher.match(*args, **kwargs)

    def match_batch(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(self.delay)
        return self.matcher.match_batch(*args, **kwargs)


def build(matcher: Any, store: FeedbackStore, **service: Any) -> TestClient:
    digests = (hashlib.sha256(KEY.encode()).hexdigest(),)
    return service_client(matcher, store, api_key_digests=digests, **service)


# -- request time limit ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/v1/match", {"json": {"text": HYDROGEN}}),
        ("/v1/triage", {"json": {"proposals": [{"text": HYDROGEN}]}}),
        ("/v1/triage/upload", {"files": {"file": ("ideas.csv", f"text\n{HYDROGEN}\n".encode(), "text/csv")}}),
    ],
)
def test_work_past_the_time_limit_answers_503_without_waiting(
    tiny_matcher: Matcher, store: FeedbackStore, path: str, kwargs: dict[str, Any]
) -> None:
    client = build(SlowMatcher(tiny_matcher, delay=1.5), store, request_timeout_s=0.2)
    started = time.monotonic()
    response = client.post(path, **kwargs)
    waited = time.monotonic() - started
    assert (response.status_code, response.json()) == (503, {"error": timeout_message(0.2)})
    assert response.json()["error"].startswith("the request took longer than the limit of 0.2 s and was stopped; ")
    assert response.headers["retry-after"] == "1"
    assert waited < 1.2  # the answer came at the limit, not after the matcher's sleep
    assert store.count_runs() == 0  # a stopped triage stores nothing


def test_work_within_the_time_limit_answers_normally(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(SlowMatcher(tiny_matcher, delay=0.05), store, request_timeout_s=5)
    assert client.post("/v1/match", json={"text": HYDROGEN, "top": 1}).json()["matches"][0]["instrument_id"] == (
        "nl-waterstof"
    )
    stored = client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}]}, headers={"X-API-Key": KEY})
    assert (stored.status_code, store.count_runs()) == (200, 1)


def test_the_time_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATCHER_REQUEST_TIMEOUT_S", raising=False)
    assert ServiceSettings.from_env().request_timeout_s == DEFAULT_REQUEST_TIMEOUT_S == 60.0
    monkeypatch.setenv("MATCHER_REQUEST_TIMEOUT_S", "2.5")
    assert ServiceSettings.from_env().request_timeout_s == 2.5
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(InputError) as info:
            parse_timeout(bad)
        assert str(info.value) == f"MATCHER_REQUEST_TIMEOUT_S: value {bad!r}: should be a number of seconds above 0"


# -- CORS ------------------------------------------------------------------------------------------------------------
def test_cors_is_off_unless_configured(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(tiny_matcher, store)
    simple = client.get("/v1/regions", headers={"Origin": ORIGIN})
    assert simple.status_code == 200
    assert not [h for h in simple.headers if h.startswith("access-control-")]
    preflight = client.options(
        "/v1/match", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )  # no CORS: the route does not answer OPTIONS
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_the_configured_origins_only(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = build(tiny_matcher, store, cors_origins=(ORIGIN,))
    simple = client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}]}, headers={"Origin": ORIGIN})
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "x-triage-run" in simple.headers["access-control-expose-headers"].lower()
    preflight = client.options(
        "/v1/feedback",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )
    assert (preflight.status_code, preflight.headers["access-control-allow-origin"]) == (200, ORIGIN)
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
    other = client.get("/v1/regions", headers={"Origin": "https://elders.example"})
    assert "access-control-allow-origin" not in other.headers
    refused = client.options(
        "/v1/match", headers={"Origin": "https://elders.example", "Access-Control-Request-Method": "POST"}
    )
    assert refused.status_code == 400


def test_cors_origins_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATCHER_CORS_ORIGINS", raising=False)
    assert ServiceSettings.from_env().cors_origins == ()
    monkeypatch.setenv("MATCHER_CORS_ORIGINS", f" {ORIGIN}/ , http://localhost:5173,")
    assert ServiceSettings.from_env().cors_origins == (ORIGIN, "http://localhost:5173")
    with pytest.raises(InputError, match=r"^MATCHER_CORS_ORIGINS: value 'adviseur\.example\.nl': not an origin; "):
        parse_origins("adviseur.example.nl")
    with pytest.raises(InputError, match=r"value 'https://a\.example/app': not an origin"):
        parse_origins("https://a.example/app")


# -- the bad inputs of the issue, each with its status and message ----------------------------------------------------
BAD_INPUTS = [
    ("empty text", "post", "/v1/match", {"json": {"text": "  "}}, 422,
     "field 'text': value '  ': text is empty; describe the project in a few sentences"),
    ("oversize body", "post", "/v1/match", {"json": {"text": "x" * 1000}}, 413, "request body over 500 bytes"),
    ("unknown field", "post", "/v1/match", {"json": {"text": HYDROGEN, "budget": 5}}, 422,
     "field 'budget': value 5: Extra inputs are not permitted"),
    ("unknown field in a row", "post", "/v1/triage", {"json": {"proposals": [{"text": HYDROGEN, "x": 1}]}}, 422,
     "proposal 1: unknown column(s) 'x'"),
    ("wrong key", "post", "/v1/feedback",
     {"json": {"proposal_id": "p", "instrument_id": "eu-zorg", "relevant": True}, "headers": {"X-API-Key": "nope"}},
     401, "invalid API key"),
    ("too many rows", "post", "/v1/triage", {"json": {"proposals": [{"text": "a"}] * 501}}, 422,
     "501 proposals; at most 500 per request"),
    ("malformed CSV", "post", "/v1/triage/upload",
     {"files": {"file": ("ideas.csv", b"id,text\na,x,extra\n", "text/csv")}}, 422,
     "ideas.csv: row 1 (line 2): more values than header columns"),
    ("CSV without a text column", "post", "/v1/triage/upload",
     {"files": {"file": ("ideas.csv", b"id,name\na,b\n", "text/csv")}}, 422,
     "ideas.csv: row 1: field 'text' is missing"),
    ("CSV not in UTF-8", "post", "/v1/triage/upload",
     {"files": {"file": ("ideas.csv", b"text\n\x81\x8d", "text/csv")}}, 422,
     "ideas.csv: neither UTF-8 (byte 5) nor cp1252 (byte 5)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "method", "path", "kwargs", "status", "fragment"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_inputs_are_refused_with_a_clear_status_and_message(
    tiny_matcher: Matcher,
    store: FeedbackStore,
    what: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    fragment: str,
) -> None:
    # A small body limit for the oversize case; the largest other body here (501 rows) is under 6 kB.
    limit = 500 if what == "oversize body" else 10_000
    response = getattr(build(tiny_matcher, store, max_body_bytes=limit), method)(path, **kwargs)
    assert response.status_code == status
    assert fragment in response.json()["error"]
    assert "Traceback" not in response.text
