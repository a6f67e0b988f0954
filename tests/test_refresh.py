"""`matcher refresh`: the F&T search API and the CVDR search service, served from recorded answers in their formats
(tests/data/refresh/, sources in its README) through `httpx.MockTransport`; the network is never used."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from matcher import app, load_corpus
from matcher.cli import main
from matcher.io.refresh import (
    CvdrSearch,
    FtSearch,
    RefreshError,
    RefreshResult,
    refresh_cvdr,
    refresh_ft_topics,
    topic_of,
)
from matcher.io.refresh.cvdr import SRU_URL
from matcher.io.refresh.ft_search import SEARCH_URL
from matcher.settings import Settings

from .conftest import BUNDLED, bundled_corpus

DATA = Path(__file__).parent / "data" / "refresh"
AS_OF = dt.date(2026, 12, 1)
Handler = Callable[[httpx.Request], httpx.Response]


def ft_pages(prefix: str = "ft-search-", seen: list[httpx.Request] | None = None) -> Handler:
    """The search API: page N of the recording `<prefix>pageN.json`."""

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, content=(DATA / f"{prefix}page{request.url.params['pageNumber']}.json").read_bytes())

    return handle


def cvdr_pages(edit: Callable[[bytes], bytes] = lambda b: b, seen: list[httpx.Request] | None = None) -> Handler:
    """The SRU service: records 1-4 and 5-7 of the recording."""

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        page = "cvdr-sru-page1.xml" if request.url.params["startRecord"] == "1" else "cvdr-sru-page2.xml"
        return httpx.Response(200, content=edit((DATA / page).read_bytes()))

    return handle


def ft(handler: Handler, **settings: int) -> FtSearch:
    return FtSearch(httpx.MockTransport(handler), page_size=2, backoff_s=0, **settings)


def cvdr(handler: Handler, **settings: int) -> CvdrSearch:
    return CvdrSearch(httpx.MockTransport(handler), page_size=4, backoff_s=0, **settings)


def refresh_ft(out: Path, search: FtSearch) -> RefreshResult:
    corpus = bundled_corpus()
    mappings = corpus.mappings
    return refresh_ft_topics(
        out, AS_OF, search, corpus.themes, programmes=mappings.ft_programmes, parents=mappings.ft_parents
    )


def refresh_cv(out: Path, search: CvdrSearch) -> RefreshResult:
    return refresh_cvdr(out, AS_OF, search, bundled_corpus().themes, places=bundled_corpus().places)


def answering(body: bytes) -> Handler:
    return lambda request: httpx.Response(200, content=body)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- the F&T search API --------------------------------------------------------------------------------------------
def test_ft_search_walks_the_pages_the_total_needs() -> None:
    seen: list[httpx.Request] = []
    results = ft(ft_pages(seen=seen)).results()
    assert [r["reference"] for r in results] == ["48100001TOPICSen", "48100002TOPICSen", "48100003TOPICSen"]
    assert [(r.method, r.url.params["pageNumber"], r.url.params["pageSize"]) for r in seen] == [
        ("POST", "1", "2"),
        ("POST", "2", "2"),
    ]
    assert seen[0].url.params["apiKey"] == "SEDIA" and seen[0].url.params["text"] == "***"
    body = seen[0].read().decode()
    assert 'name="query"' in body and '"31094502"' in body and 'name="languages"' in body


def test_ft_search_refuses_more_pages_than_the_maximum() -> None:
    with pytest.raises(RefreshError, match=r"3 results make 2 pages of 2, more than the maximum of 1"):
        ft(ft_pages(), max_pages=1).results()


def test_a_search_result_becomes_the_topic_object_the_importer_reads() -> None:
    page = json.loads((DATA / "ft-search-page1.json").read_text())
    topic = topic_of(page["results"][0], AS_OF)
    assert topic == topic | {
        "topicId": "HORIZON-CL5-2027-01-D3-11",
        "title": "Hydrogen storage in industrial clusters",
        "programme": "Horizon Europe",
        "programmeId": "43108390",
        "callIdentifier": "HORIZON-CL5-2027-01",
        "callTitle": "Climate, Energy and Mobility",
        "deadline": "2027-01-20",
        "callStatus": "open",
        "portalUrl": "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
        "topic-details/horizon-cl5-2027-01-d3-11",
        "budgetMin": 4000000,
        "budgetMax": 6000000,
        "expectedGrants": 2,
        "keywords": "hydrogen, energy storage",
        "typesOfAction": "HORIZON Research and Innovation Actions",
    }
    assert topic["description"].startswith("<p><span>Expected Outcome:")
    assert topic_of(page["results"][1], AS_OF)["callStatus"] == "forthcoming"
    later = json.loads((DATA / "ft-search-page2.json").read_text())["results"][0]
    multiple = topic_of(later, AS_OF)
    assert multiple["deadline"] == "2027-02-11"  # the next cut-off on the day, not the passed one
    assert "budgetMin" not in multiple  # zero amounts in the budget overview: not published
    assert topic_of(later, dt.date(2027, 6, 1))["deadline"] == "2027-02-11"  # all passed: the last one


def test_refresh_twice_says_what_is_new_changed_and_closed(tmp_path: Path) -> None:
    out = tmp_path / "imported"
    first = refresh_ft(out, ft(ft_pages()))
    assert first.changes.summary() == "ft-topics: 3 new, 0 changed, 0 closed; rounds: 0 new, 0 changed, 0 removed"
    assert (first.fetched, first.imported, first.problems) == (3, 3, [])
    assert sorted(p.name for p in out.iterdir()) == ["ft-topics.jsonl", "ft-topics.yaml"]

    second = refresh_ft(out, ft(ft_pages("ft-search-later-")))
    assert second.changes.summary() == "ft-topics: 1 new, 1 changed, 1 closed; rounds: 0 new, 1 changed, 0 removed"
    assert second.changes.lines() == [
        "  new     eu-ft-cef-e-2027-pci-works  Works on cross-border energy grids",
        "  changed eu-ft-horizon-cl5-2027-01-d3-11  Hydrogen storage in industrial clusters"
        "  (round ?..2027-01-20 -> ?..2027-02-03)",
        "  closed  eu-ft-digital-2027-ai-09-testbed  Testing facilities for AI in manufacturing  (no longer listed)",
    ]
    corpus = load_corpus(BUNDLED, extra=[out])  # the folder loads with the bundled corpora
    hydrogen = next(i for i in corpus.instruments if i.id == "eu-ft-horizon-cl5-2027-01-d3-11")
    assert [r.closes for r in hydrogen.rounds] == [dt.date(2027, 2, 3)]
    assert hydrogen.parent == "eu-horizon-collaborative" and hydrogen.max_amount_eur == 6_000_000


def test_a_malformed_answer_is_refused_with_its_url_and_the_folder_kept(tmp_path: Path) -> None:
    out = tmp_path / "imported"
    refresh_ft(out, ft(ft_pages()))
    (out / "projects.jsonl").write_text("")  # another import's file in the same folder
    before = snapshot(out)
    bodies = [b"<html><body>Service unavailable</body></html>", b'{"message": "quota exceeded"}']
    for body in bodies:
        expected = rf"^{re.escape(SEARCH_URL)}\?apiKey=SEDIA.*pageNumber=1: (the answer is not JSON|not the search API)"
        with pytest.raises(RefreshError, match=expected):
            refresh_ft(out, ft(answering(body)))
        assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["imported"]  # no staging folder left


def test_a_time_out_is_an_error_naming_the_url_after_the_retries(tmp_path: Path) -> None:
    out = tmp_path / "imported"
    refresh_ft(out, ft(ft_pages()))
    before = snapshot(out)
    calls: list[int] = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(
        RefreshError, match=rf"^{re.escape(SEARCH_URL)}\?.*pageNumber=1: no answer within 60 s \(3 tries\)"
    ):
        refresh_ft(out, ft(slow))
    assert len(calls) == 3 and snapshot(out) == before


def test_a_server_error_is_tried_again_and_a_client_error_is_not() -> None:
    answers = [httpx.Response(503), httpx.Response(502)]

    def flaky(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else ft_pages()(request)

    assert len(ft(flaky).results()) == 3 and answers == []
    with pytest.raises(RefreshError, match=r"pageNumber=1: answered HTTP 404 Not Found"):
        ft(lambda request: httpx.Response(404)).results()


# -- CVDR ----------------------------------------------------------------------------------------------------------
def test_cvdr_walks_the_records_and_keeps_the_subsidy_schemes_of_provinces_and_municipalities(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    result = refresh_cv(tmp_path / "imported", cvdr(cvdr_pages(seen=seen)))
    assert [(r.url.params["startRecord"], r.url.params["maximumRecords"]) for r in seen] == [("1", "4"), ("5", "4")]
    assert seen[0].url.params["x-connection"] == "cvdr" and seen[0].url.params["version"] == "1.2"
    assert (result.fetched, result.imported) == (6, 3)  # Leerdam (since 2019 in Vijfheerenlanden) is a town of ours
    assert dict(result.skipped) == {
        "not a province or municipality": 1,  # a water board
        "no theme": 1,  # the general subsidy regulation
        "no longer in force": 1,  # ended 2024-12-31
    }
    imported = {i.id: i for i in load_corpus(BUNDLED, extra=[tmp_path / "imported"]).instruments if "-cvdr-" in i.id}
    gelderland, rotterdam = imported["prov-cvdr-700001"], imported["mun-cvdr-700002"]
    leerdam = next(i for i in imported.values() if i.id not in {gelderland.id, rotterdam.id})
    assert (leerdam.level, leerdam.regions, leerdam.municipalities) == ("municipal", ("NL-UT",), ("Leerdam",))
    assert (gelderland.id, gelderland.level, gelderland.regions, gelderland.administrator) == (
        "prov-cvdr-700001",
        "provincial",
        ("NL-GE",),
        "Provincie Gelderland",
    )
    assert gelderland.themes == ("sme-innovation", "digitalisation")
    assert [(r.opens, r.closes) for r in gelderland.rounds] == [(dt.date(2025, 1, 1), None)]  # first version on
    assert (str(gelderland.source.url), gelderland.source.as_of) == (
        "https://lokaleregelgeving.overheid.nl/CVDR700001/2",
        dt.date(2026, 2, 17),
    )
    assert gelderland.summary == (
        "Regeling van Provincie Gelderland, gepubliceerd in CVDR: "
        "Subsidieregeling MKB-innovatie en digitalisering Gelderland."
    )
    assert gelderland.criteria == (
        "Voorwaarden, doelgroep en bedragen: zie de regeling CVDR700001 op lokaleregelgeving.overheid.nl.",
    )
    assert gelderland.min_amount_eur is None and gelderland.funding_rate is None  # not in the answer
    assert (rotterdam.id, rotterdam.level, rotterdam.regions, rotterdam.municipalities) == (
        "mun-cvdr-700002",
        "municipal",
        ("NL-ZH",),
        ("Rotterdam",),
    )
    assert [(r.opens, r.closes) for r in rotterdam.rounds] == [(dt.date(2026, 1, 1), dt.date(2027, 12, 31))]


def test_cvdr_refresh_says_what_changed(tmp_path: Path) -> None:
    out = tmp_path / "imported"
    refresh_cv(out, cvdr(cvdr_pages()))
    ended = cvdr_pages(lambda b: b.replace(b"2027-12-31", b"2027-06-30"))
    changes = refresh_cv(out, cvdr(ended)).changes
    assert changes.summary() == "cvdr: 0 new, 1 changed, 0 closed; rounds: 0 new, 1 changed, 0 removed"
    assert changes.lines() == [
        "  changed mun-cvdr-700002  Subsidieregeling verduurzaming maatschappelijk vastgoed Rotterdam 2026"
        "  (round 2026-01-01..2027-12-31 -> 2026-01-01..2027-06-30)"
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ((DATA / "cvdr-sru-diagnostic.xml").read_bytes(), "the service reports: Query syntax error; dcterms.titel"),
        (b"<html><body>Onderhoud</body></html>", "not an SRU searchRetrieveResponse"),
        (b"<searchRetrieveResponse><numberOfRecords>", "the answer is not XML"),
        (
            b"<searchRetrieveResponse><numberOfRecords>1</numberOfRecords><records><record><recordData>"
            b"<dc/></recordData></record></records></searchRetrieveResponse>",
            "record 1: not a CVDR record",
        ),
    ],
)
def test_a_cvdr_answer_in_another_format_is_refused_with_its_url(tmp_path: Path, body: bytes, message: str) -> None:
    out = tmp_path / "imported"
    refresh_cv(out, cvdr(cvdr_pages()))
    before = snapshot(out)
    with pytest.raises(RefreshError) as caught:
        refresh_cv(out, cvdr(answering(body)))
    assert str(caught.value).startswith(f"{SRU_URL}?x-connection=cvdr") and message in str(caught.value)
    assert snapshot(out) == before


def test_cvdr_refuses_more_pages_than_the_maximum() -> None:
    with pytest.raises(RefreshError, match=r"7 records make 2 pages of 4, more than the maximum of 1 \(narrow"):
        cvdr(cvdr_pages(), max_pages=1).regulations()


def test_cvdr_creators_narrow_the_query() -> None:
    search = CvdrSearch(creators=["Gelderland", "Rotterdam"])
    assert search.query().endswith('and (dcterms.creator="Gelderland" or dcterms.creator="Rotterdam")')


# -- front door and CLI --------------------------------------------------------------------------------------------
def test_the_app_functions_use_the_bundled_taxonomy_and_gazetteer(tmp_path: Path) -> None:
    settings = Settings.from_env(corpora=BUNDLED)
    ft_result = app.refresh_ft_topics(settings, tmp_path / "a", AS_OF, transport=httpx.MockTransport(ft_pages()))
    assert ft_result.imported == 3 and ft_result.target == tmp_path / "a" / "ft-topics.yaml"
    cv_result = app.refresh_cvdr(
        settings, tmp_path / "b", AS_OF, ["Gelderland"], transport=httpx.MockTransport(cvdr_pages())
    )
    assert cv_result.imported == 3  # the recording answers the same; the query carried the creator


def test_the_cli_refuses_a_refresh_without_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["refresh", "cvdr", "--creator", "Gelderland"])
    assert caught.value.code == 2 and "--out" in capsys.readouterr().err
