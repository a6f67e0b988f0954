"""`GET /v1/gaps` over the tiny corpus (nl-scholing closing in 30 days), with the batch and threshold overridden.

The demo intake is replaced by the batch of test_gaps; a stored triage run of the same batch must give the same
report, and a repeated query must come from the cache without running the matcher again. Runs are stored and read
with an admin key (a bare digest); who may read which run is tested in test_service_access.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matcher import Matcher, MatchResult, Proposal
from service.app import create_app
from service.cache import LRUCache
from service.config import ServiceSettings
from service.deps import get_matcher, get_store
from service.gaps import GAP_CACHE_SIZE, get_demo_intake, get_threshold
from service.storage import FeedbackStore

from .conftest import GAP_THRESHOLD as THRESHOLD
from .conftest import gap_proposals as proposals
from .conftest import version_2_database

AS_OF = {"as_of": "2026-11-30"}
KEY = "k3y-for-tests"
SERVICE = ServiceSettings(db=Path("unused"), api_key_digests=(hashlib.sha256(KEY.encode()).hexdigest(),))
AUTH = {"X-API-Key": KEY}


@pytest.fixture
def client(gap_matcher: Matcher, store: FeedbackStore) -> Iterator[TestClient]:
    app = create_app(service=SERVICE)
    app.dependency_overrides[get_matcher] = lambda: gap_matcher
    app.dependency_overrides[get_store] = lambda: store
    app.dependency_overrides[get_demo_intake] = lambda: proposals
    app.dependency_overrides[get_threshold] = lambda: THRESHOLD
    yield TestClient(app)
    app.dependency_overrides.clear()


def test_gaps_returns_the_tables_clusters_and_threshold(client: TestClient) -> None:
    response = client.get("/v1/gaps", params={"as_of": "2026-11-30", "window_days": 60})
    assert response.status_code == 200
    body = response.json()
    assert body["threshold"]["value"] == 0.7 and body["threshold"]["method"] == "fixed for the tests"
    gap = next(c for c in body["demand_supply"] if (c["theme"], c["region"]) == ("agrifood", "NL-GE"))
    assert (gap["demand"], gap["supply"], gap["gap"]) == (2, 0, True)
    assert [(i["instrument_id"], i["closes"], i["matching_proposals"]) for i in body["closing_soon"]] == [
        ("nl-scholing", "2026-12-30", ["s1"])
    ]
    assert [i["instrument_id"] for i in body["unmatched_instruments"]] == ["eu-zorg", "rom-oost-lening"]
    assert sorted(sorted(c["members"]) for c in body["clusters"]) == [["e1", "e2"], ["t1", "t2"]]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"theme": "kunst"}, 422, "unknown theme 'kunst'"),
        ({"region": "NL-XX"}, 422, "unknown region 'NL-XX'"),
        ({"as_of": "morgen"}, 422, "field 'as_of': value 'morgen'"),
        ({"window_days": -1}, 422, "field 'window_days'"),
        ({"run": "a.b"}, 422, "field 'run': value 'a.b': String should match pattern '^[A-Za-z0-9_-]{1,64}$'"),
        ({"run": "x" * 65}, 422, "field 'run': value 'xxxxxxxx"),
        ({"run": "x"}, 401, "missing X-API-Key header; stored runs, proposals and feedback need an API key"),
    ],
)
def test_gaps_bad_query_answers_one_clear_error(
    client: TestClient, params: dict[str, object], status: int, message: str
) -> None:
    response = client.get("/v1/gaps", params=params)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_gaps_without_a_batch_says_so(client: TestClient) -> None:
    client.app.dependency_overrides[get_demo_intake] = lambda: lambda: []  # type: ignore[attr-defined]
    response = client.get("/v1/gaps")
    assert (response.status_code, response.json()["error"]) == (422, "no proposals in the batch")


# -- the proposals of a stored triage run ----------------------------------------------------------------------------
def test_gaps_of_a_stored_run_analyse_the_proposals_of_that_run(client: TestClient, store: FeedbackStore) -> None:
    rows = [p.model_dump(mode="json", exclude_none=True) for p in proposals()]
    triage = client.post("/v1/triage", json={"proposals": rows, "top": 3}, headers=AUTH)
    run_id = triage.headers["x-triage-run"]
    assert (triage.status_code, len(run_id) >= 20) == (200, True)

    response = client.get("/v1/gaps", params={**AS_OF, "run": run_id}, headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["proposals"] == store.run(run_id).row_count == len(rows) == 6
    assert {u["proposal_id"] for u in body["unmet"]} <= {r["id"] for r in rows}
    # The run holds the demo batch here, so its report is the demo's.
    assert body == client.get("/v1/gaps", params=AS_OF).json()


def test_gaps_of_a_run_of_other_proposals_differ_from_the_demo(client: TestClient) -> None:
    rows = [{"id": "x1", "text": "Wij bouwen een waterstof pilot met een elektrolyser", "region": "NL-GR"}]
    run_id = client.post("/v1/triage", json={"proposals": rows}, headers=AUTH).headers["x-triage-run"]
    body = client.get("/v1/gaps", params={**AS_OF, "run": run_id}, headers=AUTH).json()
    assert body["proposals"] == 1
    demand = [(c["theme"], c["region"], c["demand"]) for c in body["demand_supply"] if c["demand"]]
    assert demand == [("energy", "NL-GR", 1)]
    assert [i["matching_proposals"] for i in body["closing_soon"]] == [[]]  # s1 of the demo is not in this run


def test_gaps_of_an_unknown_run_is_404(client: TestClient) -> None:
    response = client.get("/v1/gaps", params={"run": 7}, headers=AUTH)
    assert (response.status_code, response.json()) == (
        404,
        {"error": "unknown triage run id '7'; GET /v1/triage/runs lists them"},
    )


def test_gaps_of_a_run_stored_before_proposals_were_kept_is_422(gap_matcher: Matcher, tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    version_2_database(path)  # run 1 has results only
    with FeedbackStore.open(path, clock=lambda: dt.datetime(2026, 11, 30, tzinfo=dt.UTC)) as old:
        app = create_app(service=SERVICE)
        app.dependency_overrides[get_matcher] = lambda: gap_matcher
        app.dependency_overrides[get_store] = lambda: old
        app.dependency_overrides[get_threshold] = lambda: THRESHOLD
        response = TestClient(app).get("/v1/gaps", params={"run": "1"}, headers=AUTH)
    assert response.status_code == 422
    assert response.json() == {
        "error": "triage run 1 was stored before runs kept their proposals, so it cannot be analysed again; "
        "upload its file again (POST /v1/triage/upload) and use the new run id"
    }


def test_run_is_documented_in_the_openapi_schema(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/gaps"]["get"]
    run = next(p for p in operation["parameters"] if p["name"] == "run")
    assert run["in"] == "query" and "stored triage run" in run["description"]
    assert "run" in operation["description"] and {"404", "422"} <= set(operation["responses"])


# -- the cache -------------------------------------------------------------------------------------------------------
Counted = Callable[..., list[MatchResult]]


def count_calls(monkeypatch: pytest.MonkeyPatch, gap_matcher: Matcher) -> list[int]:
    """Wrap `gap_matcher.match_batch` (for this test only) and return the list its calls are appended to."""
    calls: list[int] = []
    original: Counted = gap_matcher.match_batch

    def counting(batch: Sequence[Proposal], *args: Any, **kwargs: Any) -> list[MatchResult]:
        calls.append(len(batch))
        return original(batch, *args, **kwargs)

    monkeypatch.setattr(gap_matcher, "match_batch", counting)
    return calls


def test_a_repeated_query_is_answered_from_the_cache(
    client: TestClient,
    gap_matcher: Matcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = count_calls(monkeypatch, gap_matcher)
    loads: list[int] = []

    def demo() -> list[Proposal]:
        loads.append(1)
        return proposals()

    client.app.dependency_overrides[get_demo_intake] = lambda: demo  # type: ignore[attr-defined]
    first = client.get("/v1/gaps", params={**AS_OF, "window_days": 60})
    again = client.get("/v1/gaps", params={**AS_OF, "window_days": 60})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert (calls, loads) == ([6], [1])  # matched and read once

    other = client.get("/v1/gaps", params={**AS_OF, "window_days": 30})  # another query: matched again
    assert other.status_code == 200 and other.json()["options"]["window_days"] == 30
    assert calls == [6, 6]


def test_a_run_and_the_demo_are_cached_apart(
    client: TestClient,
    gap_matcher: Matcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [{"id": "x1", "text": "Scholing en opleiding van werknemers in het mkb", "region": "NL-UT"}]
    run_id = client.post("/v1/triage", json={"proposals": rows}, headers=AUTH).headers["x-triage-run"]
    calls = count_calls(monkeypatch, gap_matcher)
    demo = client.get("/v1/gaps", params=AS_OF).json()
    run = client.get("/v1/gaps", params={**AS_OF, "run": run_id}, headers=AUTH).json()
    assert (demo["proposals"], run["proposals"]) == (6, 1)
    assert client.get("/v1/gaps", params={**AS_OF, "run": run_id}, headers=AUTH).json() == run
    assert client.get("/v1/gaps", params={**AS_OF, "run": run_id}).status_code == 401  # the cache asks for the key
    assert calls == [6, 1]


def test_the_cache_keeps_the_entries_used_most_recently() -> None:
    cache: LRUCache[int, str] = LRUCache(2)
    cache.put(1, "a")
    cache.put(2, "b")
    assert cache.get(1) == "a"  # 1 is now the most recent
    cache.put(3, "c")
    assert (cache.get(1), cache.get(2), cache.get(3), len(cache)) == ("a", None, "c", 2)
    assert GAP_CACHE_SIZE == 32
    with pytest.raises(ValueError, match="cache size 0"):
        LRUCache(0)
