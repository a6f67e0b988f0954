"""Saved profiles over HTTP: `POST/GET /v1/watch`, `DELETE /v1/watch/{name}` and the Atom feed of each profile.

The corpus is `test_watch.watch_corpus` (the next round of `nl-scholing` opens on 2026-03-01); the feed is parsed
with feedparser and checked against RFC 4287's required elements with ElementTree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient

from matcher import HashingEncoder, Matcher, Settings, load_corpus
from matcher.app import WatchStore
from service.app import create_app
from service.config import ServiceSettings
from service.storage import FeedbackStore
from service.watch import get_watch_store

from .conftest import service_client
from .test_watch import SCHOLING_NAME, SKILLS, watch_corpus

ALICE, BOB = "alice-key", "bob-key"
DIGESTS = tuple(hashlib.sha256(k.encode()).hexdigest() for k in (ALICE, BOB))
A = {"X-API-Key": ALICE}
B = {"X-API-Key": BOB}
NS = {"a": "http://www.w3.org/2005/Atom"}
PROFILE = {"name": "skills", "text": SKILLS, "region": "NL-GE", "applicant_type": "sme"}
FEED = "/v1/watch/skills/feed.atom?as_of=2026-03-02&since=2026-02-10&lang=en"


@pytest.fixture(scope="module")
def watch_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    return Matcher.build(load_corpus(watch_corpus(tmp_path_factory.mktemp("watch") / "corpora")), HashingEncoder())


@pytest.fixture
def profiles(tmp_path: Path) -> Iterator[WatchStore]:
    with WatchStore.open(tmp_path / "feedback.sqlite3") as opened:  # the feedback store's file
        yield opened


@pytest.fixture
def api(watch_matcher: Matcher, store: FeedbackStore, profiles: WatchStore) -> TestClient:
    client = service_client(watch_matcher, store, api_key_digests=DIGESTS)
    client.app.dependency_overrides[get_watch_store] = lambda: profiles  # type: ignore[attr-defined]
    return client


def test_profiles_are_created_listed_replaced_and_deleted(api: TestClient, profiles: WatchStore) -> None:
    created = api.post("/v1/watch", json=PROFILE, headers=A)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in ("name", "text", "region", "applicant_type", "top", "last_run")} == {
        "name": "skills",
        "text": SKILLS,
        "region": "NL-GE",
        "applicant_type": "sme",
        "top": 10,
        "last_run": None,
    }
    assert [p["name"] for p in api.get("/v1/watch", headers=A).json()] == ["skills"]
    replaced = api.post("/v1/watch", json=PROFILE | {"top": 3, "budget_eur": "250.000"}, headers=A)
    assert (replaced.status_code, replaced.json()["top"], replaced.json()["budget_eur"]) == (201, 3, 250_000.0)
    owner = hashlib.sha256(ALICE.encode()).hexdigest()
    assert [p.name for p in profiles.list(owner)] == ["skills"]  # stored under the key's digest, never the key
    assert api.delete("/v1/watch/skills", headers=A).status_code == 204
    assert api.get("/v1/watch", headers=A).json() == []
    assert api.delete("/v1/watch/skills", headers=A).status_code == 404


def test_the_feed_is_valid_atom_with_the_new_round(api: TestClient) -> None:
    api.post("/v1/watch", json=PROFILE, headers=A)
    answer = api.get(FEED, headers=A)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/atom+xml"
    parsed = feedparser.parse(answer.content)
    assert (parsed.bozo, parsed.version) == (0, "atom10")
    assert parsed.feed.title == "regio-matcher: skills"
    assert parsed.feed.author == "regio-matcher"
    assert parsed.feed.updated == "2026-03-01T00:00:00Z"
    [entry] = parsed.entries
    assert entry.id == "tag:regio-matcher,2026:nl-scholing/2026-03-01/2026-04-30"
    assert entry.title == f"{SCHOLING_NAME} (nl-scholing)"  # & < > " came through escaped and back
    assert entry.link == "https://example.org/regeling"
    assert entry.updated == "2026-03-01T00:00:00Z"
    assert entry.summary == (
        "new round open since 2026-03-01. Round 2026-03-01 - 2026-04-30. Match score 1.00 (Eligible)."
    )
    assert [t.term for t in entry.tags] == ["opened"]
    check_rfc4287(answer.content)


def check_rfc4287(data: bytes) -> None:
    """The elements RFC 4287 requires: one id, title and updated in the feed and in every entry, an author for the
    feed (so entries need none), a link or content per entry, ids that are IRIs, RFC 3339 dates."""
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for element in [root, *root.findall("a:entry", NS)]:
        for tag in ("id", "title", "updated"):
            assert len(element.findall(f"a:{tag}", NS)) == 1, tag
        assert element.findtext("a:id", namespaces=NS).startswith("tag:regio-matcher,2026:")  # type: ignore[union-attr]
        updated = element.findtext("a:updated", namespaces=NS) or ""
        assert dt.datetime.fromisoformat(updated.replace("Z", "+00:00")).tzinfo is not None
    assert root.find("a:author/a:name", NS) is not None
    assert root.find("a:link[@rel='self']", NS) is not None
    for entry in root.findall("a:entry", NS):
        assert entry.find("a:link[@rel='alternate']", NS) is not None or entry.find("a:content", NS) is not None
        assert entry.find("a:summary", NS) is not None


def test_reading_the_feed_records_nothing_and_entry_ids_are_stable(api: TestClient, profiles: WatchStore) -> None:
    api.post("/v1/watch", json=PROFILE, headers=A)
    first = feedparser.parse(api.get(FEED, headers=A).content)
    later = feedparser.parse(api.get(FEED.replace("2026-03-02", "2026-04-20"), headers=A).content)
    assert [e.id for e in later.entries] == [e.id for e in first.entries]
    assert [t.term for t in later.entries[0].tags] == ["opened", "closing"]
    assert later.entries[0].updated == "2026-04-16T00:00:00Z"  # the day the deadline came within 14 days
    owner = hashlib.sha256(ALICE.encode()).hexdigest()
    assert profiles.get(owner, "skills").last_run is None
    quiet = feedparser.parse(api.get("/v1/watch/skills/feed.atom?as_of=2026-03-10&since=2026-03-05", headers=A).content)
    assert (quiet.bozo, quiet.entries) == (0, [])


def test_another_key_cannot_read_or_delete_a_profile(api: TestClient) -> None:
    api.post("/v1/watch", json=PROFILE, headers=A)
    assert api.get(FEED, headers=B).status_code == 404
    assert api.get("/v1/watch", headers=B).json() == []
    assert api.delete("/v1/watch/skills", headers=B).status_code == 404
    missing = api.get(FEED)
    assert (missing.status_code, missing.json()) == (
        401,
        {"error": "missing X-API-Key header; writing needs an API key"},
    )
    assert api.get(FEED, headers={"X-API-Key": "guess"}).status_code == 401
    assert api.get("/v1/watch").status_code == 401
    assert api.post("/v1/watch", json=PROFILE).status_code == 401
    assert api.get(FEED, headers=A).status_code == 200  # still there for its owner


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Skills"},
        {"name": "a b"},
        {"name": "x" * 65},
        {"name": ""},
        {"text": "   "},
        {"text": "x" * 20_001},
        {"region": "NL-XX"},
        {"top": 0},
        {"id": "p9"},
        {"as_of": "2026-03-02"},
        {"unknown": 1},
    ],
)
def test_bad_profiles_are_refused(api: TestClient, change: dict[str, Any]) -> None:
    answer = api.post("/v1/watch", json=PROFILE | change, headers=A)
    assert answer.status_code == 422, answer.text
    assert api.get("/v1/watch", headers=A).json() == []


def test_bad_names_in_the_path_are_refused(api: TestClient) -> None:
    assert api.get("/v1/watch/Skills/feed.atom", headers=A).status_code == 422
    assert api.delete(f"/v1/watch/{'x' * 65}", headers=A).status_code == 422
    assert api.get("/v1/watch/nothing/feed.atom", headers=A).status_code == 404


def test_without_configured_keys_the_routes_answer_503(watch_matcher: Matcher, store: FeedbackStore) -> None:
    client = service_client(watch_matcher, store)
    assert client.get("/v1/watch", headers=A).status_code == 503


def test_the_service_keeps_profiles_in_its_database_file(tmp_path: Path) -> None:
    root = watch_corpus(tmp_path / "corpora")
    settings = Settings(corpora=root, artefacts=tmp_path / "art", model="hashing")
    db = tmp_path / "service.sqlite3"
    with TestClient(create_app(settings, ServiceSettings(db=db, api_key_digests=DIGESTS))) as client:
        assert client.post("/v1/watch", json=PROFILE, headers=A).status_code == 201
        assert feedparser.parse(client.get(FEED, headers=A).content).entries[0].id.endswith("2026-03-01/2026-04-30")
    with WatchStore.open(db) as reopened:
        assert [p.name for p in reopened.list(hashlib.sha256(ALICE.encode()).hexdigest())] == ["skills"]
