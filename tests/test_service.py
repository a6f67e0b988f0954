"""The HTTP service over the tiny matcher of conftest (swapped in with `dependency_overrides`; no real model).

Answers known in advance from the tiny corpus: a hydrogen pilot ranks nl-waterstof first; the closed Gelderland
protein scheme is ineligible outside Gelderland and ranks last; only rom-oost-lening covers NL-OV as a region.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matcher import Matcher, Proposal, Settings, app
from matcher.records import REGION_CODES
from service.app import THREAD_VARIABLES, create_app, log_config, serve, worker_environment
from service.config import ServiceSettings
from service.deps import get_matcher, get_store
from service.protocol import HeaderTimeoutH11
from service.storage import FeedbackStore

from .conftest import wait_for_job

AS_OF = "2026-11-30"
HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser"
PROTEIN = "plantaardige eiwitten en vleesvervangers"
REGION_LIST = ", ".join(REGION_CODES)  # NL-GR, ..., NL-LI, BE-VLG, BE-WAL, DE-NW, DE-NI, NL, EU
ALL_IDS = ["nl-waterstof", "nl-scholing", "prov-gelderland-eiwit", "eu-zorg", "rom-oost-lening"]

EMPTY = "text is empty; describe the project in a few sentences"


@pytest.fixture
def client(tiny_matcher: Matcher, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app()
    store = FeedbackStore.open(tmp_path / "feedback.sqlite3")
    app.dependency_overrides[get_matcher] = lambda: tiny_matcher
    app.dependency_overrides[get_store] = lambda: store
    yield TestClient(app)  # not entered as a context: the lifespan (which would load the real model) never runs
    app.dependency_overrides.clear()
    store.close()


def ranked(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["instrument_id"], m["eligibility"]) for m in body["matches"]]


# -- POST /v1/match ------------------------------------------------------------------------------------------------
def test_match_returns_the_library_result_as_contract_json(client: TestClient, tiny_matcher: Matcher) -> None:
    fields: dict[str, Any] = {"text": HYDROGEN, "region": "NL-GR", "applicant_type": "sme", "trl": 6, "partners": 3}
    response = client.post("/v1/match", json={**fields, "id": "w1", "as_of": AS_OF, "top": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["proposal_id"] == "w1"
    assert ranked(body) == [("nl-waterstof", "eligible"), ("eu-zorg", "unknown"), ("nl-scholing", "eligible")]
    assert body["flags"] == ["missing_budget"]
    assert [p["region"] for p in body["partner_regions"]] == ["NL-ZH", "NL-GE"]
    top = body["matches"][0]
    assert {"instrument_id", "name", "level", "regions", "score", "eligibility", "checks", "why"} <= set(top)
    assert [(c["criterion"], c["status"]) for c in top["checks"]] == [
        ("region", "met"),
        ("applicant_type", "met"),
        ("trl", "met"),
        ("partners", "met"),
        ("deadline", "met"),
    ]
    expected = app.match(tiny_matcher, Proposal(id="w1", as_of=dt.date(2026, 11, 30), **fields), top_k=3, lang="nl")
    assert body == json.loads(json.dumps(expected.to_dict()))
    assert top["why"][0] == "Gedeelde thema's: Energie"  # worded, in the language asked for (Dutch by default)


def test_match_defaults_to_id_p1_and_ten_matches_with_ineligible_last(client: TestClient) -> None:
    body = client.post("/v1/match", json={"text": PROTEIN, "region": "NL-GR", "as_of": AS_OF}).json()
    assert body["proposal_id"] == "p1"
    assert ranked(body) == [
        ("nl-waterstof", "unknown"),
        ("nl-scholing", "unknown"),
        ("eu-zorg", "unknown"),
        ("prov-gelderland-eiwit", "ineligible"),
        ("rom-oost-lening", "ineligible"),
    ]


LONG_TEXT = "x" * 20_001
SHOWN_LONG = repr(LONG_TEXT)[:77] + "..."


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"text": ""}, "field 'text': value '': " + EMPTY),
        ({"text": " \n\t "}, "field 'text': value ' \\n\\t ': " + EMPTY),
        ({"text": LONG_TEXT}, f"field 'text': value {SHOWN_LONG}: String should have at most 20000 characters"),
        ({"budget": 1000}, "field 'budget': value 1000: Extra inputs are not permitted"),
        (
            {"region": "NL-XX"},
            f"field 'region': value 'NL-XX': not a known region code; use one of {REGION_LIST}",
        ),
        ({"trl": 0}, "field 'trl': value 0: Input should be greater than or equal to 1"),
        ({"trl": 10}, "field 'trl': value 10: Input should be less than or equal to 9"),
        ({"budget_eur": -1}, "field 'budget_eur': value -1: Input should be greater than or equal to 0"),
        ({"partners": 0}, "field 'partners': value 0: Input should be greater than or equal to 1"),
        ({"applicant_type": "bank"}, "field 'applicant_type': value 'bank': Input should be 'sme', 'startup', "
         "'large_enterprise', 'knowledge_institution', 'public_body' or 'nonprofit'"),
        ({"as_of": "30-11-2026"}, "field 'as_of': value '30-11-2026': Input should be a valid date or datetime, "
         "invalid character in year"),
        ({"top": 0}, "field 'top': value 0: Input should be greater than or equal to 1"),
        ({"top": 101}, "field 'top': value 101: Input should be less than or equal to 100"),
    ],
)  # fmt: skip
def test_match_rejects_bad_input_naming_field_and_value(client: TestClient, change: dict[str, Any], error: str) -> None:
    response = client.post("/v1/match", json={"text": HYDROGEN, **change})
    assert response.status_code == 422
    assert response.json()["error"] == error
    assert len(response.json()["detail"]) == 1


def test_match_without_text_or_with_broken_json_is_422(client: TestClient) -> None:
    missing = client.post("/v1/match", json={"region": "NL-GE"})
    assert (missing.status_code, missing.json()["error"]) == (422, "field 'text': Field required")
    broken = client.post("/v1/match", content=b'{"text": ', headers={"content-type": "application/json"})
    assert broken.status_code == 422
    assert broken.json()["error"].startswith("body: invalid JSON: ")


# -- POST /v1/triage -----------------------------------------------------------------------------------------------
def test_triage_keeps_input_order_and_numbers_rows_without_id(client: TestClient, tiny_matcher: Matcher) -> None:
    rows: list[dict[str, Any]] = [
        {"text": "Scholing en opleiding van onze werknemers", "as_of": AS_OF},
        {"id": 7, "text": HYDROGEN, "as_of": AS_OF},
        {"text": "Medische technologie voor de zorg", "as_of": AS_OF},
    ]
    response = client.post("/v1/triage", json={"proposals": rows, "top": 1})
    assert response.status_code == 200
    body = response.json()
    assert [(r["proposal_id"], ranked(r)) for r in body] == [
        ("1", [("nl-scholing", "unknown")]),
        ("7", [("nl-waterstof", "unknown")]),
        ("3", [("eu-zorg", "unknown")]),
    ]
    proposals = [
        Proposal(id=pid, text=row["text"], as_of=dt.date(2026, 11, 30)) for pid, row in zip("173", rows, strict=True)
    ]
    expected = app.triage(tiny_matcher, proposals, top_k=1, lang="nl")
    assert body == json.loads(json.dumps([r.to_dict() for r in expected]))


def test_triage_defaults_to_ten_matches_and_accepts_500_proposals(client: TestClient) -> None:
    one = client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}]}).json()
    assert len(one[0]["matches"]) == 5
    assert client.post("/v1/triage", json={"proposals": []}).json() == []
    full = client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}] * 500, "top": 1})
    assert full.status_code == 202  # more than MATCHER_JOB_ROWS: a background job (tests/test_service_jobs.py)
    done = wait_for_job(client, full.headers["location"])
    assert [r["proposal_id"] for r in done["results"]] == [str(n) for n in range(1, 501)]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"proposals": [{"text": "a"}] * 501},
            "field 'proposals': 501 proposals; at most 500 per request (use `matcher triage` for more)",
        ),
        (
            {"proposals": [{"text": "a"}], "format": "csv"},
            "field 'format': value 'csv': Extra inputs are not permitted",
        ),
        ({"proposals": [{"text": "a"}], "top": 0}, "field 'top': value 0: Input should be greater than or equal to 1"),
        ({"proposals": "a"}, "field 'proposals': value 'a': Input should be a valid list"),
        ({}, "field 'proposals': Field required"),
    ],
)
def test_triage_rejects_bad_requests(client: TestClient, body: dict[str, Any], error: str) -> None:
    response = client.post("/v1/triage", json=body)
    assert (response.status_code, response.json()["error"]) == (422, error)


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ({"text": "b", "trl": 0}, "proposal 2: field 'trl': value 0: Input should be greater than or equal to 1"),
        ({"text": "b", "budget_eur": -5}, "proposal 2: field 'budget_eur': value -5: "
         "Input should be greater than or equal to 0"),
        ({"text": "b", "region": "XX"}, "proposal 2: field 'region': value 'XX': "
         f"not a known region code; use one of {REGION_LIST}"),
        ({"text": "b", "x": 1}, "proposal 2: unknown column(s) 'x'; "
         "allowed: id, text, region, applicant_type, budget_eur, trl, partners, stage, as_of"),
        ({"text": "   "}, "proposal 2: field 'text': value '   ': " + EMPTY),
        ({"text": "y" * 20_001}, "proposal 2: field 'text': value " + repr("y" * 20_001)[:77] + "...: "
         "String should have at most 20000 characters"),
        ({"id": "q"}, "proposal 2: field 'text' is missing"),
    ],
)  # fmt: skip
def test_triage_rejects_a_bad_row_naming_row_field_and_value(
    client: TestClient, row: dict[str, Any], error: str
) -> None:
    response = client.post("/v1/triage", json={"proposals": [{"text": HYDROGEN}, row]})
    assert response.status_code == 422
    assert response.json() == {"error": error}


def test_triage_rejects_an_empty_text_row(client: TestClient) -> None:
    # The batch reader drops empty cells, so an empty text is reported as a missing field.
    response = client.post("/v1/triage", json={"proposals": [{"text": ""}]})
    assert response.status_code == 422
    assert response.json()["error"].startswith("proposal 1: field 'text': ")


# -- GET /v1/instruments -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("", ALL_IDS),
        ("?level=provincial", ["prov-gelderland-eiwit"]),
        ("?level=eu", ["eu-zorg"]),
        ("?region=NL-OV", ["nl-waterstof", "nl-scholing", "eu-zorg", "rom-oost-lening"]),
        ("?region=BE-VLG", ["eu-zorg"]),
        ("?region=NL", ["nl-waterstof", "nl-scholing", "eu-zorg"]),
        ("?theme=energy", ["nl-waterstof"]),
        ("?applicant_type=large_enterprise", ["nl-waterstof"]),
        ("?applicant_type=startup", ALL_IDS),  # a start-up counts as an SME
        ("?applicant_type=public_body", []),
        ("?open_on=2026-11-30", ["nl-waterstof", "nl-scholing", "eu-zorg", "rom-oost-lening"]),
        ("?level=regional&region=NL-GE&applicant_type=startup&open_on=2026-11-30", ["rom-oost-lening"]),
        ("?region=NL-GE&theme=agrifood", ["prov-gelderland-eiwit"]),
        ("?region=NL-GE&theme=agrifood&open_on=2025-01-01", ["prov-gelderland-eiwit"]),  # inside its last round
        ("?region=NL-GE&theme=agrifood&open_on=2025-02-01", ["prov-gelderland-eiwit"]),  # annual: between rounds
        ("?region=NL-GE&theme=agrifood&open_on=2026-03-15", []),  # over a year after it, nothing announced
    ],
)
def test_instruments_filters(client: TestClient, query: str, ids: list[str]) -> None:
    response = client.get(f"/v1/instruments{query}")
    assert response.status_code == 200
    assert [i["id"] for i in response.json()] == ids


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("open_on=2026-13-01", "field 'open_on': value '2026-13-01': "
         "Input should be a valid date or datetime, month value is outside expected range of 1-12"),
        ("open_on=soon", "field 'open_on': value 'soon': "
         "Input should be a valid date or datetime, input is too short"),
        ("region=NL-XX", "field 'region': value 'NL-XX': "
         f"not a known region code; use one of {REGION_LIST}"),
        ("level=local", "field 'level': value 'local': "
         "Input should be 'eu', 'national', 'provincial', 'regional' or 'municipal'"),
        ("theme=space", "field 'theme': value 'space': "
         "not a theme id; use one of energy, human-capital, agrifood, health-medtech, finance-scaleup"),
        ("status=open", "field 'status': value 'open': Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_instruments_rejects_bad_filters(client: TestClient, query: str, error: str) -> None:
    response = client.get(f"/v1/instruments?{query}")
    assert (response.status_code, response.json()["error"]) == (422, error)


def test_instrument_by_id_and_unknown_id(client: TestClient) -> None:
    body = client.get("/v1/instruments/eu-zorg").json()
    assert (body["id"], body["level"], body["min_amount_eur"], body["funding_rate"]) == ("eu-zorg", "eu", 500000, 0.7)
    assert "closes" not in body  # unknown facts are left out, not null
    missing = client.get("/v1/instruments/nl-onbekend")
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "unknown instrument id 'nl-onbekend'; `matcher instruments` lists them"},
    )


# -- GET /v1/regions, /health ----------------------------------------------------------------------------------------
def test_regions_lists_regions_and_collaborations(client: TestClient) -> None:
    body = client.get("/v1/regions").json()
    assert [(r["code"], r["name"]) for r in body["regions"]] == [
        ("NL-GE", "Gelderland"),
        ("NL-GR", "Groningen"),
        ("NL-ZH", "Zuid-Holland"),
    ]
    assert [(c["id"], c["regions"]) for c in body["collaborations"]] == [("noord-waterstof", ["NL-GR", "NL-ZH"])]


def test_health_reports_model_corpus_and_index(client: TestClient, tiny_matcher: Matcher) -> None:
    body = client.get("/health").json()
    assert set(body) == {"status", "model", "corpus_hash", "passages", "instruments", "feedback_rows", "uptime_s"}
    assert (body["status"], body["model"], body["instruments"], body["feedback_rows"]) == ("ok", "hashing", 5, 0)
    assert body["corpus_hash"] == tiny_matcher.corpus.hash
    assert body["passages"] == len(tiny_matcher.embeddings.passages) > 5
    assert body["uptime_s"] >= 0


# -- errors ----------------------------------------------------------------------------------------------------------
def test_unknown_route_and_wrong_method_answer_json(client: TestClient) -> None:
    assert (client.get("/v1/nothing").status_code, client.get("/v1/nothing").json()) == (404, {"error": "Not Found"})
    wrong = client.get("/v1/match")
    assert (wrong.status_code, wrong.json()) == (405, {"error": "Method Not Allowed"})


class BrokenMatcher:
    corpus = None

    def match(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals at /srv/app")


def test_unexpected_errors_answer_500_without_a_traceback(tiny_matcher: Matcher) -> None:
    app = create_app()
    app.dependency_overrides[get_matcher] = BrokenMatcher
    response = TestClient(app, raise_server_exceptions=False).post("/v1/match", json={"text": HYDROGEN})
    assert (response.status_code, response.json()) == (500, {"error": "internal error; the server log has the details"})
    assert "secret" not in response.text


def test_routes_answer_503_until_the_matcher_is_loaded() -> None:
    response = TestClient(create_app()).get("/health")  # no lifespan, no override
    assert response.status_code == 503
    assert response.json() == {"error": "the matcher is not loaded; the service is starting or failed to start"}


# -- lifespan and serve ----------------------------------------------------------------------------------------------
def test_lifespan_loads_the_matcher_once_from_settings(corpus_dir: Path, tmp_path: Path) -> None:
    settings = Settings(corpora=corpus_dir, artefacts=tmp_path / "artefacts", model="hashing")
    app = create_app(settings, ServiceSettings(db=tmp_path / "feedback.sqlite3"))
    with TestClient(app) as client:
        loaded = app.state.matcher
        assert client.get("/health").json()["model"] == "hashing"
        body = client.post("/v1/match", json={"text": HYDROGEN, "top": 1}).json()
        assert ranked(body) == [("nl-waterstof", "unknown")]
        assert app.state.matcher is loaded
    assert (tmp_path / "artefacts" / "hashing" / "manifest.json").is_file()
    assert app.state.matcher is None


def test_serve_passes_settings_to_uvicorn_workers_through_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn

    monkeypatch.setattr(os, "environ", os.environ.copy())  # serve() writes the environment: keep the real one
    for name in ("MATCHER_H2020", *THREAD_VARIABLES):
        os.environ.pop(name, None)
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    serve(Settings(corpora=tmp_path / "c", artefacts=tmp_path / "a", model="hashing"), "0.0.0.0", 8123, 1)
    config = log_config()
    assert calls == [
        (
            ("service.app:create_app",),
            {
                "factory": True,
                "host": "0.0.0.0",
                "port": 8123,
                "proxy_headers": False,
                "server_header": False,
                "log_config": config,
                "http": HeaderTimeoutH11,  # half-sent requests do not hold a connection (CONNECTION_LIMITS)
                "timeout_keep_alive": 5,
                "h11_max_incomplete_event_size": 64 * 1024,
            },
        )
    ]
    assert config["loggers"]["service"] == {"handlers": ["default"], "level": "INFO", "propagate": False}
    assert Settings.from_env() == Settings(corpora=tmp_path / "c", artefacts=tmp_path / "a", model="hashing")


def test_worker_environment_carries_every_setting_and_splits_threads(tmp_path: Path) -> None:
    settings = Settings(
        corpora=tmp_path / "c", artefacts=tmp_path / "a", model="hashing", extra=(tmp_path / "x", tmp_path / "y")
    )
    env = worker_environment(settings, workers=2, cores=4, current={"MKL_NUM_THREADS": "3"})
    assert env == {
        "MATCHER_CORPORA": str(tmp_path / "c"),
        "MATCHER_ARTEFACTS": str(tmp_path / "a"),
        "MATCHER_MODEL": "hashing",
        "MATCHER_EXTRA": f"{tmp_path / 'x'},{tmp_path / 'y'}",
        "MATCHER_INDEX": "exact",
        "OMP_NUM_THREADS": "2",
        "OPENBLAS_NUM_THREADS": "2",
    }
    one = worker_environment(None, workers=1, cores=2, current={})
    assert one == {}
    h2020 = worker_environment(Settings(h2020=tmp_path / "h"), workers=3, cores=2, current={})
    assert h2020["MATCHER_H2020"] == str(tmp_path / "h")
    assert h2020["OMP_NUM_THREADS"] == "1"


def test_several_workers_listen_on_a_socket_that_gets_tcp_nodelay(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import uvicorn.supervisors

    monkeypatch.setattr(os, "environ", os.environ.copy())  # serve() writes the environment: keep the real one
    for name in ("MATCHER_H2020", *THREAD_VARIABLES):
        os.environ.pop(name, None)
    cores = os.cpu_count() or 1
    seen: list[tuple[int, int, bool]] = []

    class FakeSupervisor:
        def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
            assert (config.workers, config.factory) == (3, True)
            seen.extend((s.proto, s.type, s.get_inheritable()) for s in sockets)
            self.sockets = sockets

        def run(self) -> None:
            for s in self.sockets:
                s.close()

    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", FakeSupervisor)
    serve(Settings(model="hashing"), "127.0.0.1", 0, 3)
    assert seen == [(socket.IPPROTO_TCP, socket.SOCK_STREAM, True)]
    assert os.environ["OMP_NUM_THREADS"] == str(max(1, cores // 3))


def test_openapi_documents_every_field_an_answer_carries(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    body = client.post("/v1/match", json={"text": "waterstof pilot elektrolyser", "region": "NL-GR"}).json()

    def fields(name: str) -> set[str]:
        return set(schemas[name]["properties"])

    assert set(body) == fields("MatchResult")
    assert set(body["matches"][0]) == fields("Match")
    assert set(body["matches"][0]["checks"][0]) == fields("CriterionCheck")
    assert set(body["matches"][0]["checks"][0]["reason"]) == fields("Reason")
    assert set(body["partner_regions"][0]) == fields("PartnerRegion")
    assert "similar_projects" in fields("Match")
    assert schemas["MatchResult"]["additionalProperties"] is False  # an undocumented field would fail conformance
