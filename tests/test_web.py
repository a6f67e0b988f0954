"""The web pages over the tiny matcher of conftest (swapped in with `dependency_overrides`; no real model).

Answers known in advance from the tiny corpus (as in test_service): a hydrogen pilot by an SME in Groningen at TRL 6
with 3 partners ranks nl-waterstof first, eligible on every check, with partner regions NL-ZH then NL-GE; training
ranks nl-scholing first and medical technology eu-zorg. The pages must show what the library returns, in its order.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from matcher import Matcher, Proposal, app
from matcher.io.batch import parse_proposals
from service.export import matches_csv
from service.security import ApiKey
from service.storage import FeedbackStore

from .conftest import service_client

AS_OF = "2026-11-30"
HYDROGEN = "Wij bouwen een waterstof pilot met een elektrolyser"
TRAINING = "Scholing en opleiding van onze werknemers"
MEDTECH = "Medische technologie voor de zorg"
FORM = {"text": HYDROGEN, "region": "NL-GR", "applicant_type": "sme", "trl": "6", "partners": "3", "as_of": AS_OF}
HEADER = "proposal_id,rank,instrument_id,name,level,score,eligibility,missed,unknown,why,flags"


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, in document order, plus the text of each element id."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def with_attr(self, name: str, tag: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.tags if name in a and (tag is None or t == tag)]


def instruments(page: str) -> list[tuple[str, str]]:
    return [(a["data-instrument"], a["data-eligibility"]) for a in Tags(page).with_attr("data-eligibility", "li")]


def checklist(page: str, instrument_id: str) -> list[tuple[str, str]]:
    card = page.split(f'id="m-{instrument_id}"', 1)[1].split("</li>\n    \n", 1)[0]
    return [(a["data-criterion"], a["data-status"]) for a in Tags(card).with_attr("data-criterion")]


def text_of(page: str) -> str:
    """The visible text of a page, whitespace collapsed (entities decoded)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


# -- the applicant page ----------------------------------------------------------------------------------------------
def test_applicant_page_is_dutch_by_default_with_a_label_for_every_field(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert '<html lang="nl">' in page
    assert '<a class="skip-link" href="#main">Naar de inhoud</a>' in page
    assert '<label for="f-text">Projectbeschrijving</label>' in page
    assert 'href="/?lang=en"' in page and ">English</a>" in page
    tags = Tags(page)
    labelled = {a["for"] for a in tags.with_attr("for", "label")}
    fields = [a["id"] for t, a in tags.tags if t in ("input", "select", "textarea")]
    assert fields == ["f-text", "f-region", "f-applicant_type", "f-budget_eur", "f-trl", "f-partners", "f-as_of"]
    assert set(fields) <= labelled
    region_select = page.split('id="f-region"', 1)[1].split("</select>", 1)[0]
    regions = [a["value"] for a in Tags(region_select).with_attr("value", "option")]
    assert regions == ["", "NL-GE", "NL-GR", "NL-ZH"]  # the corpus's regions, by name
    assert 'id="results"' not in page


def test_english_switch_is_remembered_in_a_cookie(client: TestClient) -> None:
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text
    assert '<label for="f-text">Project description</label>' in english.text
    assert english.cookies["lang"] == "en"
    assert 'href="/?lang=nl"' in english.text and ">Nederlands</a>" in english.text
    again = client.get("/adviser")  # the cookie travels: the other page is English too
    assert '<html lang="en">' in again.text
    assert "<h1>Triage of proposals</h1>" in again.text
    back = client.get("/adviser?lang=nl")
    assert "<h1>Triage van voorstellen</h1>" in back.text and back.cookies["lang"] == "nl"
    assert client.get("/?lang=fr").text.count('<html lang="nl">') == 1  # an unknown language falls back to Dutch


def test_posted_form_shows_the_ranked_instruments_checklist_flags_and_partners(
    client: TestClient, tiny_matcher: Matcher
) -> None:
    response = client.post("/", data=FORM)
    assert response.status_code == 200
    page = response.text
    expected = app.match(tiny_matcher, Proposal.model_validate(FORM), lang="nl")
    assert instruments(page) == [(m.instrument_id, m.eligibility) for m in expected.matches]
    assert instruments(page)[:3] == [("nl-waterstof", "eligible"), ("eu-zorg", "unknown"), ("nl-scholing", "eligible")]
    assert checklist(page, "nl-waterstof") == [
        ("region", "met"),
        ("applicant_type", "met"),
        ("trl", "met"),
        ("partners", "met"),
        ("deadline", "met"),
    ]
    assert [a["data-region"] for a in Tags(page).with_attr("data-region", "li")] == ["NL-ZH", "NL-GE"]
    assert [a["data-flag"] for a in Tags(page).with_attr("data-flag")] == ["missing_budget"]
    text = text_of(page)
    assert "1. Waterstofpilots Komt in aanmerking" in text
    assert "Budget ontbreekt" in text
    for line in expected.matches[0].why + expected.partner_regions[0].why:
        assert line in text
    assert "Regio (voldaan) : NL-GR valt binnen NL" in text
    assert f">{HYDROGEN}</textarea>" in page  # the form keeps what was typed


def test_get_with_a_query_renders_the_same_results_and_the_switch_keeps_the_form(
    client: TestClient, tiny_matcher: Matcher
) -> None:
    posted = client.post("/", data=FORM).text
    got = client.get("/", params=FORM)
    assert got.status_code == 200
    assert instruments(got.text) == instruments(posted)
    # The switch posts the filled-in form to the page in the other language: the proposal never goes into a URL.
    assert "text=Wij" not in posted and not any("Wij" in a.get("href", "") for a in Tags(posted).with_attr("href"))
    switch = next(a["action"] for a in Tags(posted).with_attr("class", "form") if a["class"] == "lang-form")
    assert switch == "/?lang=en"
    hidden = {a["name"]: a["value"] for a in Tags(posted).with_attr("type", "input") if a["type"] == "hidden"}
    assert hidden == {k: v for k, v in FORM.items() if v}
    english = client.post(switch, data=hidden)
    assert '<html lang="en">' in english.text and instruments(english.text) == instruments(posted)
    text = text_of(english.text)
    assert "1. Waterstofpilots Eligible" in text
    # The page's language, not the proposal's: a Dutch text gets English checks, why lines and next steps.
    expected = app.match(tiny_matcher, Proposal.model_validate(FORM), lang="en")
    top = expected.matches[0]
    assert top.why[0] == "Shared themes: Energy" and top.next_steps[-1].startswith("Read the conditions: ")
    for line in top.why + top.next_steps + expected.partner_regions[0].why:
        assert line in text
    assert "Region (met) : NL-GR lies within NL" in text and "Deadline (met) : Open all year" in text
    assert "Gedeelde thema's" not in text and "valt binnen" not in text


@pytest.mark.parametrize(
    ("change", "lang", "field", "message"),
    [
        ({"text": ""}, "nl", "text", "Projectbeschrijving: beschrijf het project in een paar zinnen."),
        ({"text": "  \n "}, "en", "text", "Project description: describe the project in a few sentences."),
        ({"budget_eur": "abc"}, "nl", "budget_eur",
         "Projectbudget (euro): 'abc' is geen bedrag in euro's; schrijf bijvoorbeeld 250000, 250.000, 1,5 miljoen "
         "of 35k."),
        ({"budget_eur": "veel"}, "en", "budget_eur",
         "Project budget (euro): 'veel' is not an amount in euros; write it like 250000, 250,000, 1.5 million or 35k."),
        ({"budget_eur": "1,500"}, "en", "budget_eur",
         "Project budget (euro): '1,500' is ambiguous: 1500 in English notation or 1.5 in Dutch notation. Write it "
         "without the comma or with a dot for thousands."),
        ({"budget_eur": "-5"}, "nl", "budget_eur", "Projectbudget (euro): '-5' is negatief; een bedrag is 0 of meer."),
        ({"partners": "0"}, "nl", "partners", "Aantal partners (inclusief uzelf): '0' moet minstens 1 zijn."),
        ({"partners": "2.5"}, "en", "partners",
         "Number of partners (including yourself): '2.5' is not a whole number."),
        ({"trl": "12"}, "en", "trl", "Technology Readiness Level (TRL, 1-9): '12' should be at most 9."),
        ({"as_of": "30-11-2026"}, "nl", "as_of", "Peildatum: '30-11-2026' is geen datum; gebruik JJJJ-MM-DD."),
        ({"region": "NL-XX"}, "nl", "region", "Provincie of regio: 'NL-XX' is geen geldige keuze."),
        ({"applicant_type": "bank"}, "en", "applicant_type", "Applicant type: 'bank' is not one of the choices."),
        ({"text": "x" * 20_001}, "en", "text", "Project description: too long, at most 20000 characters."),
    ],
)  # fmt: skip
def test_bad_input_is_422_with_the_field_named_on_the_page(
    client: TestClient, change: dict[str, str], lang: str, field: str, message: str
) -> None:
    response = client.post(f"/?lang={lang}", data={**FORM, **change})
    assert response.status_code == 422
    page = response.text
    assert f'<html lang="{lang}">' in page
    assert f'<li><a href="#f-{field}">{message}</a></li>' in page.replace("&#39;", "'")
    assert f'<p class="field-error" id="f-{field}-error">{message}</p>' in page.replace("&#39;", "'")
    invalid = [a["id"] for a in Tags(page).with_attr("aria-invalid")]
    assert invalid == [f"f-{field}"]
    assert "Traceback" not in page and 'id="results"' not in page


def test_several_bad_fields_are_all_reported(client: TestClient) -> None:
    response = client.post("/", data={"text": "", "budget_eur": "abc", "partners": "nul"})
    assert response.status_code == 422
    assert [a["id"] for a in Tags(response.text).with_attr("aria-invalid")] == ["f-text", "f-budget_eur", "f-partners"]


def test_form_values_are_escaped(client: TestClient) -> None:
    page = client.post("/", data={**FORM, "text": "<script>alert(1)</script>", "budget_eur": '"><b>x'}).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '"><b>x' not in page


# -- the adviser page ------------------------------------------------------------------------------------------------
def upload(client: TestClient, name: str, content: str | bytes, top: str = "3", lang: str = "nl") -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post(f"/adviser?lang={lang}", files={"file": (name, data, "text/csv")}, data={"top": top})


def triage_rows(page: str) -> list[tuple[str, list[str]]]:
    rows = [Tags("<tr " + row) for row in page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr ")[1:]]
    return [(row.tags[0][1]["data-proposal"], [a["data-instrument"] for a in row.with_attr("data-instrument", "li")])
            for row in rows]  # fmt: skip


def test_adviser_page_has_a_labelled_upload_form(client: TestClient) -> None:
    page = client.get("/adviser").text
    assert '<label for="f-file">Bestand met voorstellen (.csv, .tsv, .xlsx of .jsonl)</label>' in page
    assert '<label for="f-top">Aantal regelingen per voorstel</label>' in page
    assert 'enctype="multipart/form-data"' in page and "<table" not in page


def test_adviser_upload_renders_one_row_per_proposal_and_a_csv_download(
    client: TestClient, tiny_matcher: Matcher
) -> None:
    content = f'id,text,as_of,adviseur\nt1,{TRAINING},{AS_OF},Anna\nw7,"{HYDROGEN}",{AS_OF},Bram\n,{MEDTECH},{AS_OF},\n'
    response = upload(client, "export.csv", content)
    assert response.status_code == 200
    page = response.text
    rows = triage_rows(page)
    assert [(pid, ids[0]) for pid, ids in rows] == [("t1", "nl-scholing"), ("w7", "nl-waterstof"), ("3", "eu-zorg")]
    assert all(len(ids) == 3 for _, ids in rows)
    assert '<th scope="col">Voorstel</th>' in page and '<th scope="row">' in page
    assert "3 voorstellen uit export.csv." in text_of(page)
    assert "Regio ontbreekt" in text_of(page)  # the flags, in the page's language
    download = next(a for a in Tags(page).with_attr("download", "a"))
    assert download["href"].startswith("data:text/csv;charset=utf-8,")
    csv_text = unquote(download["href"].split(",", 1)[1])
    expected = app.triage(tiny_matcher, parse_proposals(content, "x", ".csv"), top_k=3, lang="nl")
    assert csv_text == matches_csv(expected)
    assert csv_text.splitlines()[0] == HEADER
    assert len(list(csv.DictReader(io.StringIO(csv_text)))) == 9
    buttons = Tags(page).with_attr("data-feedback", "button")
    assert len(buttons) == 18  # right and wrong for each of the 9 matches
    assert (buttons[0]["data-proposal"], buttons[0]["data-instrument"], buttons[0]["data-feedback"]) == (
        "t1",
        "nl-scholing",
        "right",
    )
    assert 'src="/static/app.js?v=' in page


def test_adviser_upload_is_stored_as_a_triage_run_like_the_api(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    key = "sleutel-van-oost"
    digest = hashlib.sha256(key.encode()).hexdigest()
    client = service_client(tiny_matcher, store, api_keys=(ApiKey(digest, "adviser", "rom-oost"),))
    content = f"id,text,as_of\nt1,{TRAINING},{AS_OF}\nw7,{HYDROGEN},{AS_OF}\n"
    api = client.post(
        "/v1/triage/upload?top=3&lang=en",
        files={"file": ("export.csv", content.encode(), "text/csv")},
        headers={"X-API-Key": key},
    )
    page = client.post(
        "/adviser?lang=en",
        files={"file": ("export.csv", content.encode(), "text/csv")},
        data={"top": "3", "api_key": key},
    )
    api_id, page_id = api.headers["x-triage-run"], page.headers["x-triage-run"]
    assert api_id != page_id and len(page_id) >= 20
    assert f"Stored as triage run {page_id}. Gap analysis of these proposals (JSON, with your API key in X-API-Key): " \
        f"GET /v1/gaps?run={page_id}" in text_of(page.text)  # fmt: skip
    assert Tags(page.text).with_attr("data-run", "p") == [{"class": "run", "id": "run", "data-run": page_id}]
    assert key not in page.text  # the key is not echoed into the page
    page_run, api_run = store.run(page_id), store.run(api_id)
    assert (page_run.source, page_run.row_count, page_run.top) == (api_run.source, api_run.row_count, api_run.top)
    assert page_run.organisation == api_run.organisation == "rom-oost"
    assert page_run.results == api_run.results  # both asked for English
    assert store.run_proposals(page_id) == store.run_proposals(api_id) == parse_proposals(content, "x", ".csv")


def test_a_refused_adviser_upload_stores_no_run(client: TestClient, store: FeedbackStore) -> None:
    assert upload(client, "bad.csv", "id,text\na,x,extra\n").status_code == 422
    assert upload(client, "ok.csv", f"text\n{HYDROGEN}\n", top="0").status_code == 422
    assert store.count_runs() == 0


@pytest.mark.parametrize(
    ("name", "content", "lang", "message"),
    [
        ("bad.csv", "text,budget_eur\nok,-1\n", "nl",
         "Het bestand kon niet worden verwerkt: bad.csv: row 1: field 'budget_eur': value '-1': "
         "an amount cannot be negative"),
        ("bad.csv", "id,text\na,x,extra\n", "en",
         "The file could not be processed: bad.csv: row 1 (line 2): more values than header columns"),
        ("notes.txt", "text\nx\n", "nl",
         "Het bestand kon niet worden verwerkt: notes.txt: unknown file type '.txt'; use .csv, .tsv, .jsonl or .xlsx"),
        ("bad.csv", b"text\n\x81\x8d", "en",
         "The file could not be processed: bad.csv: neither UTF-8 (byte 5) nor cp1252 (byte 5); save it as UTF-8, "
         "or name its encoding (--encoding)"),
    ],
)  # fmt: skip
def test_a_malformed_file_shows_a_clear_error(
    client: TestClient, name: str, content: str | bytes, lang: str, message: str
) -> None:
    response = upload(client, name, content, lang=lang)
    assert response.status_code == 422
    page = response.text.replace("&#39;", "'")
    assert f'<p class="field-error" id="f-file-error">{message}</p>' in page
    assert "<table" not in page and "Traceback" not in page


def test_adviser_asks_for_a_file_and_a_valid_top(client: TestClient) -> None:
    missing = client.post("/adviser", data={"top": "3"})
    assert missing.status_code == 422
    label = "Bestand met voorstellen (.csv, .tsv, .xlsx of .jsonl)"
    assert f'<li><a href="#f-file">{label}: kies een bestand.</a></li>' in missing.text
    bad_top = upload(client, "ok.csv", f"text\n{HYDROGEN}\n", top="0", lang="en")
    assert bad_top.status_code == 422
    assert "Schemes per proposal: &#39;0&#39; should be at least 1." in bad_top.text


# -- shared behaviour ------------------------------------------------------------------------------------------------
def test_pages_load_nothing_from_other_hosts(client: TestClient, tiny_matcher: Matcher) -> None:
    pages = [
        client.get("/").text,
        client.post("/", data=FORM).text,
        client.get("/adviser").text,
        upload(client, "p.csv", f"text\n{HYDROGEN}\n{TRAINING}\n").text,
    ]
    sources = {str(i.source.url) for i in tiny_matcher.corpus.instruments}
    for page in pages:
        tags = Tags(page)
        for tag, attrs in tags.tags:
            for name in ("src", "href", "action"):
                value = attrs.get(name, "")
                if re.match(r"(?:https?:)?//", value, re.I):
                    # Only the links to a scheme's public source page leave the site, and only when clicked.
                    assert (tag, attrs.get("class"), value in sources) == ("a", "source-link", True), attrs
                    assert attrs["rel"] == "external noopener noreferrer"
    assert pages[1].count('class="source-link"') == 5
    for asset in ("/static/app.css", "/static/app.js"):
        response = client.get(asset)
        assert response.status_code == 200
        assert not re.search(r"https?://|@import|url\(\s*['\"]?(?!data:)", response.text)


def test_pages_send_a_strict_content_security_policy(client: TestClient) -> None:
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy


def test_the_pages_share_the_rate_limit_of_the_api(tiny_matcher: Matcher, store: FeedbackStore) -> None:
    client = service_client(tiny_matcher, store, rate_per_minute=2)
    assert client.get("/").status_code == 200  # the empty form runs no match and costs nothing
    assert client.post("/", data=FORM).status_code == 200
    assert client.post("/v1/match", json={"text": HYDROGEN}).status_code == 200
    over = client.post("/", data=FORM)
    assert over.status_code == 429
    assert int(over.headers["retry-after"]) > 0
    assert f"Te veel verzoeken; probeer het over {over.headers['retry-after']} seconden opnieuw." in over.text
    assert client.post("/", data={"text": ""}).status_code == 422  # a form error is told before the limit
    assert upload(client, "p.csv", f"text\n{HYDROGEN}\n").status_code == 429


def test_pages_stay_out_of_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/adviser" not in paths and "/v1/match" in paths


def test_the_page_says_what_it_read_from_the_text_and_when_nothing_fits(client: TestClient) -> None:
    page = client.post("/", data={"text": "Wij zijn een stichting in Arnhem en zoeken een oppas voor 35.000 euro"}).text
    text = text_of(page)
    assert "Gelezen uit uw tekst" in text
    assert "Provincie of regio: NL-GE (arnhem)" in text
    assert "Projectbudget (euro): € 35.000 (35.000 euro)" in text
    nonsense = text_of(client.post("/?lang=en", data={"text": "qqq zzz xxx"}).text)
    assert "No instrument fits this proposal well." in nonsense
